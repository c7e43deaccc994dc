"""Train a character-level LSTM language model: the command and the importable loop.

    python -m rnn_helpers.train --corpus shakespeare --device auto --steps 5000 --hidden 512 --layers 2
    python -m rnn_helpers.train --corpus python --checkpoint runs/py.pt            # saves as it goes
    python -m rnn_helpers.train --corpus python --checkpoint runs/py.pt --resume   # continues from it
    RNN_QUICK=1 python -m rnn_helpers.train --corpus tiny                          # seconds on a CPU

    from rnn_helpers.train import TrainConfig, train
    result = train(TrainConfig(corpus="shakespeare", steps=2000, hidden=256))

The loop's pieces: the device is chosen once (CUDA, then MPS, then CPU) and printed; the corpus is
cut into N contiguous streams read in chunks of T characters (`truncated_batches`), and each row's
final (h, c) is carried into the next chunk but detached, so gradients stop at the chunk boundary
(truncated BPTT); gradients are clipped by their global norm; AdamW updates; validation loss is
reported in nats per character and in bits per character (nats / ln 2).

Vocabularies: Shakespeare and Python build theirs from the 'all' split (train + validation), so that
validation never meets an unknown character (Python's is 221+ characters, most of them rare).
The tiny corpus has no split: it is both training and validation text (for tests only).
One process, one device: multi-GPU (DistributedDataParallel via torchrun) is not supported here.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from rnn_helpers import data
from rnn_helpers.batching import num_batches, truncated_batches
from rnn_helpers.config import is_quick, quick_or_full, seed_everything
from rnn_helpers.decoding import sample
from rnn_helpers.devices import pick_device, synchronize
from rnn_helpers.models import CharLSTM, CharLSTMConfig, count_parameters, detach_state

CORPORA = ("shakespeare", "python", "tiny")
PROMPTS = {"shakespeare": "ROMEO:\n", "python": "def ", "tiny": "\n"}


@dataclass
class TrainConfig:
    """Everything a run depends on. Defaults are GPU-sized in full mode and seconds-sized in quick mode."""

    corpus: str = "shakespeare"
    device: str = "auto"
    steps: int = field(default_factory=lambda: quick_or_full(30, 5000))
    batch_size: int = field(default_factory=lambda: quick_or_full(8, 64))
    seq_len: int = field(default_factory=lambda: quick_or_full(32, 128))
    hidden: int = field(default_factory=lambda: quick_or_full(64, 512))
    layers: int = 2
    embed: int = 64
    dropout: float = 0.0
    lr: float = 2e-3
    weight_decay: float = 0.01
    clip: float = 1.0
    eval_every: int = field(default_factory=lambda: quick_or_full(15, 500))
    eval_chars: int = field(default_factory=lambda: quick_or_full(4_000, 200_000))  # of the validation text
    train_chars: int | None = field(default_factory=lambda: quick_or_full(50_000, None))  # None: all
    sample_every: int = field(default_factory=lambda: quick_or_full(30, 1000))
    sample_length: int = field(default_factory=lambda: quick_or_full(60, 300))
    seed: int = 0
    checkpoint: str | None = None
    resume: bool = False
    # torch CPU threads; None keeps PyTorch's default. One thread is much faster on a busy shared CPU
    # (several threads that wait for each other), so quick mode uses one.
    threads: int | None = field(default_factory=lambda: quick_or_full(1, None))
    progress: bool = True


@dataclass
class TrainResult:
    """What a run produced. `losses[k]` is the training loss (nats/char) of step k + 1.

    wall_time_s and chars_per_sec count training only (not validation or sampling) and, for a
    resumed run, every session since step 0.
    """

    losses: list[float]
    val_history: list[dict]  # {"step", "val_loss" (nats/char), "val_bpc"}
    samples: list[dict]  # {"step", "temperature", "text"}
    wall_time_s: float
    device: str
    chars_per_sec: float
    parameters: int
    config: dict
    model: CharLSTM = field(repr=False)
    vocab: data.CharVocab = field(repr=False)

    @property
    def final_val_loss(self) -> float:
        return self.val_history[-1]["val_loss"]

    @property
    def final_val_bpc(self) -> float:
        return self.val_history[-1]["val_bpc"]


def load_corpus(name: str, train_chars: int | None = None) -> tuple[str, str, data.CharVocab]:
    """(train text, validation text, vocabulary) of corpus `name`; train cut to `train_chars` if given."""
    if name == "shakespeare":
        train_text, val_text = data.load_shakespeare("train"), data.load_shakespeare("val")
    elif name == "python":
        train_text, val_text = data.load_python_source("train"), data.load_python_source("val")
    elif name == "tiny":
        train_text = val_text = data.load_tiny_corpus()
    else:
        raise ValueError(f"unknown corpus {name!r}; choose one of {', '.join(CORPORA)}")
    vocab = data.CharVocab.from_text(train_text + val_text)
    if train_chars is not None:
        train_text = train_text[:train_chars]
    return train_text, val_text, vocab


@torch.no_grad()
def evaluate(model: CharLSTM, ids: np.ndarray, batch_size: int, seq_len: int, device) -> float:
    """Mean cross-entropy (nats per character) over `ids`, read as batch_size streams with carried state."""
    seq_len = min(seq_len, len(ids) - 1)
    batch_size = max(1, min(batch_size, (len(ids) - 1) // seq_len))
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    for x, y in truncated_batches(ids, batch_size, seq_len):
        x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)  # (N, T) each
        logits, state = model(x, state)  # (N, T, V)
        total += torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    return total / count


def _rng_states() -> dict:
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path: str | Path, payload: dict) -> None:
    """torch.save to a temporary file beside `path`, then rename it into place (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def train(config: TrainConfig) -> TrainResult:
    """Train a CharLSTM as `config` says and return its TrainResult (the model included)."""
    if config.threads:
        torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    train_text, val_text, vocab = load_corpus(config.corpus, config.train_chars)
    train_ids = vocab.encode(train_text)  # (L,)
    val_ids = vocab.encode(val_text[: config.eval_chars])  # (L_val,)
    if num_batches(len(train_ids), config.batch_size, config.seq_len) == 0:
        raise ValueError(f"the {config.corpus} training text ({len(train_ids)} characters) is too short for "
                         f"batch_size={config.batch_size}, seq_len={config.seq_len}")

    model = CharLSTM(CharLSTMConfig(vocab_size=len(vocab), embed_dim=config.embed, hidden_size=config.hidden,
                                    num_layers=config.layers, dropout=config.dropout)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sample_gen = torch.Generator().manual_seed(config.seed)
    step, losses, val_history, samples, elapsed = 0, [], [], [], 0.0

    if config.resume:
        if not config.checkpoint or not Path(config.checkpoint).exists():
            raise FileNotFoundError(f"--resume needs an existing --checkpoint file, got {config.checkpoint!r}")
        ckpt = torch.load(config.checkpoint, map_location=device, weights_only=False)
        if ckpt["vocab"] != vocab.chars or ckpt["model_config"] != model.config.to_dict():
            raise ValueError(f"{config.checkpoint} was made for another corpus or model size; "
                             f"its model: {ckpt['model_config']}")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step, losses, val_history, samples = ckpt["step"], ckpt["losses"], ckpt["val_history"], ckpt["samples"]
        elapsed = ckpt["wall_time_s"]
        _set_rng_states(ckpt["rng"])
        sample_gen.set_state(ckpt["sample_rng"])
        print(f"Resumed from {config.checkpoint} at step {step}")

    print(f"{config.corpus}: {len(train_ids):,} training characters, {len(val_ids):,} validation, "
          f"V = {len(vocab)}; model: {count_parameters(model):,} parameters "
          f"({config.layers} x LSTM({config.hidden})), N = {config.batch_size}, T = {config.seq_len}")

    def checkpoint_now():
        if config.checkpoint:
            save_checkpoint(config.checkpoint, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                "model_config": model.config.to_dict(), "train_config": asdict(config), "vocab": vocab.chars,
                "losses": losses, "val_history": val_history, "samples": samples, "wall_time_s": elapsed,
                "rng": _rng_states(), "sample_rng": sample_gen.get_state()})

    def validate_and_sample():
        val = evaluate(model, val_ids, config.batch_size, config.seq_len, device)
        val_history.append({"step": step, "val_loss": val, "val_bpc": val / math.log(2)})
        msg = f"step {step}: val loss {val:.3f} nats/char = {val / math.log(2):.3f} bits/char"
        if step % config.sample_every == 0 or step == config.steps:
            text = sample(model, vocab, PROMPTS[config.corpus], config.sample_length, 1.0, device, sample_gen)
            samples.append({"step": step, "temperature": 1.0, "text": text})
            msg += f"\n--- sample (T = 1.0) ---\n{PROMPTS[config.corpus]}{text}\n---"
        tqdm.write(msg)

    n_batches = num_batches(len(train_ids), config.batch_size, config.seq_len)
    model.train()
    state, batches = None, None
    run_start_step, elapsed_before = step, elapsed
    tick = time.perf_counter()  # training time is counted between ticks; validation is not training
    bar = tqdm(total=config.steps, initial=step, disable=not config.progress, desc=config.corpus,
               unit="step", dynamic_ncols=True, file=sys.stdout)
    while step < config.steps:
        if batches is None or step % n_batches == 0:  # a new pass over the text starts from zero state
            batches = truncated_batches(train_ids, config.batch_size, config.seq_len)
            for _ in range(step % n_batches):  # after a resume, skip to where this pass stopped
                next(batches)
            state = None
        x, y = next(batches)
        x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)  # (N, T) each
        logits, state = model(x, detach_state(state))  # (N, T, V); no gradient into earlier chunks
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())  # nats/char
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        step += 1
        losses.append(loss.item())  # .item() waits for the device, so the timings are honest on a GPU
        now = time.perf_counter()
        rate = (step - run_start_step) * y.numel() / max(elapsed - elapsed_before + now - tick, 1e-9)
        bar.set_postfix(loss=f"{losses[-1]:.3f}", chars_per_s=f"{rate:,.0f}", refresh=False)
        bar.update(1)
        if step % config.eval_every == 0 or step == config.steps:
            synchronize(device)
            elapsed += time.perf_counter() - tick
            validate_and_sample()
            checkpoint_now()
            tick = time.perf_counter()
    bar.close()
    synchronize(device)
    elapsed += time.perf_counter() - tick
    if not val_history or val_history[-1]["step"] != step:
        validate_and_sample()
    trained_chars = step * config.batch_size * config.seq_len  # over every session of a resumed run
    return TrainResult(losses=losses, val_history=val_history, samples=samples, wall_time_s=elapsed,
                       device=str(device), chars_per_sec=trained_chars / max(elapsed, 1e-9),
                       parameters=count_parameters(model), config=asdict(config), model=model, vocab=vocab)


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    mode = "quick mode (RNN_QUICK=1)" if is_quick() else "full mode"
    p = argparse.ArgumentParser(
        prog="python -m rnn_helpers.train",
        description=f"Train a character-level LSTM language model. Defaults shown are for {mode}; "
                    "RNN_QUICK=1 shrinks them to a run of seconds on a CPU.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--corpus", choices=CORPORA, default=defaults.corpus, help="training text")
    p.add_argument("--device", default=defaults.device, help="auto (CUDA, then MPS, then CPU), cuda, mps or cpu")
    p.add_argument("--steps", type=int, default=defaults.steps, help="optimizer steps in all (a resumed run stops here too)")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size, help="N, parallel text streams")
    p.add_argument("--seq-len", type=int, default=defaults.seq_len, help="T, characters per chunk (truncation length)")
    p.add_argument("--hidden", type=int, default=defaults.hidden, help="H, LSTM hidden size")
    p.add_argument("--layers", type=int, default=defaults.layers, help="stacked LSTM layers")
    p.add_argument("--embed", type=int, default=defaults.embed, help="D, embedding size")
    p.add_argument("--dropout", type=float, default=defaults.dropout, help="dropout between LSTM layers")
    p.add_argument("--lr", type=float, default=defaults.lr, help="AdamW learning rate")
    p.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="AdamW weight decay")
    p.add_argument("--clip", type=float, default=defaults.clip, help="max global gradient norm")
    p.add_argument("--eval-every", type=int, default=defaults.eval_every, help="steps between validations")
    p.add_argument("--eval-chars", type=int, default=defaults.eval_chars, help="validation characters used")
    p.add_argument("--train-chars", type=int, default=defaults.train_chars, help="cut the training text (default: all)")
    p.add_argument("--sample-every", type=int, default=defaults.sample_every, help="steps between printed samples")
    p.add_argument("--sample-length", type=int, default=defaults.sample_length, help="characters per sample")
    p.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    p.add_argument("--checkpoint", default=None, help="save model, optimizer, step and RNG states here")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--threads", type=int, default=defaults.threads, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    args["progress"] = not args.pop("no_progress")
    config = TrainConfig(**{f.name: args[f.name] for f in fields(TrainConfig)})
    try:
        result = train(config)
    except (data.DataError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"done: {len(result.losses)} steps on {result.device} in {result.wall_time_s:.1f} s; "
          f"val loss {result.final_val_loss:.3f} nats/char ({result.final_val_bpc:.3f} bits/char)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
