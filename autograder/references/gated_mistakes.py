"""Models of known mistakes in the LSTM and GRU assignments ("mistake signatures"), for feedback only.

Each function runs a deliberately wrong LSTM or GRU in float64 PyTorch and returns what a submission
with that one bug would return for the grader's inputs: the forward outputs and the gradients its
(consistently wrong) backward would give. Backward-only bugs are modelled inside autograd:
a gradient path the student forgot is cut with `detach`, and a sigmoid derivative taken from the
pre-activation is a custom autograd function. With no bug switched on these equal the references in
`gated.py` (tests/test_gated_assignments.py checks that).
"""

from __future__ import annotations

import numpy as np
import torch

from .rnn import tensor


class _SigmoidPreDeriv(torch.autograd.Function):
    """sigmoid(a) forward; backward multiplies by a * (1 - a), the derivative taken from the pre-activation."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return torch.sigmoid(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a * (1 - a)


def _sigmoid(a, sig_deriv):
    return _SigmoidPreDeriv.apply(a) if sig_deriv == "pre" else torch.sigmoid(a)


def _lstm_step(x, h, c, Wx, Wh, b, *, order="ifog", sig_deriv="ok", no_tanh_path=False, drop_dc=False):
    """One LSTM step with switchable bugs.

    order: "ifog" (correct) or "ifgo" (blocks sliced in PyTorch's order, forward and backward alike).
    sig_deriv: "pre" takes sigmoid' as a(1 - a) from the pre-activation (gates i, f, o).
    no_tanh_path: dc gets only the incoming cell gradient, not dh * o * (1 - tanh(c)^2).
    drop_dc: the cell gradient arriving from the next step (or dnext_c) is not added.
    """
    H = h.shape[-1]
    a = x @ Wx + h @ Wh + b  # (N, 4H)
    blk = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f, o = (_sigmoid(blk[n], sig_deriv) for n in "ifo")
    g = torch.tanh(blk["g"])
    new_c = f * (c.detach() if drop_dc else c) + i * g
    tc = torch.tanh(new_c)
    new_h = o * (tc.detach() if no_tanh_path else tc)
    return new_h, new_c


def _grads(objective, ts, wrt):
    grads = torch.autograd.grad(objective, [ts[i] for i in wrt], allow_unused=True)
    return tuple((torch.zeros_like(ts[i]) if g is None else g).numpy() for g, i in zip(grads, wrt))


def lstm_step_variant(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c, **bug):
    """((next_h, next_c), (dx, dprev_h, dprev_c, dWx, dWh, db)) of a buggy lstm_step_forward/backward."""
    ts = [tensor(a, grad=True) for a in (x, prev_h, prev_c, Wx, Wh, b)]
    h, c = _lstm_step(*ts, **bug)
    cell_out = 0.0 if bug.get("drop_dc") else (c * tensor(dnext_c)).sum()
    objective = (h * tensor(dnext_h)).sum() + cell_out
    return (h.detach().numpy(), c.detach().numpy()), _grads(objective, ts, range(6))


def lstm_variant(x, h0, Wx, Wh, b, dh, *, c0="zeros", **bug):
    """(h (N, T, H), (dx, dh0, dWx, dWh, db)) of a buggy lstm_forward/backward.

    c0: "zeros" (correct), "h0" (the cell starts from h0; no gradient flows back through it), "ones".
    """
    ts = [tensor(a, grad=True) for a in (x, h0, Wx, Wh, b)]
    x_t, h, *w = ts
    c = {"zeros": torch.zeros_like(h), "h0": h.detach().clone(), "ones": torch.ones_like(h)}[c0]
    states = []
    for t in range(x_t.shape[1]):
        h, c = _lstm_step(x_t[:, t], h, c, *w, **bug)
        states.append(h)
    out = torch.stack(states, dim=1)
    return out.detach().numpy(), _grads((out * tensor(dh)).sum(), ts, range(5))


def _gru_step(x, h, Wx, Wh, b, *, order="zrn", z_old=False, reset_after=False, sig_deriv="ok"):
    """One GRU step (the lectures' form) with switchable bugs.

    order: "zrn" (correct) or "rzn" (the first two blocks swapped, as in nn.GRU's r, z, n).
    z_old: h' = z * h + (1 - z) * n (z weighting the OLD state, nn.GRU's convention).
    reset_after: n = tanh(x Wx_n + b_n + r * (h Wh_n)) (nn.GRU's placement of the reset).
    sig_deriv: "pre" takes sigmoid' from the pre-activation.
    """
    H = h.shape[-1]
    ax, ah = x @ Wx + b, h @ Wh  # (N, 3H) each
    k = {name: j for j, name in enumerate(order)}
    blk = lambda arr, name: arr[:, k[name] * H:(k[name] + 1) * H]
    z = _sigmoid(blk(ax, "z") + blk(ah, "z"), sig_deriv)
    r = _sigmoid(blk(ax, "r") + blk(ah, "r"), sig_deriv)
    Wn = Wh[:, k["n"] * H:(k["n"] + 1) * H]
    n = torch.tanh(blk(ax, "n") + (r * (h @ Wn) if reset_after else (r * h) @ Wn))
    return z * h + (1 - z) * n if z_old else (1 - z) * h + z * n


def gru_step_variant(x, prev_h, Wx, Wh, b, dnext_h, **bug):
    """(next_h, (dx, dprev_h, dWx, dWh, db)) of a buggy gru_step_forward/backward."""
    ts = [tensor(a, grad=True) for a in (x, prev_h, Wx, Wh, b)]
    h = _gru_step(*ts, **bug)
    return h.detach().numpy(), _grads((h * tensor(dnext_h)).sum(), ts, range(5))


def gru_variant(x, h0, Wx, Wh, b, dh, *, drop_next=False, **bug):
    """(h (N, T, H), (dx, dh0, dWx, dWh, db)) of a buggy gru_forward/backward.

    drop_next: the gradient from step t+1 is not added to step t (the state fed forward is detached).
    """
    ts = [tensor(a, grad=True) for a in (x, h0, Wx, Wh, b)]
    x_t, h, *w = ts
    states = []
    for t in range(x_t.shape[1]):
        prev = h.detach() if (drop_next and t > 0) else h
        h = _gru_step(x_t[:, t], prev, *w, **bug)
        states.append(h)
    out = torch.stack(states, dim=1)
    return out.detach().numpy(), _grads((out * tensor(dh)).sum(), ts, range(5))


def lstm_torch_params_variant(Wx, Wh, b, *, reorder=True, bias="ih"):
    """What lstm_params_to_torch returns with one mistake: reorder False keeps i, f, o, g; bias "both"
    puts b into bias_ih_l0 AND bias_hh_l0 (nn.LSTM adds them, so it counts twice)."""
    H = Wh.shape[0]
    P = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H] if reorder else np.arange(4 * H)
    bias_hh = b[P] if bias == "both" else np.zeros(4 * H)
    return {"weight_ih_l0": Wx[:, P].T, "weight_hh_l0": Wh[:, P].T, "bias_ih_l0": b[P], "bias_hh_l0": bias_hh}
