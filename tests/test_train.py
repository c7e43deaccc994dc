"""The training command: it learns, it reports bits per character, and a resumed run continues exactly."""

import math

import pytest
import torch

from rnn_helpers import train as train_mod
from rnn_helpers.train import TrainConfig, build_parser, main, train


def tiny_config(**kw):
    base = dict(corpus="tiny", device="cpu", steps=20, batch_size=8, seq_len=32, hidden=32, layers=2, embed=16,
                eval_every=10, eval_chars=1000, train_chars=None, sample_every=1000, sample_length=20,
                threads=1, progress=False, lr=1e-2)
    base.update(kw)
    return TrainConfig(**base)


def test_training_lowers_the_loss_and_reports_bits_per_character():
    result = train(tiny_config(steps=40))
    assert len(result.losses) == 40 and result.device == "cpu"
    assert result.losses[-1] < result.losses[0] - 0.5
    first, last = result.val_history[0], result.val_history[-1]
    assert last["step"] == 40 and last["val_loss"] < first["val_loss"]
    assert last["val_bpc"] == pytest.approx(last["val_loss"] / math.log(2))
    assert result.samples and result.samples[-1]["step"] == 40 and result.wall_time_s > 0
    assert result.chars_per_sec > 0 and result.parameters > 0


def test_resume_continues_where_the_checkpoint_stopped(tmp_path):
    straight = train(tiny_config())
    ckpt = tmp_path / "run.pt"
    train(tiny_config(steps=10, checkpoint=str(ckpt)))
    assert ckpt.exists() and not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left over
    resumed = train(tiny_config(checkpoint=str(ckpt), resume=True))
    assert len(resumed.losses) == 20
    assert resumed.losses == pytest.approx(straight.losses, rel=1e-5)
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    ckpt = tmp_path / "run.pt"
    train(tiny_config(steps=10, checkpoint=str(ckpt)))
    with pytest.raises(ValueError, match="another corpus or model size"):
        train(tiny_config(hidden=16, checkpoint=str(ckpt), resume=True))
    with pytest.raises(FileNotFoundError, match="--resume"):
        train(tiny_config(checkpoint=str(tmp_path / "missing.pt"), resume=True))


def test_quick_mode_shrinks_the_defaults(monkeypatch):
    monkeypatch.setenv("RNN_QUICK", "1")
    quick = TrainConfig()
    monkeypatch.setenv("RNN_QUICK", "0")
    full = TrainConfig()
    assert quick.steps < full.steps and quick.hidden < full.hidden and full.hidden == 512


def test_command_line_runs_and_explains_itself(capsys):
    assert main(["--corpus", "tiny", "--device", "cpu", "--steps", "4", "--hidden", "16", "--batch-size", "4",
                 "--seq-len", "16", "--eval-every", "2", "--no-progress", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "Using device: cpu" in out and "bits/char" in out and "done: 4 steps on cpu" in out
    helptext = build_parser().format_help()
    for flag in ("--corpus", "--device", "--steps", "--hidden", "--layers", "--checkpoint", "--resume"):
        assert flag in helptext


def test_command_line_reports_errors_without_a_traceback(capsys):
    assert main(["--corpus", "tiny", "--device", "cpu", "--batch-size", "64", "--seq-len", "64",
                 "--no-progress"]) == 1
    assert "too short" in capsys.readouterr().err


def test_vocabulary_covers_validation_text():
    train_text, val_text, vocab = train_mod.load_corpus("tiny")
    vocab.encode(val_text)  # raises on an unknown character
    assert train_text == val_text


def test_char_lm_experiment_writes_samples_and_cells_in_quick_mode(monkeypatch, tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    monkeypatch.setenv("RNN_QUICK", "1")
    monkeypatch.setenv("RNN_RESULTS_DIR", str(tmp_path))
    path = Path(__file__).resolve().parents[1] / "experiments" / "char_lm.py"
    spec = importlib.util.spec_from_file_location("char_lm_experiment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "config_for", lambda corpus, resume=False: tiny_config(
        corpus=corpus, steps=4, eval_every=2, eval_chars=2000, train_chars=20_000))
    module.main(["python"])
    data = json.loads((tmp_path / "char_lm_python.json").read_text())["data"]
    assert [s["temperature"] for s in data["samples"]] == [0.5, 1.0, 1.5]
    assert data["final_val_bpc"] == pytest.approx(data["final_val_loss"] / math.log(2), rel=1e-3)
    cells = data["cells"]
    assert set(cells["best"]) == {"string_or_comment", "indentation", "line_position"}
    for prop, values in cells["excerpt"]["cells"].items():
        assert len(values) == len(cells["excerpt"]["text"]) and cells["excerpt"]["std"][prop] >= 0
