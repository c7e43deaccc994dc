"""A correct implementation of assignment 7's graded functions, written for the tests (not the solution).

tests/buggy_captioning/make_buggy.py patches it into one file per known mistake.
"""

import torch
import torch.nn.functional as F

from rnn_helpers.captioning import NULL


def captioning_loss(model, images, captions):
    N = images.shape[0]
    h, c = model.init_state(model.encoder(images))
    inputs, targets = captions[:, :-1], captions[:, 1:]
    total = images.new_zeros(())
    for t in range(inputs.shape[1]):
        h, c = model.lstm(model.embed(inputs[:, t]), (h, c))
        scores = model.out(h)
        total = total + F.cross_entropy(scores, targets[:, t], ignore_index=NULL, reduction="sum")
    return total / N


def decode_step(model, token, state):
    h, c = model.lstm(model.embed(token), state)
    log_probs = torch.log_softmax(model.out(h), dim=1)
    return log_probs, (h, c)
