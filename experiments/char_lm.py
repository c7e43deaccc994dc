"""Character LSTMs on Shakespeare and on Python source: the numbers, samples and cells of chapter 7.

    python experiments/char_lm.py                     # both corpora (full mode: ~15 min each on a 2-core CPU)
    python experiments/char_lm.py python              # one corpus
    python experiments/char_lm.py --resume            # continue from the checkpoints of an earlier run
    RNN_QUICK=1 RNN_RESULTS_DIR=/tmp/r python experiments/char_lm.py   # seconds

Writes results/char_lm_<corpus>.json: the configuration, training-loss curve, validation history
(nats and bits per character), wall time, device, and samples at temperatures 0.5, 1.0 and 1.5.
For Python it also searches the top layer's cells (c) and hidden units (h) for the ones that track
being inside a string or comment, the indentation depth and the position in the line, and saves the
correlations plus a short excerpt with the best cells' activations (the page colours the text).

Full-mode sizes are CPU-sized on purpose (2 layers x 128 hidden, N = 32, T = 100, 2,000 steps, one
thread): each run takes about 20 minutes on a busy shared 2-core CPU (about 3.5 steps/s on an idle
core would halve that). On a GPU, pass larger
sizes to `python -m rnn_helpers.train` (its defaults are 512 hidden, N = 64, T = 128, 5,000 steps).
The trained weights are kept outside git, in the data cache (`checkpoints/char_lm_<corpus>.pt`).
"""

from __future__ import annotations

import sys

import torch

from rnn_helpers import data
from rnn_helpers.config import quick_or_full
from rnn_helpers.decoding import sample
from rnn_helpers.results import save_result
from rnn_helpers.train import PROMPTS, TrainConfig, train

TEMPERATURES = (0.5, 1.0, 1.5)
CORPORA = ("shakespeare", "python")


def config_for(corpus: str, resume: bool = False) -> TrainConfig:
    return TrainConfig(
        corpus=corpus, device="auto", steps=quick_or_full(20, 2000), resume=resume, batch_size=quick_or_full(8, 32),
        seq_len=quick_or_full(32, 100), hidden=quick_or_full(32, 128), layers=2, embed=quick_or_full(16, 64),
        eval_every=quick_or_full(10, 250), eval_chars=quick_or_full(3_000, 100_000),
        train_chars=quick_or_full(40_000, None), sample_every=quick_or_full(20, 500),
        sample_length=quick_or_full(40, 200), threads=1, progress=not quick_or_full(True, False),
        checkpoint=str(data.cache_dir() / "checkpoints" / f"char_lm_{corpus}{quick_or_full('_quick', '')}.pt"))


def run(corpus: str, resume: bool = False) -> dict:
    config = config_for(corpus, resume)
    result = train(config)
    model, vocab = result.model, result.vocab
    gen = torch.Generator().manual_seed(1234)
    length = quick_or_full(60, 400)
    samples = [{"temperature": t, "prompt": PROMPTS[corpus],
                "text": sample(model, vocab, PROMPTS[corpus], length, t, generator=gen)} for t in TEMPERATURES]
    stride = max(1, len(result.losses) // 200)  # keep the curve small: about 200 points
    out = {
        "corpus": corpus, "device": result.device, "wall_time_s": round(result.wall_time_s, 1),
        "chars_per_sec": round(result.chars_per_sec), "parameters": result.parameters,
        "vocab_size": len(vocab), "config": {k: v for k, v in result.config.items() if k != "checkpoint"},
        "torch_threads": torch.get_num_threads(), "torch_version": torch.__version__,
        "train_loss": {"step": list(range(1, len(result.losses) + 1, stride)),
                       "loss": [round(v, 4) for v in result.losses[::stride]]},
        "val_history": [{k: round(v, 4) if isinstance(v, float) else v for k, v in h.items()}
                        for h in result.val_history],
        "final_val_loss": round(result.final_val_loss, 4), "final_val_bpc": round(result.final_val_bpc, 4),
        "samples": samples,
    }
    if corpus == "python":
        out["cells"] = analyse_cells(model, vocab)
    path = save_result(f"char_lm_{corpus}", out)
    print(f"{corpus}: val {out['final_val_loss']:.3f} nats/char ({out['final_val_bpc']:.3f} bits/char), "
          f"{out['wall_time_s']:.0f} s on {out['device']} -> {path}")
    for s in samples:
        print(f"--- T = {s['temperature']} ---\n{s['prompt']}{s['text']}")
    return out


def analyse_cells(model, vocab) -> dict:
    """Correlate every top-layer unit with three properties of validation source text; keep the best."""
    from rnn_helpers import interpret

    text = interpret.source_excerpt(data.load_python_source("val"), quick_or_full(1_500, 20_000))
    acts = interpret.activations(model, vocab, text)  # {"c": (L, H), "h": (L, H)}
    found = interpret.find_cells(text, acts)
    # The excerpt shown: code rather than a module docstring, so it starts at a method definition.
    at = text.find("\n    def ", len(text) // 4) + 1
    show = interpret.source_excerpt(text[at:], quick_or_full(300, 900))
    offset = at
    excerpt = {"text": show, "cells": {}, "mean": {}, "std": {}}
    for prop, best in found["best"].items():
        unit = acts[best["kind"]][:, best["unit"]]  # (L,) over the whole analysed text
        excerpt["cells"][prop] = [round(float(v), 3) for v in unit[offset: offset + len(show)]]
        excerpt["mean"][prop], excerpt["std"][prop] = round(float(unit.mean()), 4), round(float(unit.std()), 4)
    for kind in found["correlations"]:
        for prop in found["correlations"][kind]:
            found["correlations"][kind][prop] = [round(float(v), 3) for v in found["correlations"][kind][prop]]
    return {"chars_analysed": len(text), "best": found["best"], "correlations": found["correlations"],
            "excerpt": excerpt}


def main(argv: list[str] | None = None) -> None:
    argv = list(argv or [])
    resume = "--resume" in argv  # continue from the checkpoint in the data cache (same sizes)
    names = [a for a in argv if a != "--resume"] or list(CORPORA)
    for name in names:
        if name not in CORPORA:
            raise SystemExit(f"unknown corpus {name!r}; choose from {CORPORA} (and --resume)")
        run(name, resume)


if __name__ == "__main__":
    main(sys.argv[1:])
