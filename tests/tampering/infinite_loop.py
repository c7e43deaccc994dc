# Bad input: a graded call that never returns, and a top-level cell that never ends.
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    while True:
        pass


def loop_forever_at_top_level():
    while True:
        pass


loop_forever_at_top_level()
