"""Long-range dependencies, measured: tanh RNN vs LSTM vs GRU on the adding problem and the copy task.

    python experiments/long_range.py                       # full mode: the run behind chapter 8 (CPU-sized)
    RNN_QUICK=1 python experiments/long_range.py           # quick mode: tiny T and a few steps (seconds)
    python experiments/long_range.py --T 50 100 200 400 600 --steps 20000 --hidden 128 --seeds 3 \
        --copy-T 500 --copy-steps 20000 --device cuda      # closer to the literature's scale, on a GPU

Writes results/long_range.json (adding problem) and results/long_range_copy.json (copy task) via
`save_result`, which records the command, date, machine and commit. Both files are rewritten after
every finished run, so a killed run loses at most the run in progress; starting the same command
again skips the runs already in the files (same configuration) and carries on (`--fresh` starts over).
`--tag long` writes results/long_range_long.json (and _copy_long) instead, for a second budget.
Every model gets the same hidden size, batch, optimiser, learning rate, clipping and number of steps.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from rnn_helpers.config import is_quick  # noqa: E402
from rnn_helpers.devices import pick_device  # noqa: E402
from rnn_helpers.long_range import KINDS, TaskConfig, adding_baseline_mse, copy_baseline_ce, train_task  # noqa: E402
from rnn_helpers.results import load_result, save_result  # noqa: E402

ADDING, COPY = "long_range", "long_range_copy"


def parse_args(argv: list[str]) -> argparse.Namespace:
    quick = is_quick()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--T", type=int, nargs="+", default=[5, 10] if quick else [50, 100, 200],
                   help="adding-problem sequence lengths")
    p.add_argument("--models", nargs="+", default=list(KINDS), choices=KINDS)
    p.add_argument("--steps", type=int, default=20 if quick else 1000, help="training steps per run (all models)")
    p.add_argument("--seeds", type=int, default=1 if quick else 2, help="seeds 0 .. seeds-1")
    p.add_argument("--hidden", type=int, default=16 if quick else 64)
    p.add_argument("--batch", type=int, default=16 if quick else 64)
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (all models)")
    p.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping threshold")
    p.add_argument("--eval-every", type=int, default=10 if quick else 50)
    p.add_argument("--test-size", type=int, default=64 if quick else 1000)
    p.add_argument("--copy-T", type=int, default=5 if quick else 50, help="copy-task delay (0 skips the copy task)")
    p.add_argument("--copy-steps", type=int, default=None, help="copy-task steps (default: --steps)")
    p.add_argument("--copy-seeds", type=int, default=1)
    p.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cuda, mps or cpu")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (small models gain little from more)")
    p.add_argument("--tag", default="", help="write results/long_range_<tag>.json instead (a second budget, say)")
    p.add_argument("--fresh", action="store_true", help="ignore runs already in the result files")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def _existing(name: str, fresh: bool) -> list[dict]:
    if fresh:
        return []
    try:
        return load_result(name)["data"]["runs"]
    except (FileNotFoundError, KeyError, ValueError):
        return []


def _run_all(name: str, configs: list[TaskConfig], args, device, extra: dict, command: str) -> list[dict]:
    runs = [r for r in _existing(name, args.fresh) if r["config"] in [asdict(c) for c in configs]]
    done = [r["config"] for r in runs]
    started = time.perf_counter()
    for i, config in enumerate(configs, 1):
        if asdict(config) in done:
            continue
        result = train_task(config, progress=not args.no_progress, device=device)
        runs.append(result)
        print(f"[{i}/{len(configs)}] {config.task} {config.kind:4s} T={config.T:4d} seed={config.seed}: "
              f"final test loss {result['final_test_loss']:.4g} (baseline {result['baseline']:.4g}), "
              f"{result['wall_s']:.0f} s, {result['ms_per_step']:.0f} ms/step", flush=True)
        save_result(name, {**extra, "runs": runs, "complete": len(runs) == len(configs),
                           "session_wall_s": round(time.perf_counter() - started, 1)}, command=command)
    return runs


def main(argv: list[str] | None = None) -> None:
    """Run the experiment; `argv` None means the defaults (that is how `make results` calls it)."""
    args = parse_args([] if argv is None else argv)
    command = " ".join(["python experiments/long_range.py", *(argv or [])])
    if is_quick():
        command = "RNN_QUICK=1 " + command
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    common = dict(hidden=args.hidden, batch=args.batch, lr=args.lr, clip=args.clip, eval_every=args.eval_every,
                  test_size=args.test_size, device=args.device)
    # seed-major order: after the first sweep every (model, T) has one finished run
    adding = [TaskConfig(task="adding", kind=kind, T=T, steps=args.steps, seed=seed, **common)
              for seed in range(args.seeds) for T in args.T for kind in args.models]
    extra = {"baseline_mse": adding_baseline_mse(), "T": args.T, "models": args.models, "seeds": args.seeds,
             "threads": args.threads, "torch": torch.__version__}
    suffix = f"_{args.tag}" if args.tag else ""
    _run_all(ADDING + suffix, adding, args, device, extra, command)
    if args.copy_T:
        steps = args.copy_steps or args.steps
        copy = [TaskConfig(task="copy", kind=kind, T=args.copy_T, steps=steps, seed=seed, **common)
                for seed in range(args.copy_seeds) for kind in args.models]
        extra = {"baseline_ce": copy_baseline_ce(args.copy_T), "T": args.copy_T, "models": args.models,
                 "seeds": args.copy_seeds, "threads": args.threads, "torch": torch.__version__}
        _run_all(COPY + suffix, copy, args, device, extra, command)


if __name__ == "__main__":
    main(sys.argv[1:])
