# Tampering: kill the worker with status 0, inside a graded call and in a cell.
import os


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    os._exit(0)


def word_embedding_forward(x, W):
    os._exit(0)


os._exit(0)
