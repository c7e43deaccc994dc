"""PyTorch float64 references for assignment `clipping_tbptt`: clipping, Jacobian norms, truncated BPTT.

Notation (batch-first): N batch, T time, D input, H hidden, V vocabulary; h_t = tanh(x_t Wx + h_{t-1} Wh + b).
Kept honest by centred differences and by torch's own clip_grad_norm_ in tests/test_clipping_assignment.py.
"""

from __future__ import annotations

import numpy as np
import torch

from .rnn import DTYPE, rnn, rnn_step, temporal_affine, temporal_softmax_loss, tensor, word_embedding

PARAM_NAMES = ("W_embed", "Wx", "Wh", "b", "W_out", "b_out")


def clip_grad_norm(grads: dict, max_norm: float) -> tuple[float, dict]:
    """torch.nn.utils.clip_grad_norm_'s rule without its epsilon: one L2 norm over every entry of every
    array; when it exceeds max_norm, every array is scaled by max_norm / norm.
    Returns (the norm before clipping, the clipped arrays as a new dict of NumPy arrays)."""
    ts = {k: tensor(v) for k, v in grads.items()}
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in ts.values()]))
    if total > max_norm:
        ts = {k: t * (max_norm / total) for k, t in ts.items()}
    return float(total), {k: t.numpy() for k, t in ts.items()}


def clip_grad_value(grads: dict, clip_value: float) -> dict:
    """Every entry clamped to [-clip_value, clip_value]; a new dict of NumPy arrays."""
    return {k: torch.clamp(tensor(v), -clip_value, clip_value).numpy() for k, v in grads.items()}


def hidden_jacobian_norms(x, h0, Wx, Wh, b) -> np.ndarray:
    """Spectral norms of d h_T / d h_t for every example and t = 1..T: (N, T), column t-1 for h_t.

    Each Jacobian comes from torch.autograd.functional.jacobian of the map h_t -> h_T (the RNN run on
    from step t+1 with the same inputs), so nothing here writes out the chain rule by hand.
    """
    x, h0, Wx, Wh, b = (tensor(a) for a in (x, h0, Wx, Wh, b))
    N, T, _ = x.shape
    with torch.no_grad():
        hs = rnn(x, h0, Wx, Wh, b)  # (N, T, H)
    norms = np.zeros((N, T))
    for n in range(N):
        for t in range(T):  # h_{t+1} in 1-based steps is hs[:, t]
            def run_on(h, n=n, t=t):
                for s in range(t + 1, T):
                    h = rnn_step(x[n:n + 1, s], h, Wx, Wh, b)
                return h.reshape(-1)

            J = torch.autograd.functional.jacobian(run_on, hs[n:n + 1, t])  # (H, 1, H)
            norms[n, t] = float(torch.linalg.matrix_norm(J.reshape(J.shape[0], -1), ord=2))
    return norms


def char_model_loss(x, y, h0, params: dict):
    """The chapter-3 character model on one chunk: embedding, RNN, affine, softmax loss (every step
    counts; summed over steps, averaged over N). x, y: (N, k) ints, h0: (N, H). Returns (loss, h_last)."""
    emb = word_embedding(x, params["W_embed"])  # (N, k, D)
    h = rnn(emb, h0, params["Wx"], params["Wh"], params["b"])  # (N, k, H)
    scores = temporal_affine(h, params["W_out"], params["b_out"])  # (N, k, V)
    mask = torch.ones(x.shape, dtype=torch.bool)
    return temporal_softmax_loss(scores, y, mask), h[:, -1]


def truncated_bptt_grads(x, y, h0, params: dict, k: int, *, detach: bool = True, carry: bool = True):
    """Loss and gradients summed over chunks of k steps; the state is carried, the gradient is not.

    x, y: (N, T) ints; h0: (N, H); params: dict of NumPy arrays (PARAM_NAMES). detach=False lets the
    gradient cross chunk boundaries (that is full BPTT); carry=False restarts every chunk from h0
    (both are known mistakes, modelled here so the feedback can recognise them).
    Returns (loss: float, grads: dict of NumPy arrays, h_last: (N, H)).
    """
    p = {name: tensor(params[name], grad=True) for name in PARAM_NAMES}
    xt, yt, h_start = tensor(x), tensor(y), tensor(h0)
    T = xt.shape[1]
    h, total = h_start, torch.zeros((), dtype=DTYPE)
    for s in range(0, T, k):
        loss, h_end = char_model_loss(xt[:, s:s + k], yt[:, s:s + k], h if carry else h_start, p)
        total = total + loss
        h = h_end.detach() if detach else h_end
    grads = torch.autograd.grad(total, [p[name] for name in PARAM_NAMES])
    return float(total.detach()), {name: g.numpy() for name, g in zip(PARAM_NAMES, grads)}, h.detach().numpy()
