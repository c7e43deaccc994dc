"""Long-range dependency benchmarks: the adding problem and the copy (memory) task.

Data generators (NumPy, seeded), small PyTorch models (tanh RNN, LSTM, GRU; `batch_first=True`)
and one training loop, `train_task`, that returns learning curves. The experiment script
`experiments/long_range.py` and chapter 8 use them; nothing here is a graded solution.

Adding problem (two-channel form of Le et al. 2015 and Bai et al. 2018):
    x[:, :, 0] ~ U[0, 1]; x[:, :, 1] is 0 except for exactly two 1s at two distinct positions
    drawn uniformly at random; y = sum of the two marked values. Predicting 1 gives MSE 1/6.

Copy task (the formulation of Bai et al. 2018, as in Arjovsky et al. 2016), alphabet of 10:
    0 = blank, 1..8 = data symbols, 9 = delimiter; sequences have length T + 20.
    input  = s_1 .. s_10, then T - 1 blanks, then 11 delimiters (the first one says "recall now")
    target = T + 10 blanks, then s_1 .. s_10
    Predicting blanks and then a uniform guess over the 8 symbols gives 10 ln 8 / (T + 20) nats per step.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from rnn_helpers.devices import pick_device, synchronize

COPY_SYMBOLS = 10        # how many symbols to remember
COPY_CATEGORIES = 8      # data symbols 1..8
COPY_VOCAB = 10          # 0 blank, 1..8 data, 9 delimiter
COPY_BLANK, COPY_DELIMITER = 0, 9
KINDS = ("rnn", "lstm", "gru")


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


# ----------------------------------------------------------------------------- data
def adding_batch(N: int, T: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """N adding-problem sequences of length T.

    rng: a NumPy Generator or an int seed (None: fresh entropy).
    Returns x: (N, T, 2) float32 (channel 0 values in U[0, 1], channel 1 the two markers)
    and y: (N,) float32, the sum of the two marked values.
    """
    if T < 2:
        raise ValueError(f"the adding problem needs T >= 2 (two distinct marker positions), got T={T}")
    rng = _rng(rng)
    values = rng.random((N, T))                                        # (N, T)
    # two distinct positions per row: the indices of the two smallest of T uniform keys
    positions = np.argpartition(rng.random((N, T)), 1, axis=1)[:, :2]  # (N, 2)
    markers = np.zeros((N, T))
    np.put_along_axis(markers, positions, 1.0, axis=1)
    y = np.take_along_axis(values, positions, axis=1).sum(axis=1)      # (N,)
    x = np.stack([values, markers], axis=-1)                           # (N, T, 2)
    return x.astype(np.float32), y.astype(np.float32)


def copy_batch(N: int, T: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """N copy-task sequences with a delay of T blanks (total length T + 20).

    Returns x, y: (N, T + 20) int64 token ids in 0..9 (see the module docstring for the layout).
    """
    if T < 1:
        raise ValueError(f"the copy task needs T >= 1, got T={T}")
    rng = _rng(rng)
    L = T + 2 * COPY_SYMBOLS
    symbols = rng.integers(1, COPY_CATEGORIES + 1, size=(N, COPY_SYMBOLS))  # (N, 10) in 1..8
    x = np.zeros((N, L), dtype=np.int64)
    x[:, :COPY_SYMBOLS] = symbols
    x[:, -(COPY_SYMBOLS + 1):] = COPY_DELIMITER                             # the last 11 steps
    y = np.zeros((N, L), dtype=np.int64)
    y[:, -COPY_SYMBOLS:] = symbols
    return x, y


def adding_baseline_mse() -> float:
    """MSE of always predicting 1 (the mean target): Var(X1 + X2) = 2 * 1/12 = 1/6."""
    return 1.0 / 6.0


def copy_baseline_ce(T: int) -> float:
    """Cross-entropy per step (nats) of predicting blanks, then uniform over the 8 symbols: 10 ln 8 / (T + 20)."""
    return COPY_SYMBOLS * math.log(COPY_CATEGORIES) / (T + 2 * COPY_SYMBOLS)


# ----------------------------------------------------------------------------- models
def _recurrent(kind: str, input_size: int, hidden: int) -> nn.Module:
    layers = {"rnn": lambda: nn.RNN(input_size, hidden, nonlinearity="tanh", batch_first=True),
              "lstm": lambda: nn.LSTM(input_size, hidden, batch_first=True),
              "gru": lambda: nn.GRU(input_size, hidden, batch_first=True)}
    if kind not in layers:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return layers[kind]()


class SequenceRegressor(nn.Module):
    """A recurrent layer read out at the last step: (N, T, D) -> (N,), for the adding problem."""

    def __init__(self, kind: str = "lstm", hidden: int = 128, input_size: int = 2):
        super().__init__()
        self.kind = kind
        self.rnn = _recurrent(kind, input_size, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.rnn(x)                          # (N, T, H)
        return self.head(h[:, -1]).squeeze(-1)      # (N,)


class SequenceTagger(nn.Module):
    """A recurrent layer with a softmax readout at every step: (N, L) ids -> (N, L, V) scores, for the copy task."""

    def __init__(self, kind: str = "lstm", hidden: int = 128, vocab: int = COPY_VOCAB):
        super().__init__()
        self.kind = kind
        self.vocab = vocab
        self.rnn = _recurrent(kind, vocab, hidden)  # one-hot inputs, as in Bai et al. 2018
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids):
        x = F.one_hot(ids, self.vocab).float()      # (N, L, V)
        h, _ = self.rnn(x)                          # (N, L, H)
        return self.head(h)                         # (N, L, V)


# ----------------------------------------------------------------------------- training
@dataclass
class TaskConfig:
    """One training run. Defaults run in about a minute on a CPU core for T = 50."""

    task: str = "adding"        # "adding" or "copy"
    kind: str = "lstm"          # "rnn", "lstm" or "gru"
    T: int = 50                 # adding: sequence length; copy: delay (sequence length T + 20)
    hidden: int = 128
    batch: int = 64
    steps: int = 1000
    lr: float = 1e-3            # Adam
    clip: float = 1.0           # gradient-norm clipping threshold (chapter 4)
    eval_every: int = 50
    test_size: int = 1000       # fixed test set, the same for every model and seed at a given T
    seed: int = 0
    device: str = "auto"


def _batch(task: str, N: int, T: int, rng, device):
    if task == "adding":
        x, y = adding_batch(N, T, rng)
    elif task == "copy":
        x, y = copy_batch(N, T, rng)
    else:
        raise ValueError(f"task must be 'adding' or 'copy', got {task!r}")
    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)


def _loss(task: str, out, y):
    if task == "adding":
        return F.mse_loss(out, y)
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))   # mean over N * (T + 20) steps


def make_model(config: TaskConfig):
    if config.task == "adding":
        return SequenceRegressor(config.kind, config.hidden)
    return SequenceTagger(config.kind, config.hidden)


def flush_denormals(device) -> None:
    """On a CPU, treat subnormal floats as zero (process-wide).

    Vanishing gradients are literal here: backpropagated through a few hundred steps they shrink
    below 1e-38, where x86 CPUs switch to slow microcode; without this an LSTM step at T = 200
    took 4-5 times longer than with it in our measurements. Values that small do not change training.
    """
    if device.type == "cpu":
        torch.set_flush_denormal(True)


def train_task(config: TaskConfig, *, progress: bool = True, device=None) -> dict:
    """Train one model on one task; return its curves and final numbers (JSON-friendly).

    Returns a dict with the config, `eval_steps` (list), `test_loss` (test MSE or cross-entropy at
    each eval step, the first at step 0), `train_loss` (mean training loss over each eval window),
    `final_test_loss`, `baseline`, and for the copy task `test_accuracy` on the 10 recalled symbols;
    plus `device`, `wall_s` and `ms_per_step`.
    Deterministic for a given seed on a given device: the model from torch.manual_seed(seed), the
    training batches from NumPy's default_rng(seed), the test set from default_rng(10_000 + T).
    """
    device = device or pick_device(config.device, verbose=False)
    flush_denormals(device)
    torch.manual_seed(config.seed)
    model = make_model(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    train_rng = np.random.default_rng(config.seed)
    x_test, y_test = _batch(config.task, config.test_size, config.T, 10_000 + config.T, device)

    def evaluate() -> tuple[float, float | None]:
        model.eval()
        with torch.no_grad():
            out = model(x_test)
            loss = _loss(config.task, out, y_test).item()
            acc = None
            if config.task == "copy":
                acc = (out[:, -COPY_SYMBOLS:].argmax(-1) == y_test[:, -COPY_SYMBOLS:]).float().mean().item()
        model.train()
        return loss, acc

    loss0, acc0 = evaluate()
    eval_steps, test_loss, test_acc, train_loss = [0], [loss0], [acc0], [float("nan")]
    window: list[float] = []
    bar = tqdm(range(1, config.steps + 1), disable=not progress, leave=False,
               desc=f"{config.task} {config.kind} T={config.T} seed={config.seed}")
    synchronize(device)
    start = time.perf_counter()
    for step in bar:
        x, y = _batch(config.task, config.batch, config.T, train_rng, device)
        loss = _loss(config.task, model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        window.append(loss.item())
        if step % config.eval_every == 0 or step == config.steps:
            loss_t, acc_t = evaluate()
            eval_steps.append(step)
            test_loss.append(loss_t)
            test_acc.append(acc_t)
            train_loss.append(float(np.mean(window)))
            window = []
            bar.set_postfix(test=f"{loss_t:.4f}", it_s=f"{step / (time.perf_counter() - start):.0f}")
    synchronize(device)
    wall = time.perf_counter() - start
    result = {
        "config": asdict(config),
        "device": str(device),
        "eval_steps": eval_steps,
        "test_loss": test_loss,
        "train_loss": train_loss,
        "final_test_loss": test_loss[-1],
        "baseline": adding_baseline_mse() if config.task == "adding" else copy_baseline_ce(config.T),
        "wall_s": round(wall, 2),
        "ms_per_step": round(1000 * wall / max(config.steps, 1), 2),
    }
    if config.task == "copy":
        result["test_accuracy"] = test_acc
        result["final_test_accuracy"] = test_acc[-1]
    return result


def time_step(task: str, kind: str, T: int, *, hidden: int = 128, batch: int = 64, steps: int = 10,
              device=None) -> float:
    """Milliseconds per training step (forward, backward, clip, Adam), after two warm-up steps."""
    device = device or pick_device("auto", verbose=False)
    flush_denormals(device)
    config = TaskConfig(task=task, kind=kind, T=T, hidden=hidden, batch=batch)
    model = make_model(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    for i in range(steps + 2):
        if i == 2:
            synchronize(device)
            start = time.perf_counter()
        x, y = _batch(task, batch, T, rng, device)
        loss = _loss(task, model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    synchronize(device)
    return 1000 * (time.perf_counter() - start) / steps
