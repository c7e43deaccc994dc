# Bad input: graded functions returning the wrong shape, NaN, a Python list and None.
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    return np.zeros((1, 1)), None  # wrong shape


def temporal_affine_forward(x, w, b):
    out = np.full((x.shape[0], x.shape[1], w.shape[1]), np.nan)  # NaN
    return out, None


def word_embedding_forward(x, W):
    return W[x].tolist(), None  # a Python list


def rnn_forward(x, h0, Wx, Wh, b):
    return None  # None
