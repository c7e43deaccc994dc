# Bad input: printing megabytes, at the top level and inside a graded call (also straight to fd 1).
import os

import numpy as np

print("spam " * 4_000_000)
os.write(1, b"raw " * 2_000_000)


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    print("more spam " * 2_000_000)
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)
