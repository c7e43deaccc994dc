"""Numerical gradients by centred differences, and the relative error used to compare them.

The checker works in float64; in float32 the rounding error of f swamps the
difference quotient and a correct gradient looks wrong.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def rel_error(a, b, eps: float = 1e-12) -> float:
    """Largest element-wise relative error max |a - b| / max(|a| + |b|, eps).

    About 1e-8 or smaller means two float64 gradients agree; 1e-2 or larger means a bug.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Gradient of the scalar function f() with respect to the array x, changed in place and restored.

    x: float64 array of any shape. Returns an array of x's shape.
    """
    _require_float64(x, "x")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = float(f())
        x[i] = old - h
        f_minus = float(f())
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
        it.iternext()
    return grad


def numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray,
                             h: float = 1e-6) -> np.ndarray:
    """Gradient of sum(f(x) * dout) with respect to x: the backward pass of a layer, numerically.

    f maps x (any shape) to an array of dout's shape; x is changed in place and restored.
    """
    _require_float64(x, "x")
    return numerical_gradient(lambda: float(np.sum(f(x) * dout)), x, h)


def check_gradient(name: str, analytic, numeric, expect: float = 1e-7) -> float:
    """Print the relative error between two gradients with a verdict, and return it."""
    err = rel_error(analytic, numeric)
    verdict = "ok" if err < expect else "CHECK THIS"
    print(f"{name:>10s} relative error: {err:.2e}  (expect < {expect:.0e})  {verdict}")
    return err


def _require_float64(x: np.ndarray, name: str) -> None:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(f"{name} must be a float64 NumPy array for a numerical gradient check, "
                        f"got {type(x).__name__} of dtype {getattr(x, 'dtype', '?')}")
