"""Instructor-side references for assignment 5 (`pytorch_lstm`): nn.LSTM driven with lecture-layout
weights, and beam search with the assignment's exact rules, plus exhaustive enumeration to prove it.

Lecture layout, per layer l (see book/notation.md): Wx_l (D_l, 4H), Wh_l (H, 4H), b_l (4H,), the
four column blocks in the gate order i, f, o, g. nn.LSTM stores weight_ih_l{l} (4H, D_l) and
weight_hh_l{l} (4H, H) with the row blocks in the order i, f, g, o, and two biases that add up.
Nothing here imports the solution notebooks.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn


def torch_order(H: int, gate_order: str = "ifog") -> np.ndarray:
    """Indices into a lecture-layout 4H axis that give nn.LSTM's i, f, g, o order.

    gate_order: how the 4H axis is read; "ifgo" (a mistake: PyTorch's order assumed) keeps it as is.
    """
    if gate_order == "ifgo":
        return np.arange(4 * H)
    return np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]


def param_names(num_layers: int) -> list[str]:
    """The parameter names of the assignment's LSTM, in order: Wx_0, Wh_0, b_0, Wx_1, ..."""
    return [f"{k}_{l}" for l in range(num_layers) for k in ("Wx", "Wh", "b")]


def torch_weights(params: dict, num_layers: int, gate_order: str = "ifog") -> dict:
    """nn.LSTM's state-dict entries computed (differentiably) from lecture-layout tensors."""
    out = {}
    for l in range(num_layers):
        Wx, Wh, b = params[f"Wx_{l}"], params[f"Wh_{l}"], params[f"b_{l}"]
        P = torch.as_tensor(torch_order(Wh.shape[0], gate_order))
        out[f"weight_ih_l{l}"] = Wx[:, P].T  # (4H, D_l), rows i, f, g, o
        out[f"weight_hh_l{l}"] = Wh[:, P].T  # (4H, H)
        out[f"bias_ih_l{l}"] = b[P]  # (4H,)
        out[f"bias_hh_l{l}"] = torch.zeros_like(b)  # nn.LSTM adds both biases; ours is one vector
    return out


def _layered_lstm(x, weights, num_layers, H, h0, c0, feed: str, init: str):
    """Layer by layer, each a one-layer nn.LSTM; the keyword arguments model mistakes.

    feed: "output" (layer l reads layer l-1's outputs) or "input" (every layer reads x).
    init: "own" (layer l starts from h0[l], c0[l]), "layer0" (every layer from h0[0], c0[0]),
    "chain" (layer l starts from layer l-1's final state).
    """
    inp, hs, cs = x, [], []
    for l in range(num_layers):
        D_l = (x if feed == "input" else inp).shape[-1]
        cell = nn.LSTM(D_l, H, batch_first=True, dtype=torch.float64)
        w = {k.replace(f"_l{l}", "_l0"): v for k, v in weights.items() if k.endswith(f"_l{l}")}
        if init == "chain" and l > 0:
            state = (hs[-1], cs[-1])
        elif init == "layer0":
            state = (h0[:1], c0[:1])
        else:
            state = (h0[l:l + 1], c0[l:l + 1])
        out, (h, c) = torch.func.functional_call(cell, w, ((x if feed == "input" else inp), state))
        hs.append(h)
        cs.append(c)
        inp = out
    return inp, torch.cat(hs, 0), torch.cat(cs, 0)


def lstm(x: np.ndarray, params: dict, num_layers: int, state=None, douts=None, *, gate_order: str = "ifog",
         feed: str = "output", init: str = "own") -> dict:
    """nn.LSTM(batch_first=True) in float64 with lecture-layout weights.

    x: (N, T, D); params: {"Wx_l": (D_l, 4H), "Wh_l": (H, 4H), "b_l": (4H,)} NumPy arrays;
    state: None (zeros) or (h0, c0), each (L, N, H); douts: None or (dout (N, T, H), dh_n, dc_n) upstream
    gradients of out, h_n and c_n. Returns NumPy arrays: out (N, T, H), h_n and c_n (L, N, H) and, with
    douts, the gradients dx, dh0 and dc0 (when a state was given), and dWx_l, dWh_l, db_l.
    With the default keywords this is one multilayer nn.LSTM; other values model known mistakes.
    """
    H = params["Wh_0"].shape[0]
    N = x.shape[0]
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    if state is None:
        h0 = torch.zeros(num_layers, N, H, dtype=torch.float64)
        c0 = torch.zeros(num_layers, N, H, dtype=torch.float64)
    else:
        h0 = torch.tensor(state[0], dtype=torch.float64, requires_grad=True)
        c0 = torch.tensor(state[1], dtype=torch.float64, requires_grad=True)
    weights = torch_weights(leaves, num_layers, gate_order)
    if feed == "output" and init == "own":
        module = nn.LSTM(x.shape[-1], H, num_layers=num_layers, batch_first=True, dtype=torch.float64)
        out, (h_n, c_n) = torch.func.functional_call(module, weights, (xt, (h0, c0)))
    else:
        out, h_n, c_n = _layered_lstm(xt, weights, num_layers, H, h0, c0, feed, init)
    result = {"out": out.detach().numpy(), "h_n": h_n.detach().numpy(), "c_n": c_n.detach().numpy()}
    if douts is not None:
        loss = sum((t * torch.as_tensor(d, dtype=torch.float64)).sum() for t, d in zip((out, h_n, c_n), douts))
        loss.backward()
        result["dx"] = xt.grad.numpy()
        if state is not None:
            result["dh0"], result["dc0"] = h0.grad.numpy(), c0.grad.numpy()
        for k, v in leaves.items():
            result["d" + k] = v.grad.numpy() if v.grad is not None else np.zeros_like(params[k])
    return result


# ---------------------------------------------------------------- beam search

StepFn = Callable[[int, object], tuple[np.ndarray, object]]


def beam_search(step_fn: StepFn, start_state, start_token: int, end_token: int, beam_width: int,
                max_len: int) -> list[tuple[list[int], float]]:
    """The assignment's rules. The beam holds at most beam_width hypotheses (tokens, log_prob, state);
    at each of at most max_len steps every unfinished hypothesis is extended by every token, finished
    ones (last token end_token) are carried over unchanged, and the beam_width best of this pool (by
    log_prob, over all hypotheses together) become the next beam. Stops early when the whole beam has
    finished. Returns [(tokens, log_prob)] best first; tokens exclude start_token, include end_token."""
    beam = [([], 0.0, start_state, False)]
    for _ in range(max_len):
        if all(done for *_, done in beam):
            break
        pool = []
        for tokens, score, state, done in beam:
            if done:
                pool.append((tokens, score, state, True))
                continue
            log_probs, new_state = step_fn(tokens[-1] if tokens else start_token, state)
            log_probs = np.asarray(log_probs, dtype=np.float64)
            for v in range(log_probs.shape[0]):
                pool.append((tokens + [v], score + float(log_probs[v]), new_state, v == end_token))
        pool.sort(key=lambda hyp: -hyp[1])  # stable: ties keep their order
        beam = pool[:beam_width]
    return [(tokens, score) for tokens, score, _, _ in beam]


def greedy(step_fn: StepFn, start_state, start_token: int, end_token: int, max_len: int) -> tuple[list[int], float]:
    """The most likely next token at every step, until end_token or max_len tokens."""
    tokens, score, state, last = [], 0.0, start_state, start_token
    for _ in range(max_len):
        log_probs, state = step_fn(last, state)
        last = int(np.argmax(log_probs))
        tokens.append(last)
        score += float(log_probs[last])
        if last == end_token:
            break
    return tokens, score


def all_sequences(step_fn: StepFn, start_state, start_token: int, end_token: int,
                  max_len: int) -> list[tuple[list[int], float]]:
    """Every sequence beam search could return (ended by end_token within max_len tokens, or max_len
    tokens without it) with its log-probability, best first: the exhaustive answer for tiny V, max_len."""
    found = []

    def visit(tokens, score, state, last):
        if (tokens and tokens[-1] == end_token) or len(tokens) == max_len:
            found.append((tokens, score))
            return
        log_probs, new_state = step_fn(last, state)
        for v in range(len(log_probs)):
            visit(tokens + [v], score + float(log_probs[v]), new_state, v)

    visit([], 0.0, start_state, start_token)
    found.sort(key=lambda hyp: -hyp[1])
    return found


def sequence_log_prob(step_fn: StepFn, start_state, start_token: int, tokens, combine: str = "sum") -> float:
    """The score of one sequence: "sum" of step log-probs (right), or the mistakes "product of
    log-probs" (starting from 1) and "product of probabilities"."""
    state, last = start_state, start_token
    score = {"sum": 0.0, "prod_log": 1.0, "prod_prob": 1.0}[combine]
    for t in tokens:
        log_probs, state = step_fn(last, state)
        lp = float(np.asarray(log_probs, dtype=np.float64)[t])
        score = score + lp if combine == "sum" else score * (lp if combine == "prod_log" else np.exp(lp))
        last = t
    return score


def table_step_fn(table: np.ndarray, order: int) -> StepFn:
    """A step function over a table of log-probabilities, as the grader hands it to beam_search.

    The tables depend on the position too, so that two different sequences never have the same
    log-probability (in a plain Markov chain, reorderings of the same transitions tie, and the order
    of tied hypotheses would be arbitrary). The state counts the steps.
    order 1: table (max_len, V, V), given the position and the last token; state: the position (from 0).
    order 2: table (max_len, V + 1, V, V), given the token before it too; state: (position, that token),
    V standing for "none yet" at the start, so the start state is (0, V).
    """
    if order == 1:
        return lambda token, state: (table[int(state), int(token)], int(state) + 1)
    return lambda token, state: (table[int(state[0]), int(state[1]), int(token)], (int(state[0]) + 1, int(token)))


def start_state(table: np.ndarray, order: int):
    """The state before the first step for `table_step_fn`."""
    return 0 if order == 1 else (0, table.shape[-1])
