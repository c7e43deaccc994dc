"""How fast is an LSTM written by hand in PyTorch, against nn.LSTM? Forward + backward per iteration.

    python bench/lstm_speed.py                  # sizes for the device found (CUDA, then MPS, then CPU)
    python bench/lstm_speed.py --device cpu --seq 64 --batch 32 --input 128 --hidden 128
    RNN_QUICK=1 python bench/lstm_speed.py      # a few seconds

Four subjects, one layer each, all computing the same function:
  nn.LSTM         PyTorch's fused implementation (cuDNN on a GPU);
  student loop    one matmul per time step on the concatenation [x_t, h_{t-1}] (how assignment code
                  starts out);
  premultiplied   one matmul for the input projection of ALL time steps (x @ W_x is independent of
                  h), then a loop for the recurrent part h_{t-1} @ W_h only, taking the steps with
                  xw.unbind(1);
  premultiplied, xw[:, t]
                  the same, taking the steps by slicing, whose backward writes a full-size zero
                  tensor per step (the slow way, shown for comparison).
The three hand-written modules below are benchmark subjects, written for this script (they are not
the assignment's graded code). Sizes: PyTorch's fastrnns benchmark on a GPU (seq 100, batch 64,
input 512, hidden 512); (seq 64, batch 32, input 128, hidden 128) on a CPU. Each subject runs
forward + backward of sum(h) after warm-up; the median of many runs is reported, with the device
synchronised before every clock read; ratios are against nn.LSTM in the same run.
Full mode also writes results/bench_lstm_speed.json (quick mode only when RNN_RESULTS_DIR is set).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

from rnn_helpers.config import is_quick, quick_or_full
from rnn_helpers.devices import pick_device, synchronize
from rnn_helpers.results import RESULTS_ENV, save_result

GPU_SIZES = dict(seq=100, batch=64, input=512, hidden=512)
CPU_SIZES = dict(seq=64, batch=32, input=128, hidden=128)


class StudentLoopLSTM(nn.Module):
    """Benchmark subject: one matmul per step on [x_t, h]; gate order i, f, g, o like nn.LSTM."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.W = nn.Parameter(torch.randn(input_size + hidden_size, 4 * hidden_size) / hidden_size ** 0.5)
        self.b = nn.Parameter(torch.zeros(4 * hidden_size))

    def forward(self, x):  # x: (N, T, D) -> (N, T, H)
        N = x.shape[0]
        h = x.new_zeros(N, self.hidden_size)
        c = x.new_zeros(N, self.hidden_size)
        outs = []
        for x_t in x.unbind(1):  # T tensors (N, D); see PremultipliedLSTM for why not x[:, t]
            gates = torch.cat([x_t, h], dim=1) @ self.W + self.b  # (N, 4H)
            i, f, g, o = gates.chunk(4, dim=1)  # (N, H) each
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        return torch.stack(outs, dim=1)  # (N, T, H)


