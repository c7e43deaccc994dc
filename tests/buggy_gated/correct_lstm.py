"""A correct implementation of assignment lstm, written for the autograder's tests.

Test data, not the course solution: the buggy submissions next to it are generated from this file
by `make_buggy.py` (one textual patch each), and tests/test_gated_assignments.py grades all of them.
"""

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b  # (N, 4H), blocks i, f, o, g
    i = sigmoid(a[:, 0:H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:4 * H])
    next_c = f * prev_c + i * g
    tc = np.tanh(next_c)
    next_h = o * tc
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tc)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tc = cache
    do = dnext_h * tc
    dc = dnext_c + dnext_h * o * (1 - tc**2)
    di, df, dg = dc * g, dc * prev_c, dc * i
    dprev_c = dc * f
    dai = di * i * (1 - i)
    daf = df * f * (1 - f)
    dao = do * o * (1 - o)
    dag = dg * (1 - g**2)
    da = np.concatenate([dai, daf, dao, dag], axis=1)  # (N, 4H)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h, prev_c = h0, np.zeros((N, H))
    caches = []
    for t in range(T):
        prev_h, prev_c, c = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(c)
    cache = (caches, D)
    return h, cache


def lstm_backward(dh, cache):
    caches, D = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = 0.0, 0.0, 0.0
    dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dprev_h, dprev_c, caches[t])
        dx[:, t] = dx_t
        dWx = dWx + dWx_t
        dWh = dWh + dWh_t
        db = db + db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def lstm_params_to_torch(Wx, Wh, b):
    H = Wh.shape[0]
    P = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]  # i, f, o, g -> i, f, g, o
    return {"weight_ih_l0": Wx[:, P].T, "weight_hh_l0": Wh[:, P].T,
            "bias_ih_l0": b[P], "bias_hh_l0": np.zeros(4 * H)}
