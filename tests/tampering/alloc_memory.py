# Bad input: a cell allocating far too much memory (50 GB), and a graded call doing the same.
import numpy as np

huge = np.ones((50_000, 125_000))  # 50 GB of float64


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    waste = [np.empty((1000, 1000)) for _ in range(10_000)]  # 80 GB, 8 MB at a time
    return waste, None
