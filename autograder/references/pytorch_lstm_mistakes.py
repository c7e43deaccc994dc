"""Known mistakes of assignment 5's beam search, as runnable variants (their outputs are the signatures
the feedback recognises). The LSTM module's mistakes are keyword arguments of `torch_modules.lstm`."""

from __future__ import annotations

import numpy as np

from .torch_modules import StepFn


def beam_search_variant(step_fn: StepFn, start_state, start_token: int, end_token: int, beam_width: int,
                        max_len: int, *, per_beam: bool = False, no_stop: bool = False) -> list[tuple[list[int], float]]:
    """Beam search with one mistake.

    per_beam: after the first step every hypothesis keeps only its own best extension (pruning per
    beam instead of over the whole pool); no_stop: end_token does not finish a hypothesis, which is
    extended further up to max_len tokens.
    """
    beam = [([], 0.0, start_state, False)]
    for step in range(max_len):
        if all(done for *_, done in beam):
            break
        pool = []
        for tokens, score, state, done in beam:
            if done:
                pool.append((tokens, score, state, True))
                continue
            log_probs, new_state = step_fn(tokens[-1] if tokens else start_token, state)
            log_probs = np.asarray(log_probs, dtype=np.float64)
            choices = [int(np.argmax(log_probs))] if per_beam and step > 0 else range(log_probs.shape[0])
            for v in choices:
                finished = v == end_token and not no_stop
                pool.append((tokens + [v], score + float(log_probs[v]), new_state, finished))
        pool.sort(key=lambda hyp: -hyp[1])
        beam = pool[:beam_width]
    return [(tokens, score) for tokens, score, _, _ in beam]