class PremultipliedLSTM(nn.Module):
    """Benchmark subject: x @ W_x for all steps in one matmul, then the recurrent loop on h @ W_h."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.Wx = nn.Parameter(torch.randn(input_size, 4 * hidden_size) / hidden_size ** 0.5)
        self.Wh = nn.Parameter(torch.randn(hidden_size, 4 * hidden_size) / hidden_size ** 0.5)
        self.b = nn.Parameter(torch.zeros(4 * hidden_size))

    def forward(self, x):  # x: (N, T, D) -> (N, T, H)
        N = x.shape[0]
        xw = x @ self.Wx + self.b  # (N, T, 4H): every time step's input projection at once
        h = x.new_zeros(N, self.hidden_size)
        c = x.new_zeros(N, self.hidden_size)
        outs = []
        # unbind, not xw[:, t]: the backward of each slice xw[:, t] writes a zero tensor the size
        # of all of xw, T times over; unbind's backward stacks the T gradients once.
        for xw_t in xw.unbind(1):  # T tensors (N, 4H)
            gates = xw_t + h @ self.Wh  # (N, 4H)
            i, f, g, o = gates.chunk(4, dim=1)  # (N, H) each
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        return torch.stack(outs, dim=1)  # (N, T, H)


class SlicedPremultipliedLSTM(PremultipliedLSTM):
    """Benchmark subject: PremultipliedLSTM taking its steps as xw[:, t] (the slow way, for comparison)."""

    def forward(self, x):  # x: (N, T, D) -> (N, T, H)
        N, T = x.shape[:2]
        xw = x @ self.Wx + self.b  # (N, T, 4H)
        h = x.new_zeros(N, self.hidden_size)
        c = x.new_zeros(N, self.hidden_size)
        outs = []
        for t in range(T):
            gates = xw[:, t] + h @ self.Wh  # (N, 4H); backward: one full-size zero tensor per step
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        return torch.stack(outs, dim=1)  # (N, T, H)


class TorchLSTM(nn.Module):
    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0]  # (N, T, H)


SUBJECTS = {"nn.LSTM": TorchLSTM, "student loop": StudentLoopLSTM, "premultiplied": PremultipliedLSTM,
            "premultiplied, xw[:, t]": SlicedPremultipliedLSTM}


def time_subject(module: nn.Module, x: torch.Tensor, warmup: int, runs: int, device) -> list[float]:
    """Seconds per forward + backward, one entry per timed run."""
    times = []
    for k in range(warmup + runs):
        module.zero_grad(set_to_none=True)
        synchronize(device)
        t0 = time.perf_counter()
        module(x).sum().backward()
        synchronize(device)
        if k >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def environment(device) -> dict:
    info = {"device": str(device), "torch": torch.__version__, "numpy": np.__version__,
            "threads": torch.get_num_threads(), "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
            "load_average_1min": round(os.getloadavg()[0], 2)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cudnn"] = torch.backends.cudnn.version()
    return info


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")
    for k in CPU_SIZES:
        p.add_argument(f"--{k}", type=int, default=None, help=f"{k} size (default: by device)")
    p.add_argument("--runs", type=int, default=quick_or_full(3, 30), help="timed runs per subject")
    p.add_argument("--warmup", type=int, default=quick_or_full(1, 5), help="untimed runs first")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = pick_device(args.device)
    sizes = dict(GPU_SIZES if device.type == "cuda" else CPU_SIZES)
    if is_quick():
        sizes = dict(seq=16, batch=8, input=32, hidden=32)
    sizes.update({k: getattr(args, k) for k in CPU_SIZES if getattr(args, k) is not None})
    env = environment(device)
    print("environment: " + ", ".join(f"{k} {v}" for k, v in env.items()))
    print(f"sizes: seq {sizes['seq']}, batch {sizes['batch']}, input {sizes['input']}, hidden {sizes['hidden']}; "
          f"median of {args.runs} runs after {args.warmup} warm-up, forward + backward")

    x = torch.randn(sizes["batch"], sizes["seq"], sizes["input"], device=device)  # (N, T, D)
    rows = []
    for name, cls in SUBJECTS.items():
        module = cls(sizes["input"], sizes["hidden"]).to(device)
        times = time_subject(module, x, args.warmup, args.runs, device)
        rows.append({"subject": name, "median_ms": 1000 * statistics.median(times),
                     "min_ms": 1000 * min(times), "max_ms": 1000 * max(times)})
    base = rows[0]["median_ms"]
    print(f"\n{'subject':<24} {'median ms':>10} {'min ms':>9} {'max ms':>9} {'x nn.LSTM':>10}")
    for r in rows:
        r["ratio"] = r["median_ms"] / base
        print(f"{r['subject']:<24} {r['median_ms']:>10.2f} {r['min_ms']:>9.2f} {r['max_ms']:>9.2f} {r['ratio']:>10.2f}")
    target = 1.5 if device.type == "cuda" else 2.0
    pre = rows[2]["ratio"]
    verdict = "met" if pre <= target else "NOT met"
    print(f"\nsummary: on {device.type}, premultiplied is {pre:.2f}x nn.LSTM and the student loop "
          f"{rows[1]['ratio']:.2f}x (target premultiplied <= {target}x: {verdict})")
    out = {"environment": env, "sizes": sizes, "runs": args.runs, "warmup": args.warmup, "rows": rows,
           "target_ratio": target, "target_met": pre <= target}
    if not is_quick() or os.environ.get(RESULTS_ENV):
        suffix = "" if device.type == "cpu" else f"_{device.type}"
        print(f"wrote {save_result('bench_lstm_speed' + suffix, out)}")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
