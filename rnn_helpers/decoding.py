"""Generate text from a trained character model: sampling with a temperature, and greedy decoding.

    text = sample(model, vocab, "ROMEO:\\n", 200, temperature=0.5, generator=torch.Generator().manual_seed(0))

Temperature T divides the scores before the softmax: p_i ∝ exp(s_i / T). T < 1 sharpens the
distribution (safer, more repetitive text), T > 1 flattens it (more surprising, more misspelt);
T = 0 is greedy decoding (always the most likely character). Beam search is not here: it is part
of assignment 5.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def sample(model, vocab, prompt: str, length: int, temperature: float = 1.0, device=None,
           generator: torch.Generator | None = None) -> str:
    """Continue `prompt` by `length` characters and return the continuation (without the prompt).

    model: a CharLSTM (any module mapping (N, T) indices and a state to ((N, T, V) logits, state)).
    vocab: the CharVocab the model was trained with; prompt: a non-empty string in that vocabulary.
    temperature: >= 0; 0 means greedy (argmax). generator: a CPU torch.Generator for reproducible
    samples (sampling happens on the CPU, so the same generator gives the same text on any device).
    device: where the model runs (default: where its parameters are).
    """
    if not prompt:
        raise ValueError("prompt must contain at least one character (e.g. '\\n')")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    device = device if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        x = torch.as_tensor(vocab.encode(prompt), device=device).unsqueeze(0)  # (1, P)
        logits, state = model(x)  # warm the state up on the whole prompt
        out = []
        for _ in range(length):
            scores = logits[0, -1].float().cpu()  # (V,)
            nxt = _choose(scores, temperature, generator)
            out.append(nxt)
            logits, state = model(torch.tensor([[nxt]], device=device), state)
        return vocab.decode(out)
    finally:
        model.train(was_training)


def greedy(model, vocab, prompt: str, length: int, device=None) -> str:
    """The most likely character at every step (temperature 0)."""
    return sample(model, vocab, prompt, length, temperature=0.0, device=device)


def _choose(scores: torch.Tensor, temperature: float, generator: torch.Generator | None) -> int:
    """One index from scores (V,): argmax when temperature is 0, else a draw from softmax(scores / T)."""
    if temperature == 0:
        return int(torch.argmax(scores))
    probs = torch.softmax(scores / temperature, dim=-1)  # (V,)
    return int(torch.multinomial(probs, 1, generator=generator))

