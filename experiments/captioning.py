"""Chapter 9's experiment: train the CNN + LSTM captioner on the shapes dataset, then decode the test split
greedily and with beam search; write results/captioning.json.

Instructor side: it uses the SOLUTIONS' graded functions (`captioning_loss`, `decode_step` from
solutions/07_captioning.ipynb, `beam_search` from solutions/05_pytorch_lstm.ipynb), loaded with
`use_functions_from`, never a second copy. The page reads the JSON and regenerates the test images
from their indices (rnn_helpers.shapes.make_example), so nothing is trained at build time.

    .venv/bin/python experiments/captioning.py [--device auto] [--steps N] [--train N] [--test N]

Full mode (the default) is sized for a shared 2-core CPU, about 12 minutes: 8000 training images,
10000 Adam steps of 48 captions, the default model (conv 16-32-64, LSTM 128). On a GPU, raise
--steps and --train. Quick mode (RNN_QUICK=1): a few seconds, a scratch result.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rnn_helpers.assignments import use_functions_from  # noqa: E402
from rnn_helpers.captioning import (CaptionConfig, CaptionVocab, beam_captions, build_model,  # noqa: E402
                                    corpus_bleu, exact_match, greedy_captions, load_captions, train_captioner)
from rnn_helpers.config import is_quick, quick_or_full, seed_everything  # noqa: E402
from rnn_helpers.devices import pick_device, synchronize  # noqa: E402
from rnn_helpers.results import save_result  # noqa: E402
from rnn_helpers.shapes import equivalent_captions  # noqa: E402

NAME = "captioning"


def caption_kind(caption: str) -> str:
    """'one', 'two' or 'three' objects, read from the grammar's form."""
    words = caption.split()
    if "," in words:
        return "three"
    return "two" if any(w in words for w in ("above", "below", "left", "right")) else "one"


def scores(cands: list[str], refs: list[str]) -> dict:
    """Exact match and BLEU-4 against the reference, and against it plus its paraphrase (_any)."""
    alts = [equivalent_captions(r) for r in refs]
    out = {"exact_match": exact_match(cands, refs), "bleu4": corpus_bleu(cands, refs),
           "exact_match_any": float(np.mean([c in a for c, a in zip(cands, alts)])),
           "bleu4_any": corpus_bleu(cands, alts)}
    for kind in ("one", "two", "three"):
        idx = [i for i, r in enumerate(refs) if caption_kind(r) == kind]
        out[f"exact_match_{kind}"] = exact_match([cands[i] for i in idx], [refs[i] for i in idx]) if idx else None
        out[f"exact_match_any_{kind}"] = float(np.mean([cands[i] in alts[i] for i in idx])) if idx else None
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=quick_or_full(40, 10000))
    p.add_argument("--train", type=int, default=quick_or_full(256, 8000))
    p.add_argument("--test", type=int, default=quick_or_full(24, 500))
    p.add_argument("--batch-size", type=int, default=quick_or_full(16, 48))
    p.add_argument("--beam-width", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (the machine is shared)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    import torch

    args = parse_args(argv if argv is not None else [])
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    device = pick_device(args.device)
    fns = use_functions_from("07_captioning.ipynb", folder=ROOT / "solutions")
    beam_search = use_functions_from("05_pytorch_lstm.ipynb", folder=ROOT / "solutions")["beam_search"]
    captioning_loss, decode_step = fns["captioning_loss"], fns["decode_step"]

    vocab = CaptionVocab()
    cfg = CaptionConfig(vocab_size=len(vocab))
    t0 = time.perf_counter()
    X, Y, _ = load_captions("train", args.train, vocab)
    Xv, Yv, _ = load_captions("val", quick_or_full(32, 500), vocab)
    Xt, _, refs = load_captions("test", args.test, vocab)
    data_s = time.perf_counter() - t0

    model = build_model(cfg, args.seed).to(device)
    t0 = time.perf_counter()
    losses = train_captioner(model, captioning_loss, X, Y, steps=args.steps, batch_size=args.batch_size,
                             device=device, seed=args.seed, log_every=quick_or_full(20, 250))
    synchronize(device)
    train_s = time.perf_counter() - t0
    with torch.no_grad():
        val_loss = float(captioning_loss(model, torch.as_tensor(Xv).to(device), torch.as_tensor(Yv).to(device)))

    t0 = time.perf_counter()
    greedy = [vocab.decode(s) for s in greedy_captions(model, Xt, decode_step)]
    synchronize(device)
    greedy_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    beam = [vocab.decode(s) for s in beam_captions(model, Xt, decode_step, beam_search, beam_width=args.beam_width)]
    beam_s = time.perf_counter() - t0

    examples = [{"index": i, "reference": refs[i], "greedy": greedy[i], "beam": beam[i]} for i in range(len(refs))]
    failures = [e for e in examples if e["beam"] != e["reference"] or e["greedy"] != e["reference"]]
    window = max(1, len(losses) // 60)
    data = {
        "device": str(device), "threads": args.threads,
        "sizes": {"train": args.train, "val": len(Xv), "test": args.test, "steps": args.steps,
                  "batch_size": args.batch_size, "beam_width": args.beam_width, "max_len": 13},
        "config": cfg.to_dict(), "vocab": vocab.words,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "seconds": {"data": round(data_s, 1), "train": round(train_s, 1), "greedy": round(greedy_s, 2),
                    "beam": round(beam_s, 2)},
        "loss_curve": {"step": list(range(window, len(losses) + 1, window)),
                       "loss": [float(np.mean(losses[i - window:i])) for i in range(window, len(losses) + 1, window)]},
        "val_loss": val_loss,
        "greedy": scores(greedy, refs), "beam": scores(beam, refs),
        "n_failures": len(failures),
        "examples": examples[:24],  # the first test images, right or wrong
        "failures": failures[:24],  # the first test images that greedy or beam gets wrong
        "captions": {"reference": refs, "greedy": greedy, "beam": beam},  # every test caption
    }
    path = save_result(NAME, data)
    print(f"greedy: exact {data['greedy']['exact_match']:.3f} BLEU-4 {data['greedy']['bleu4']:.3f} | "
          f"beam {args.beam_width}: exact {data['beam']['exact_match']:.3f} BLEU-4 {data['beam']['bleu4']:.3f} "
          f"| train {train_s:.0f} s on {device} -> {path}")
    return data


if __name__ == "__main__":
    main(sys.argv[1:])
