# Bad input: the graded function raises when called.
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    raise ValueError("shapes do not align, I give up")
