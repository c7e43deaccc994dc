"""A correct implementation of assignment clipping_tbptt, written for the autograder's tests.

Test data, not the course solution: the buggy submissions next to it are generated from this file by
`make_buggy.py` (one textual patch each). truncated_bptt_grads uses assignment-1 functions, which the
grader loads first from tests/buggy/correct.py (passed as `with_paths`).
"""

import numpy as np


def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
    if total > max_norm:
        for name in grads:
            grads[name] *= max_norm / total
    return total


def clip_grad_value(grads, clip_value):
    for g in grads.values():
        np.clip(g, -clip_value, clip_value, out=g)


def hidden_jacobian_norms(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = Wh.shape[0]
    hs, h = [], h0
    for t in range(T):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)  # (N, H)
        hs.append(h)
    norms = np.zeros((N, T))
    for n in range(N):
        J = np.eye(H)  # d h_T / d h_T
        for t in range(T - 1, -1, -1):
            norms[n, t] = np.linalg.norm(J, 2)
            J = J @ ((1 - hs[t][n] ** 2)[:, None] * Wh.T)
    return norms


def truncated_bptt_grads(x, y, h0, params, k):
    N, T = x.shape
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    loss, h = 0.0, h0
    for s in range(0, T, k):
        xc, yc = x[:, s:s + k], y[:, s:s + k]
        emb, emb_cache = word_embedding_forward(xc, params["W_embed"])
        hs, rnn_cache = rnn_forward(emb, h, params["Wx"], params["Wh"], params["b"])
        scores, aff_cache = temporal_affine_forward(hs, params["W_out"], params["b_out"])
        chunk_loss, dscores = temporal_softmax_loss(scores, yc, np.ones(xc.shape, dtype=bool))
        dhs, dW_out, db_out = temporal_affine_backward(dscores, aff_cache)
        demb, dh0, dWx, dWh, db = rnn_backward(dhs, rnn_cache)
        dW_embed = word_embedding_backward(demb, emb_cache)
        for name, g in zip(["W_embed", "Wx", "Wh", "b", "W_out", "b_out"], [dW_embed, dWx, dWh, db, dW_out, db_out]):
            grads[name] += g
        loss += chunk_loss
        h = hs[:, -1]
    return loss, grads, h
