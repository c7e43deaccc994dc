"""A correct assignment-5 submission (the graded cells of solutions/05_pytorch_lstm.ipynb, as a .py file).

make_buggy.py patches it into one buggy submission per known mistake.
"""

import math

import numpy as np
import torch
from torch import nn


class LSTM(nn.Module):
    """A multilayer LSTM, batch-first, in the lecture's layout (gate order i, f, o, g)."""

    def __init__(self, input_size, hidden_size, num_layers=1):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        H = hidden_size
        bound = 1.0 / math.sqrt(H)  # nn.LSTM's initialisation: uniform in [-1/sqrt(H), 1/sqrt(H)]
        for l in range(num_layers):
            D_l = input_size if l == 0 else H
            setattr(self, f"Wx_{l}", nn.Parameter(torch.empty(D_l, 4 * H).uniform_(-bound, bound)))
            setattr(self, f"Wh_{l}", nn.Parameter(torch.empty(H, 4 * H).uniform_(-bound, bound)))
            setattr(self, f"b_{l}", nn.Parameter(torch.empty(4 * H).uniform_(-bound, bound)))

    def forward(self, x, state=None):
        N, T, _ = x.shape
        H, L = self.hidden_size, self.num_layers
        if state is None:
            h0 = c0 = x.new_zeros(L, N, H)
        else:
            h0, c0 = state
        layer_input, h_n, c_n = x, [], []
        for l in range(L):
            Wx, Wh, b = getattr(self, f"Wx_{l}"), getattr(self, f"Wh_{l}"), getattr(self, f"b_{l}")
            xw = layer_input @ Wx + b  # (N, T, 4H): the input projection of every step in one product
            h, c = h0[l], c0[l]
            outs = []
            for t in range(T):
                a = xw[:, t] + h @ Wh  # (N, 4H), gates i, f, o, g
                i = torch.sigmoid(a[:, 0 * H:1 * H])
                f = torch.sigmoid(a[:, 1 * H:2 * H])
                o = torch.sigmoid(a[:, 2 * H:3 * H])
                g = torch.tanh(a[:, 3 * H:4 * H])
                c = f * c + i * g
                h = o * torch.tanh(c)
                outs.append(h)
            layer_input = torch.stack(outs, dim=1)  # (N, T, H), the next layer's input
            h_n.append(h)
            c_n.append(c)
        return layer_input, (torch.stack(h_n), torch.stack(c_n))


def beam_search(step_fn, start_state, start_token, end_token, beam_width, max_len):
    """Beam search; returns [(tokens, log_prob)] best first (see the notebook for the exact rules)."""
    def finished(tokens):
        return bool(tokens) and tokens[-1] == end_token

    beam = [([], 0.0, start_state)]  # (tokens, log_prob, state)
    for _ in range(max_len):
        if all(finished(tokens) for tokens, _, _ in beam):
            break
        pool = []
        for tokens, score, state in beam:
            if finished(tokens):
                pool.append((tokens, score, state))
                continue
            log_probs, new_state = step_fn(tokens[-1] if tokens else start_token, state)
            log_probs = np.asarray(log_probs, dtype=np.float64)  # (V,)
            for v in range(len(log_probs)):
                pool.append((tokens + [v], score + float(log_probs[v]), new_state))
        pool.sort(key=lambda hyp: hyp[1], reverse=True)
        beam = pool[:beam_width]
    return [(tokens, score) for tokens, score, _ in beam]
