"""PyTorch float64 forwards for assignment `rnn_bptt`; gradients come from autograd (`vjp`).

Notation (batch-first): N batch, T time, D input, H hidden, V vocabulary.
    h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)
These are written for the grader and kept honest by centred differences in tests/test_references.py.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

DTYPE = torch.float64


def tensor(a, grad: bool = False) -> torch.Tensor:
    """A float64 copy of `a` (integer arrays stay integer), optionally tracking gradients."""
    arr = np.asarray(a)
    if arr.dtype.kind in "iub":
        return torch.as_tensor(arr.copy())
    t = torch.tensor(np.asarray(arr, dtype=np.float64), dtype=DTYPE)
    return t.requires_grad_(grad)


def rnn_step(x, prev_h, Wx, Wh, b):
    """x: (N, D), prev_h: (N, H), Wx: (D, H), Wh: (H, H), b: (H,) -> next_h: (N, H)."""
    return torch.tanh(x @ Wx + prev_h @ Wh + b)


def rnn(x, h0, Wx, Wh, b):
    """x: (N, T, D), h0: (N, H) -> h: (N, T, H), the hidden state at every step."""
    h, states = h0, []
    for t in range(x.shape[1]):
        h = rnn_step(x[:, t], h, Wx, Wh, b)  # (N, H)
        states.append(h)
    return torch.stack(states, dim=1)  # (N, T, H)


def word_embedding(x, W):
    """x: (N, T) integer indices, W: (V, D) -> (N, T, D)."""
    return W[x]


def temporal_affine(x, w, b):
    """x: (N, T, H), w: (H, V), b: (V,) -> scores (N, T, V)."""
    return x @ w + b


def temporal_softmax_loss(x, y, mask):
    """Cross-entropy summed over the unmasked steps and averaged over N.

    x: (N, T, V) scores, y: (N, T) targets, mask: (N, T) bool -> scalar loss.
    """
    N = x.shape[0]
    logp = torch.log_softmax(x, dim=-1)  # (N, T, V)
    picked = logp.gather(-1, y.long().unsqueeze(-1)).squeeze(-1)  # (N, T)
    return -(picked * mask.to(DTYPE)).sum() / N


def vjp(fn: Callable, inputs: Sequence, dout, wrt: Sequence[int]):
    """Run fn(*inputs) in float64 and return (out, grads of <out, dout> w.r.t. inputs[i] for i in wrt).

    inputs: NumPy arrays (integer ones are passed through); dout: upstream gradient, None for a scalar out.
    Returns NumPy arrays.
    """
    ts = [tensor(a, grad=(i in wrt)) for i, a in enumerate(inputs)]
    out = fn(*ts)
    grad_out = None if dout is None else tensor(dout)
    grads = torch.autograd.grad(out, [ts[i] for i in wrt], grad_outputs=grad_out)
    return out.detach().numpy(), tuple(g.numpy() for g in grads)


def forward(fn: Callable, *inputs) -> np.ndarray:
    """fn(*inputs) in float64 without gradients, as a NumPy array."""
    with torch.no_grad():
        return fn(*[tensor(a) for a in inputs]).numpy()


def softmax_np(scores: np.ndarray) -> np.ndarray:
    z = scores - scores.max()
    e = np.exp(z)
    return e / e.sum()


def sample_chars(params: dict, h0, first_index: int, length: int, temperature: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Sampling convention of the assignment, step by step:

    embed the previous index, one RNN step, scores = h @ W_out + b_out; temperature 0 takes the argmax,
    otherwise p = softmax(scores / temperature) and the next index is rng.choice(V, p=p).
    Returns a 1-D int64 array of `length` indices, not including first_index.
    """
    p = {k: tensor(v) for k, v in params.items()}
    V = p["W_embed"].shape[0]
    h = tensor(h0).reshape(1, -1)  # (1, H)
    idx, out = int(first_index), []
    with torch.no_grad():
        for _ in range(length):
            x = p["W_embed"][idx].reshape(1, -1)  # (1, D)
            h = rnn_step(x, h, p["Wx"], p["Wh"], p["b"])  # (1, H)
            scores = (h @ p["W_out"] + p["b_out"]).reshape(-1).numpy()  # (V,)
            if temperature == 0:
                idx = int(np.argmax(scores))
            else:
                idx = int(rng.choice(V, p=softmax_np(scores / temperature)))
            out.append(idx)
    return np.array(out, dtype=np.int64)


def first_step_probs(params: dict, h0, first_index: int, temperature: float) -> np.ndarray:
    """The distribution of the first sampled index: (V,)."""
    p = {k: tensor(v) for k, v in params.items()}
    with torch.no_grad():
        x = p["W_embed"][int(first_index)].reshape(1, -1)
        h = rnn_step(x, tensor(h0).reshape(1, -1), p["Wx"], p["Wh"], p["b"])
        scores = (h @ p["W_out"] + p["b_out"]).reshape(-1).numpy()
    return softmax_np(scores / temperature)
