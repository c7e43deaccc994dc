# Tampering: leave early with exit status 0, in a cell and inside a graded call.
import sys


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    sys.exit(0)


def rnn_forward(x, h0, Wx, Wh, b):
    raise SystemExit(0)


sys.exit(0)
