"""Long-range benchmarks: data that means what chapter 8 says, models with the right shapes, a runnable experiment."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rnn_helpers.long_range import (COPY_DELIMITER, SequenceRegressor, SequenceTagger, TaskConfig, adding_batch,
                                    adding_baseline_mse, copy_batch, copy_baseline_ce, train_task)

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- adding problem
def test_adding_batch_has_two_markers_and_the_target_is_the_marked_sum():
    x, y = adding_batch(500, 30, np.random.default_rng(0))
    assert x.shape == (500, 30, 2) and y.shape == (500,)
    assert x.dtype == np.float32 and y.dtype == np.float32
    markers = x[:, :, 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert (markers.sum(axis=1) == 2).all(), "every sequence has exactly two markers"
    np.testing.assert_allclose(y, (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    assert ((x[:, :, 0] >= 0) & (x[:, :, 0] < 1)).all()


def test_adding_markers_are_spread_over_the_whole_sequence():
    x, _ = adding_batch(4000, 10, np.random.default_rng(1))
    counts = x[:, :, 1].sum(axis=0)                         # 8000 markers over 10 positions
    assert counts.min() > 650 and counts.max() < 950


def test_adding_batch_is_deterministic_for_a_seed():
    a, b = adding_batch(8, 12, 3), adding_batch(8, 12, np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_predicting_one_gives_mse_one_sixth_within_monte_carlo_error():
    _, y = adding_batch(200_000, 20, np.random.default_rng(2))
    se = (y.astype(np.float64) - 1.0) ** 2
    stderr = se.std() / math.sqrt(len(se))
    assert adding_baseline_mse() == pytest.approx(1 / 6)
    assert abs(se.mean() - 1 / 6) < 4 * stderr
    assert abs(se.mean() - 0.1767) > 10 * stderr, "0.1767 is not the expectation of this task"


def test_adding_needs_two_positions():
    with pytest.raises(ValueError, match="T >= 2"):
        adding_batch(1, 1)


# ----------------------------------------------------------------------------- copy task
def test_copy_batch_layout():
    T = 7
    x, y = copy_batch(50, T, np.random.default_rng(0))
    assert x.shape == y.shape == (50, T + 20) and x.dtype == np.int64
    symbols = x[:, :10]
    assert ((symbols >= 1) & (symbols <= 8)).all()
    assert (x[:, 10:10 + T - 1] == 0).all()
    assert (x[:, -11:] == COPY_DELIMITER).all()
    assert (y[:, :T + 10] == 0).all()
    np.testing.assert_array_equal(y[:, -10:], symbols)


def test_copy_baseline_is_the_cross_entropy_of_blanks_then_a_uniform_guess():
    T = 100
    x, y = copy_batch(64, T, np.random.default_rng(0))
    logits = torch.full((64, T + 20, 10), -1e9)
    logits[:, :T + 10, 0] = 0.0                             # certain blank while waiting
    logits[:, T + 10:, 1:9] = 0.0                           # uniform over the 8 symbols at recall
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 10), torch.from_numpy(y).reshape(-1)).item()
    assert ce == pytest.approx(copy_baseline_ce(T), rel=1e-6)
    assert copy_baseline_ce(T) == pytest.approx(10 * math.log(8) / 120)


# ----------------------------------------------------------------------------- models and training
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_models_run_on_cpu_with_the_right_shapes(kind):
    x, _ = adding_batch(3, 9, 0)
    assert SequenceRegressor(kind, hidden=8)(torch.from_numpy(x)).shape == (3,)
    ids, _ = copy_batch(3, 4, 0)
    assert SequenceTagger(kind, hidden=8)(torch.from_numpy(ids)).shape == (3, 24, 10)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        SequenceRegressor("transformer")


def test_train_task_returns_curves_and_is_deterministic():
    config = TaskConfig(kind="gru", T=6, hidden=8, batch=8, steps=6, eval_every=3, test_size=16, device="cpu")
    a, b = train_task(config, progress=False), train_task(config, progress=False)
    assert a["eval_steps"] == [0, 3, 6] and len(a["test_loss"]) == 3
    assert a["test_loss"] == b["test_loss"]
    assert a["baseline"] == pytest.approx(1 / 6)
    copy = train_task(TaskConfig(task="copy", kind="lstm", T=3, hidden=8, batch=4, steps=2, eval_every=1,
                                 test_size=8, device="cpu"), progress=False)
    assert 0.0 <= copy["final_test_accuracy"] <= 1.0


# ----------------------------------------------------------------------------- the experiment script
def test_quick_experiment_runs_end_to_end_and_writes_results_with_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_QUICK", "1")
    monkeypatch.setenv("RNN_RESULTS_DIR", str(tmp_path))
    spec = importlib.util.spec_from_file_location("long_range_experiment", ROOT / "experiments" / "long_range.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--T", "4", "--steps", "3", "--eval-every", "3", "--test-size", "8", "--copy-T", "2",
                 "--no-progress"])
    adding = json.loads((tmp_path / "long_range.json").read_text())
    assert set(adding["provenance"]) >= {"command", "date", "machine", "commit", "quick"}
    assert adding["provenance"]["quick"] is True
    runs = adding["data"]["runs"]
    assert sorted(r["config"]["kind"] for r in runs) == ["gru", "lstm", "rnn"] and adding["data"]["complete"]
    copy = json.loads((tmp_path / "long_range_copy.json").read_text())
    assert len(copy["data"]["runs"]) == 3
    # a second call resumes: nothing left to run, the runs are kept
    module.main(["--T", "4", "--steps", "3", "--eval-every", "3", "--test-size", "8", "--copy-T", "2",
                 "--no-progress"])
    assert json.loads((tmp_path / "long_range.json").read_text())["data"]["runs"] == runs
