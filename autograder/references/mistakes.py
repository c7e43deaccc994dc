"""Models of known student mistakes ("mistake signatures"), used only by the feedback.

Each function computes what a submission with one specific bug would return for the grader's own
inputs. A failed output that matches one of these within tolerance earns the matching hint.
These are deliberately wrong; the correct references are in `rnn.py` (autograd, not hand-written).
"""

from __future__ import annotations

import numpy as np


def _rnn_states(x, h0, Wx, Wh, b):
    """Forward pass kept step by step: (pre-activations [T x (N, H)], states [T+1 x (N, H)])."""
    pre, hs = [], [h0]
    for t in range(x.shape[1]):
        a = x[:, t] @ Wx + hs[-1] @ Wh + b  # (N, H)
        pre.append(a)
        hs.append(np.tanh(a))
    return pre, hs


def rnn_backward_variant(x, h0, Wx, Wh, b, dh, *, deriv="h", drop_next=False, weights="sum",
                         dh0="ok", dprev_untransposed=False):
    """Hand-written BPTT with one switchable bug. Returns (dx, dh0, dWx, dWh, db).

    deriv: tanh' taken from "h" (correct: 1 - h_t^2), "pre" (1 - a_t^2) or "prev" (1 - h_{t-1}^2).
    drop_next: the gradient from step t+1 is not added to step t.
    weights: "sum" (correct), "assign" (dW = ... in the backward loop: the last iteration, t = 0, wins),
             "last" (only step T-1's contribution).
    dh0: "ok", "zeros", "dh_last" (dh[:, T-1]), "dh_first" (dh[:, 0]), "total_first" (the upstream
         gradient at step 0 before going through the step), "first_processed" (dprev of step T-1).
    dprev_untransposed: dprev = da @ Wh instead of da @ Wh.T.
    """
    N, T, _ = x.shape
    pre, hs = _rnn_states(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros_like(h0)
    first_processed = total_first = None
    for t in reversed(range(T)):
        g = dh[:, t] + (0.0 if drop_next else dnext)  # (N, H)
        if t == 0:
            total_first = g
        local = {"h": 1 - hs[t + 1] ** 2, "pre": 1 - pre[t] ** 2, "prev": 1 - hs[t] ** 2}[deriv]
        da = g * local  # (N, H)
        dx[:, t] = da @ Wx.T
        dnext = da @ (Wh if dprev_untransposed else Wh.T)
        if t == T - 1:
            first_processed = dnext
        parts = (x[:, t].T @ da, hs[t].T @ da, da.sum(axis=0))
        if weights == "sum" or (weights == "last" and t == T - 1) or weights == "assign":
            if weights == "sum":
                dWx, dWh, db = dWx + parts[0], dWh + parts[1], db + parts[2]
            else:
                dWx, dWh, db = parts
    out_dh0 = {"ok": dnext, "zeros": np.zeros_like(h0), "dh_last": dh[:, T - 1], "dh_first": dh[:, 0],
               "total_first": total_first, "first_processed": first_processed}[dh0]
    return dx, out_dh0, dWx, dWh, db


def rnn_step_backward_variant(x, prev_h, Wx, Wh, b, dnext_h, **kw):
    """One step of `rnn_backward_variant`: returns (dx, dprev_h, dWx, dWh, db)."""
    dx, dprev, dWx, dWh, db = rnn_backward_variant(x[:, None], prev_h, Wx, Wh, b, dnext_h[:, None], **kw)
    return dx[:, 0], dprev, dWx, dWh, db


def embedding_backward_fancy_assign(x, dout, V):
    """dW[x] += dout: with repeated indices only one write per index survives."""
    dW = np.zeros((V, dout.shape[-1]))
    dW[x] += dout
    return dW


def softmax_loss_variant(x, y, mask, *, average="N", use_mask=True):
    """Temporal softmax loss with a switchable bug. average: "N" (correct), "none", "NT", "count"."""
    N, T, V = x.shape
    m = mask.astype(np.float64) if use_mask else np.ones((N, T))
    z = x - x.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # (N, T, V)
    p = np.exp(logp)
    picked = np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]  # (N, T)
    denom = {"N": N, "none": 1.0, "NT": N * T, "count": max(m.sum(), 1.0)}[average]
    loss = -(picked * m).sum() / denom
    dx = p.copy()
    np.put_along_axis(dx, y[..., None], np.take_along_axis(dx, y[..., None], axis=-1) - 1, axis=-1)
    dx *= m[..., None] / denom
    return loss, dx


def rnn_forward_variant(x, h0, Wx, Wh, b, *, carry="ok"):
    """carry: "h0_always" (every step starts from h0), "zeros_start" (h0 ignored)."""
    h = np.zeros_like(h0) if carry == "zeros_start" else h0
    out = []
    for t in range(x.shape[1]):
        prev = h0 if carry == "h0_always" else h
        h = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        out.append(h)
    return np.stack(out, axis=1)


def sample_variant(params, h0, first_index, length, temperature, rng, *, no_temperature=False,
                   carry_h=True):
    """Sampling with one switchable bug: scores not divided by the temperature, or h not carried."""
    h0 = np.asarray(h0, dtype=np.float64).reshape(1, -1)
    h, idx, out = h0, int(first_index), []
    V = params["W_embed"].shape[0]
    for _ in range(length):
        x = params["W_embed"][idx][None]  # (1, D)
        h = np.tanh(x @ params["Wx"] + (h if carry_h else h0) @ params["Wh"] + params["b"])
        scores = (h @ params["W_out"] + params["b_out"]).reshape(-1)  # (V,)
        if temperature == 0:
            idx = int(np.argmax(scores))
        else:
            s = scores if no_temperature else scores / temperature
            p = np.exp(s - s.max())
            idx = int(rng.choice(V, p=p / p.sum()))
        out.append(idx)
    return np.array(out, dtype=np.int64)
