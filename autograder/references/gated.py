"""PyTorch float64 forwards for assignments `lstm` and `gru`; gradients come from autograd (`vjp_multi`).

Notation (batch-first, book/notation.md): N batch, T time, D input, H hidden.
LSTM, gate order i, f, o, g (the lectures'), one stacked product:
    a = x_t @ Wx + h_{t-1} @ Wh + b                      Wx (D, 4H), Wh (H, 4H), b (4H,)
    c_t = sigmoid(a_f) * c_{t-1} + sigmoid(a_i) * tanh(a_g),   h_t = sigmoid(a_o) * tanh(c_t)
GRU in the lectures' form, blocks z, r, n:
    z = sigmoid(x Wx_z + h Wh_z + b_z), r = sigmoid(x Wx_r + h Wh_r + b_r),
    n = tanh(x Wx_n + (r * h) Wh_n + b_n),  h' = (1 - z) * h + z * n
Written for the grader (never the course solution) and kept honest by centred differences and by
torch.nn.LSTM in tests/test_gated_assignments.py.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from .rnn import DTYPE, tensor

LSTM_GATES = ("input", "forget", "output", "candidate")  # blocks of the 4H axis, in order
GRU_GATES = ("update (z)", "reset (r)", "candidate (n)")  # blocks of the 3H axis, in order


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    """x: (N, D), prev_h, prev_c: (N, H) -> (next_h, next_c), each (N, H)."""
    H = prev_h.shape[-1]
    a = x @ Wx + prev_h @ Wh + b  # (N, 4H), blocks i, f, o, g
    i, f, o = (torch.sigmoid(a[:, k * H:(k + 1) * H]) for k in range(3))
    g = torch.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    return o * torch.tanh(next_c), next_c


def lstm(x, h0, Wx, Wh, b):
    """x: (N, T, D), h0: (N, H), c0 = 0 -> h: (N, T, H)."""
    h, c, states = h0, torch.zeros_like(h0), []
    for t in range(x.shape[1]):
        h, c = lstm_step(x[:, t], h, c, Wx, Wh, b)
        states.append(h)
    return torch.stack(states, dim=1)


def gru_step(x, prev_h, Wx, Wh, b):
    """x: (N, D), prev_h: (N, H) -> next_h: (N, H), the lectures' GRU (eq-gru)."""
    H = prev_h.shape[-1]
    ax, ah = x @ Wx + b, prev_h @ Wh[:, :2 * H]  # (N, 3H), (N, 2H)
    z = torch.sigmoid(ax[:, :H] + ah[:, :H])
    r = torch.sigmoid(ax[:, H:2 * H] + ah[:, H:])
    n = torch.tanh(ax[:, 2 * H:] + (r * prev_h) @ Wh[:, 2 * H:])
    return (1 - z) * prev_h + z * n


def gru(x, h0, Wx, Wh, b):
    """x: (N, T, D), h0: (N, H) -> h: (N, T, H)."""
    h, states = h0, []
    for t in range(x.shape[1]):
        h = gru_step(x[:, t], h, Wx, Wh, b)
        states.append(h)
    return torch.stack(states, dim=1)


def vjp_multi(fn: Callable, inputs: Sequence, douts: Sequence, wrt: Sequence[int]):
    """fn(*inputs) -> one tensor or a tuple of tensors; douts: one upstream gradient per output.

    Returns (outputs as NumPy arrays (a tuple), gradients of sum_k <out_k, dout_k> w.r.t. inputs[i], i in wrt).
    """
    ts = [tensor(a, grad=(i in wrt)) for i, a in enumerate(inputs)]
    outs = fn(*ts)
    outs = outs if isinstance(outs, tuple) else (outs,)
    grads = torch.autograd.grad(outs, [ts[i] for i in wrt], grad_outputs=[tensor(d) for d in douts])
    return tuple(o.detach().numpy() for o in outs), tuple(g.numpy() for g in grads)


def forward_multi(fn: Callable, *inputs) -> tuple:
    """fn(*inputs) without gradients, always as a tuple of NumPy arrays."""
    with torch.no_grad():
        outs = fn(*[tensor(a) for a in inputs])
    outs = outs if isinstance(outs, tuple) else (outs,)
    return tuple(o.numpy() for o in outs)


def torch_lstm_output(params: dict, x, h0) -> np.ndarray:
    """Run torch.nn.LSTM (float64, batch_first, c0 = 0) with the given weight_ih_l0, weight_hh_l0,
    bias_ih_l0, bias_hh_l0 arrays on x (N, T, D) from h0 (N, H); returns its output (N, T, H)."""
    H = np.asarray(params["weight_hh_l0"]).shape[1]
    D = np.asarray(params["weight_ih_l0"]).shape[1]
    net = torch.nn.LSTM(D, H, batch_first=True).to(DTYPE)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(net, name).copy_(torch.as_tensor(np.asarray(params[name], dtype=np.float64)))
        h0_t = tensor(h0).unsqueeze(0)  # (1, N, H)
        out, _ = net(tensor(x), (h0_t, torch.zeros_like(h0_t)))
    return out.numpy()
