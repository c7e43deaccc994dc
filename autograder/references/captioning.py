"""Instructor-side references for assignment 7 (`captioning`): the teacher-forced loss and one decoding step.

The model (CNN encoder, init_state, embedding, nn.LSTMCell, output layer) is the course's scaffolding,
`rnn_helpers.captioning.CaptionModel`, rebuilt here from a config and weight arrays in float64 (the
worker rebuilds the same one). The decoder is recomputed here from the raw weights: the LSTM step
written out (PyTorch's gate order i, f, g, o), the log-softmax and the masked sum by hand, so a
mistake in how the student drives `model.lstm` cannot also be in the reference. The keyword
arguments produce the known mistakes, for hints. Nothing here imports the solution notebooks.
"""

from __future__ import annotations

import numpy as np
import torch

from rnn_helpers.captioning import NULL, model_from_arrays


def make_model(config: dict, weights: dict):
    return model_from_arrays(config, weights)  # float64


def lstm_step(model, x, h, c):
    """One nn.LSTMCell step from its weights: x (N, E), h and c (N, H) -> (h, c)."""
    cell = model.lstm
    a = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh  # (N, 4H), order i, f, g, o
    i, f, g, o = a.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def log_softmax(scores):
    shifted = scores - scores.max(dim=-1, keepdim=True).values
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def start_state(model, images, init: str = "image"):
    if init == "zeros":
        H = model.lstm.weight_hh.shape[1]
        z = images.new_zeros((images.shape[0], H))
        return z, z
    return model.init_state(model.encoder(images))


def loss_variant(model, images, captions, *, mask: bool = True, shift: bool = True, average: str = "N",
                 init: str = "image"):
    """The loss as a tensor. Correct: mask=True, shift=True, average="N", init="image".

    shift=False: targets captions[:, :-1], the words just read. average: "N" (right), "none" (the sum),
    "tokens" (mean over the counted targets: F.cross_entropy's default), "NT" (over N * T).
    init="zeros": the decoder starts from zeros, not from the image.
    """
    N = captions.shape[0]
    inputs = captions[:, :-1]                                 # (N, T)
    targets = captions[:, 1:] if shift else captions[:, :-1]  # (N, T)
    h, c = start_state(model, images, init)
    total = images.new_zeros(())
    count = 0
    for t in range(inputs.shape[1]):
        h, c = lstm_step(model, model.embed.weight[inputs[:, t]], h, c)
        logp = log_softmax(h @ model.out.weight.T + model.out.bias)  # (N, V)
        nll = -logp.gather(1, targets[:, t:t + 1])[:, 0]            # (N,)
        keep = (targets[:, t] != NULL) if mask else torch.ones_like(targets[:, t], dtype=torch.bool)
        total = total + (nll * keep).sum()
        count += int(keep.sum())
    divisor = {"N": N, "none": 1, "tokens": max(count, 1), "NT": N * inputs.shape[1]}[average]
    return total / divisor


def captioning_loss(config, weights, images, captions, **mistake) -> tuple[float, dict]:
    """(loss, {parameter name: gradient array}) for numpy images (N, 3, S, S) and captions (N, L)."""
    model = make_model(config, weights)
    loss = loss_variant(model, torch.tensor(images, dtype=torch.float64), torch.tensor(captions), **mistake)
    loss.backward()
    return loss.item(), {k: (torch.zeros_like(p) if p.grad is None else p.grad).numpy().copy()
                         for k, p in model.named_parameters()}


def decode_step(config, weights, token, h, c, *, output: str = "log_probs", from_state: str = "new") -> dict:
    """{"log_probs": (N, V), "h": (N, H), "c": (N, H)} after reading `token` (N,) in state (h, c).

    output: "log_probs" (right), "probs" or "scores" (mistakes). from_state="old": the distribution is
    computed from the state before the step (a mistake).
    """
    model = make_model(config, weights)
    with torch.no_grad():
        h0, c0 = torch.tensor(h), torch.tensor(c)
        h1, c1 = lstm_step(model, model.embed.weight[torch.tensor(token)], h0, c0)
        hs = h1 if from_state == "new" else h0
        scores = hs @ model.out.weight.T + model.out.bias  # (N, V)
        out = {"log_probs": log_softmax(scores), "probs": log_softmax(scores).exp(), "scores": scores}[output]
    return {"log_probs": out.numpy(), "h": h1.numpy(), "c": c1.numpy()}
