"""Comparing one returned value with its reference: type, shape, dtype, finiteness, values.

Each check returns a `Check`: ok, the relative error (when values were compared) and a message
written for the student.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOL = 1e-7  # float64 relative error a correct implementation stays well below (it is ~1e-15)
MATCH_TOL = 1e-6  # how close a value must be to a mistake's signature to earn that hint


@dataclass
class Check:
    ok: bool
    message: str = ""
    err: float = float("nan")
    comparable: bool = False  # the value had the right type and shape, so err was computed


def rel_error(a, b) -> float:
    """max |a - b| / max(|a| + |b|, floor), element-wise; the floor (1e-6 of the largest |b|) keeps
    entries that are zero up to rounding from dominating. Identical arrays give 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    floor = max(1e-6 * float(np.max(np.abs(b))), 1e-300)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))


def fmt_err(err: float) -> str:
    return f"{err:.1e}"


def describe(value) -> str:
    """A short description of what came back, for messages."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_array(value, ref: np.ndarray, name: str, *, dims: str = "", integer: bool = False,
                tol: float = TOL) -> Check:
    """Check `value` against the reference array `ref`.

    name: what the student calls it ("dWh"); dims: the shape in letters ("(H, H)") for messages;
    integer: indices are expected (any integer dtype), compared exactly.
    """
    expected = f"a NumPy array of shape {shape_str(ref.shape)}" + (f" {dims}" if dims else "")
    if isinstance(value, list):
        return Check(False, f"{name}: returned a list, expected {expected}")
    if not isinstance(value, np.ndarray):
        return Check(False, f"{name}: returned {describe(value)}, expected {expected}")
    if value.shape != ref.shape:
        msg = f"{name} has shape {shape_str(value.shape)}, expected {shape_str(ref.shape)}{(' ' + dims) if dims else ''}"
        if value.ndim == 2 and value.shape == ref.shape[::-1]:
            msg += " — did you transpose?"
        elif value.size == ref.size:
            msg += " — same number of entries: a reshape or a wrong axis order?"
        elif value.ndim < ref.ndim:
            msg += " — did you sum over an axis you should have kept?"
        return Check(False, msg)
    if integer:
        if value.dtype.kind not in "iu":
            return Check(False, f"{name} has dtype {value.dtype}, expected an integer dtype (indices)")
        wrong = np.flatnonzero(value.reshape(-1) != ref.reshape(-1))
        if wrong.size:
            return Check(False, f"{name} differs from the reference at position {int(wrong[0])} "
                                f"({int(wrong.size)} of {ref.size} entries differ)", err=1.0, comparable=True)
        return Check(True, "", err=0.0, comparable=True)
    if value.dtype != np.float64:
        return Check(False, f"{name} has dtype {value.dtype}, expected float64 "
                            "(keep float64 throughout so gradients can be checked to 1e-7)")
    if not np.all(np.isfinite(value)):
        bad = "NaN" if np.isnan(value).any() else "inf"
        return Check(False, f"{name} contains {bad}")
    err = rel_error(value, ref)
    if err > tol:
        return Check(False, f"{name} is wrong: relative error {fmt_err(err)} (must be ≤ {tol:.0e})",
                     err=err, comparable=True)
    return Check(True, "", err=err, comparable=True)


def check_scalar(value, ref: float, name: str, *, tol: float = TOL) -> Check:
    """A float (Python or NumPy scalar, or a 0-d / one-element float array)."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind == "f":
        value = value.reshape(()).item()
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (float, int)):
        return Check(False, f"{name}: returned {describe(value)}, expected a float")
    if not np.isfinite(value):
        return Check(False, f"{name} is {value}")
    err = rel_error(np.array([value]), np.array([ref]))
    if err > tol:
        return Check(False, f"{name} is wrong: {value:.6g}, expected {ref:.6g} (relative error "
                            f"{fmt_err(err)}, must be ≤ {tol:.0e})", err=err, comparable=True)
    return Check(True, "", err=err, comparable=True)
