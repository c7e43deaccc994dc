"""A correct implementation of assignment rnn_bptt, written for the autograder's tests.

Test data, not the course solution: the buggy submissions next to it are generated from this file
by `make_buggy.py` (one textual patch each), and the tests grade all of them.
"""

import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)  # (N, H)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)  # (N, H)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    caches = []
    prev = h0
    for t in range(T):
        prev, c = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
        caches.append(c)
    cache = (caches, D)
    return h, cache


def rnn_backward(dh, cache):
    caches, D = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = 0.0, 0.0, 0.0
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev, caches[t])
        dx[:, t] = dx_t
        dWx = dWx + dWx_t
        dWh = dWh + dWh_t
        db = db + db_t
    dh0 = dprev
    return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
    out = W[x]  # (N, T, D)
    cache = (x, W.shape)
    return out, cache


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout)
    return dW


def temporal_affine_forward(x, w, b):
    out = x @ w + b  # (N, T, V)
    cache = (x, w)
    return out, cache


def temporal_affine_backward(dout, cache):
    x, w = cache
    dx = dout @ w.T
    dw = x.reshape(-1, x.shape[-1]).T @ dout.reshape(-1, dout.shape[-1])
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def temporal_softmax_loss(x, y, mask):
    N, T, V = x.shape
    z = x - x.max(axis=-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=-1, keepdims=True)  # (N, T, V)
    m = mask.astype(np.float64)
    picked = np.take_along_axis(p, y[..., None], axis=-1)[..., 0]  # (N, T)
    loss = -(np.log(picked) * m).sum() / N
    dx = p.copy()
    np.put_along_axis(dx, y[..., None], picked[..., None] - 1, axis=-1)
    dx *= m[..., None] / N
    return loss, dx


def sample_chars(params, h0, first_index, length, temperature, rng):
    V = params["W_embed"].shape[0]
    h = np.asarray(h0).reshape(1, -1)
    idx = first_index
    out = []
    for _ in range(length):
        x = params["W_embed"][idx][None]  # (1, D)
        h, _ = rnn_step_forward(x, h, params["Wx"], params["Wh"], params["b"])
        scores = (h @ params["W_out"] + params["b_out"])[0]  # (V,)
        if temperature == 0:
            idx = int(np.argmax(scores))
        else:
            s = scores / temperature
            p = np.exp(s - s.max())
            idx = int(rng.choice(V, p=p / p.sum()))
        out.append(idx)
    return np.array(out, dtype=np.int64)
