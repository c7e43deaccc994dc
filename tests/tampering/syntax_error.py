# Bad input: the file does not parse.
import numpy as np

def rnn_step_forward(x, prev_h, Wx, Wh, b)
    return np.tanh(x @ Wx + prev_h @ Wh + b), None
