"""Feedback that localises: which call failed and why, the time step where a sequence goes wrong,
and hints for known mistakes recognised by their signatures (see `references.mistakes`)."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .checks import MATCH_TOL, TOL, fmt_err, rel_error
from .protocol import CallResult


def call_failure(name: str, result: CallResult, cell_errors: Iterable[str] = ()) -> str:
    """One line saying why calling `name` in the submission did not return normally."""
    err = (result.error or "").strip()
    if result.kind == "exception" and err.startswith("NotImplementedError"):
        return f"NotImplementedError: {name} is not implemented yet"
    if result.kind == "missing":
        msg = f"{name} is not defined in the submission"
        cells = [c for c in cell_errors if c]
        if cells:
            msg += f" (a cell failed before it could be defined: {cells[0]})"
        return msg
    if result.kind == "timeout":
        return f"{name} did not finish in time ({err or 'timeout'}); look for an endless loop"
    if result.kind == "crash":
        return f"{name} stopped the submission's process ({err or 'crash'})"
    if result.kind == "blocked-import":
        return f"{name}: {err}"
    if result.kind == "bad-output":
        return f"{name} returned something that cannot be graded ({err})"
    return f"{name} raised {err}" if err else f"{name} failed ({result.kind})"


def bad_steps(value: np.ndarray, ref: np.ndarray, tol: float = TOL) -> list[int]:
    """Time steps t (axis 1) at which value[:, t] differs from ref[:, t]."""
    return [t for t in range(ref.shape[1]) if rel_error(value[:, t], ref[:, t]) > tol]


def backward_steps_note(name: str, value: np.ndarray, ref: np.ndarray) -> str:
    """For a gradient with a time axis: the latest step where it is wrong (BPTT starts at T-1)."""
    steps = bad_steps(value, ref)
    if not steps:
        return ""
    T, t = ref.shape[1], max(steps)
    note = (f"{name} first goes wrong at t = {t} (steps 0..{T - 1}; counting from the end, "
            f"where backpropagation through time starts)")
    if t < T - 1:
        right = f"step {T - 1} is" if t + 1 == T - 1 else f"steps {t + 1}..{T - 1} are"
        note += f"; {right} right, so look at what flows back from step t+1 to step t"
    return note + "."


def forward_steps_note(name: str, value: np.ndarray, ref: np.ndarray) -> str:
    """For a forward output with a time axis: the earliest step where it is wrong."""
    steps = bad_steps(value, ref)
    if not steps:
        return ""
    T, t = ref.shape[1], min(steps)
    note = f"{name} first goes wrong at t = {t} (steps 0..{T - 1})"
    if t > 0:
        right = "step 0 is" if t == 1 else f"steps 0..{t - 1} are"
        note += f"; {right} right, so look at how h_{{t-1}} is carried to the next step"
    return note + "."


def match_hint(value, signatures: Iterable[tuple[str, np.ndarray]]) -> str:
    """The hint of the first mistake signature the value matches, or ""."""
    if not isinstance(value, np.ndarray):
        return ""
    for hint, sig in signatures:
        sig = np.asarray(sig)
        if sig.shape == value.shape and value.dtype.kind == "f" and rel_error(value, sig) <= MATCH_TOL:
            return "Hint: " + hint
    return ""


def forward_note(fname: str, err: float | None, message: str = "") -> str:
    """Said under a wrong gradient when the submission's forward was already wrong."""
    if message:
        return f"Your {fname} is already wrong ({message}); fix it first."
    return f"Your {fname} is already wrong (relative error {fmt_err(err)}); fix it first."


STALE_CACHE_HINT = ("these are the gradients for the inputs of your most recent forward call, not for "
                    "the cache you were given: keep everything the backward needs in the returned cache "
                    "(no module-level globals).")
