"""Batching pays: characters per second of one NumPy training step, batch 1 against batch 32.

    python bench/numpy_rnn_speed.py
    RNN_QUICK=1 python bench/numpy_rnn_speed.py     # a few seconds

The model is assignment 1's character RNN (embedding D = 32, tanh RNN H = 100, linear output over
the Shakespeare vocabulary, chunks of T = 25 characters). Its layer functions are loaded from the
solution notebook (instructor side: `use_functions_from("01_rnn_bptt.ipynb", folder=solutions/)`),
so the code timed is the course's own code, unchanged, at two batch sizes. One step = forward,
loss, backward and an SGD update. Target: batch 32 processes at least 10x the characters per second
of batch 1 (the matmuls get wider; the Python loop over time costs the same).
"""

from __future__ import annotations

import argparse
import os

# One BLAS thread unless the caller says otherwise: the comparison is about batching, not threads,
# and several BLAS threads on a busy shared CPU mostly wait for each other.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np  # noqa: E402 (after the thread settings)

from rnn_helpers.assignments import use_functions_from
from rnn_helpers.batching import truncated_batches
from rnn_helpers.config import is_quick, quick_or_full
from rnn_helpers.data import CharVocab, load_shakespeare
from rnn_helpers.results import RESULTS_ENV, save_result

ROOT = Path(__file__).resolve().parents[1]
D, H, T = 32, 100, 25


def load_layers() -> dict:
    return use_functions_from("01_rnn_bptt.ipynb", folder=ROOT / "solutions")


def make_step(f: dict):
    """One SGD step of the char RNN built from the notebook's layer functions `f`."""

    def step(params, x, y, h0, lr=0.1):
        mask = np.ones(x.shape, dtype=bool)
        emb, c_emb = f["word_embedding_forward"](x, params["W_embed"])  # (N, T, D)
        h, c_rnn = f["rnn_forward"](emb, h0, params["Wx"], params["Wh"], params["b"])  # (N, T, H)
        scores, c_aff = f["temporal_affine_forward"](h, params["W_out"], params["b_out"])  # (N, T, V)
        loss, dscores = f["temporal_softmax_loss"](scores, y, mask)
        dh, dW_out, db_out = f["temporal_affine_backward"](dscores, c_aff)  # (N, T, H)
        demb, _, dWx, dWh, db = f["rnn_backward"](dh, c_rnn)
        dW_embed = f["word_embedding_backward"](demb, c_emb)
        grads = {"W_embed": dW_embed, "Wx": dWx, "Wh": dWh, "b": db, "W_out": dW_out, "b_out": db_out}
        for k, g in grads.items():
            params[k] -= lr * np.clip(g, -5, 5)
        return loss, h[:, -1, :]  # (N, H) carried to the next chunk

    return step


def chars_per_second(step, ids, V, batch, steps, warmup, rng) -> tuple[float, float]:
    """(median chars/s, median wall ms per step, median CPU ms per step) over `steps` timed steps of batch size `batch`."""
    params = {"W_embed": rng.standard_normal((V, D)), "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
              "Wh": rng.standard_normal((H, H)) / np.sqrt(H), "b": np.zeros(H),
              "W_out": rng.standard_normal((H, V)) / np.sqrt(H), "b_out": np.zeros(V)}
    h = np.zeros((batch, H))
    times, cpu_times = [], []
    for k, (x, y) in enumerate(truncated_batches(ids, batch, T)):
        if k >= warmup + steps:
            break
        t0, c0 = time.perf_counter(), time.process_time()
        _, h = step(params, x, y, h)
        if k >= warmup:
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
    per_step = statistics.median(times)
    return batch * T / per_step, 1000 * per_step, 1000 * statistics.median(cpu_times)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=quick_or_full(10, 100), help="timed steps per batch size")
    p.add_argument("--warmup", type=int, default=quick_or_full(2, 10), help="untimed steps first")
    args = p.parse_args(argv)
    text = load_shakespeare("train")
    vocab = CharVocab.from_text(text + load_shakespeare("val"))
    ids = vocab.encode(text[: quick_or_full(200_000, 2_000_000)])
    env = {"device": "cpu (NumPy)", "numpy": np.__version__, "python": platform.python_version(),
           "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
           "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default",
           "load_average_1min": round(os.getloadavg()[0], 2)}
    print("environment: " + ", ".join(f"{k} {v}" for k, v in env.items()))
    print(f"model: V {len(vocab)}, D {D}, H {H}, T {T}; median of {args.steps} steps after {args.warmup} warm-up")
    step = make_step(load_layers())
    rows = []
    for batch in (1, 32):
        cps, ms, cpu_ms = chars_per_second(step, ids, len(vocab), batch, args.steps, args.warmup,
                                           np.random.default_rng(0))
        rows.append({"batch": batch, "ms_per_step": ms, "cpu_ms_per_step": cpu_ms, "chars_per_sec": cps})
    # CPU ms (process time) beside wall ms: on a busy shared machine the two differ, and wall time is
    # what a student waits for, so the verdict uses wall time.
    print(f"\n{'batch':>5} {'ms/step':>9} {'CPU ms':>8} {'chars/s':>10} {'x batch 1':>10}")
    for r in rows:
        r["speedup"] = r["chars_per_sec"] / rows[0]["chars_per_sec"]
        print(f"{r['batch']:>5} {r['ms_per_step']:>9.2f} {r['cpu_ms_per_step']:>8.2f} {r['chars_per_sec']:>10,.0f} "
              f"{r['speedup']:>10.1f}")
    speedup = rows[1]["speedup"]
    print(f"\nsummary: batch 32 trains {speedup:.1f}x the characters per second of batch 1 "
          f"(target >= 10x: {'met' if speedup >= 10 else 'NOT met'})")
    out = {"environment": env, "sizes": {"V": len(vocab), "D": D, "H": H, "T": T}, "rows": rows,
           "speedup": speedup, "target_met": speedup >= 10}
    if not is_quick() or os.environ.get(RESULTS_ENV):
        print(f"wrote {save_result('bench_numpy_rnn_speed', out)}")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
