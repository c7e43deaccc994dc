"""A correct implementation of assignment gru (the lectures' form), written for the autograder's tests.

Test data, not the course solution: the buggy submissions next to it are generated from this file
by `make_buggy.py` (one textual patch each), and tests/test_gated_assignments.py grades all of them.
"""

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru_step_forward(x, prev_h, Wx, Wh, b):
    H = prev_h.shape[1]
    ax = x @ Wx + b  # (N, 3H), blocks z, r, n
    z = sigmoid(ax[:, 0:H] + prev_h @ Wh[:, 0:H])
    r = sigmoid(ax[:, H:2 * H] + prev_h @ Wh[:, H:2 * H])
    rh = r * prev_h
    n = np.tanh(ax[:, 2 * H:3 * H] + rh @ Wh[:, 2 * H:3 * H])
    next_h = (1 - z) * prev_h + z * n
    cache = (x, prev_h, Wx, Wh, z, r, n, rh)
    return next_h, cache


def gru_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, z, r, n, rh = cache
    H = prev_h.shape[1]
    dz = dnext_h * (n - prev_h)
    dn = dnext_h * z
    dan = dn * (1 - n**2)
    drh = dan @ Wh[:, 2 * H:3 * H].T
    dr = drh * prev_h
    daz = dz * z * (1 - z)
    dar = dr * r * (1 - r)
    dgates = np.concatenate([daz, dar], axis=1)  # (N, 2H)
    dax = np.concatenate([daz, dar, dan], axis=1)  # (N, 3H)
    dx = dax @ Wx.T
    dprev_h = dnext_h * (1 - z) + drh * r + dgates @ Wh[:, 0:2 * H].T
    dWx = x.T @ dax
    dWh = np.concatenate([prev_h.T @ dgates, rh.T @ dan], axis=1)
    db = dax.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def gru_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev = h0
    caches = []
    for t in range(T):
        prev, c = gru_step_forward(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
        caches.append(c)
    cache = (caches, D)
    return h, cache


def gru_backward(dh, cache):
    caches, D = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = 0.0, 0.0, 0.0
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev, dWx_t, dWh_t, db_t = gru_step_backward(dh[:, t] + dprev, caches[t])
        dx[:, t] = dx_t
        dWx = dWx + dWx_t
        dWh = dWh + dWh_t
        db = db + db_t
    dh0 = dprev
    return dx, dh0, dWx, dWh, db
