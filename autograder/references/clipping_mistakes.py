"""Models of known mistakes in assignment `clipping_tbptt` ("mistake signatures"), used only by the feedback.

Each function computes what a submission with one specific bug returns for the grader's inputs; the
correct references are in `clipping.py` (PyTorch). The truncated-BPTT mistakes (gradient leaking across
chunk boundaries, state reset at every chunk) are switches of `clipping.truncated_bptt_grads`.
"""

from __future__ import annotations

import numpy as np


def clip_grad_norm_variant(grads: dict, max_norm: float, mode: str) -> tuple[float, dict]:
    """(returned value, clipped arrays) of a clip_grad_norm with one bug.

    mode: "squared" (the norm is the sum of squares, no square root), "per_array" (each array clipped
    by its own norm), "always" (rescaled to max_norm even when the norm is below it), "post_clip"
    (correct clipping, but returns the norm after clipping), "unchanged" (computes a clipped copy and
    leaves the arrays as they were: not in place).
    """
    g = {k: np.asarray(v, dtype=np.float64) for k, v in grads.items()}
    total = float(np.sqrt(sum(np.sum(v * v) for v in g.values())))
    if mode == "squared":
        sq = total**2
        scale = max_norm / sq if sq > max_norm else 1.0
        return sq, {k: v * scale for k, v in g.items()}
    if mode == "per_array":
        out = {}
        for k, v in g.items():
            n = float(np.sqrt(np.sum(v * v)))
            out[k] = v * (max_norm / n) if n > max_norm else v.copy()
        return total, out
    if mode == "always":
        return total, {k: v * (max_norm / total) for k, v in g.items()}
    scale = max_norm / total if total > max_norm else 1.0
    if mode == "post_clip":
        return min(total, max_norm), {k: v * scale for k, v in g.items()}
    if mode == "unchanged":
        return total, {k: v.copy() for k, v in g.items()}
    raise ValueError(f"unknown mode {mode!r}")


def clip_grad_value_variant(grads: dict, clip_value: float, mode: str) -> dict:
    """mode: "unchanged" (np.clip without writing back), "upper" (only the upper bound applied)."""
    g = {k: np.asarray(v, dtype=np.float64) for k, v in grads.items()}
    if mode == "unchanged":
        return {k: v.copy() for k, v in g.items()}
    if mode == "upper":
        return {k: np.minimum(v, clip_value) for k, v in g.items()}
    raise ValueError(f"unknown mode {mode!r}")


def _states(x, h0, Wx, Wh, b):
    hs, h = [], h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)  # (N, H)
        hs.append(h)
    return hs


def hidden_jacobian_norms_variant(x, h0, Wx, Wh, b, mode: str) -> np.ndarray:
    """(N, T) norms with one bug. mode: "no_tanh" (products of Wh^T only, tanh' forgotten),
    "reversed" (columns in the wrong time order), "frobenius" (Frobenius instead of spectral norm)."""
    N, T, _ = x.shape
    H = Wh.shape[0]
    hs = _states(x, h0, Wx, Wh, b)
    out = np.zeros((N, T))
    for n in range(N):
        J = np.eye(H)
        for t in range(T - 1, -1, -1):  # J = d h_T / d h_{t+1} (1-based), built from the end
            if mode == "frobenius":
                out[n, t] = np.linalg.norm(J)
            else:
                out[n, t] = np.linalg.norm(J, 2)
            if t > 0:
                d = np.ones(H) if mode == "no_tanh" else 1.0 - hs[t][n] ** 2
                J = J @ (d[:, None] * Wh.T)  # one step further back: times d h_{t+1} / d h_t
    if mode == "reversed":
        out = out[:, ::-1].copy()
    return out
