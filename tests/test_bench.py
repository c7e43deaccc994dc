"""The benchmark scripts run in quick mode, print their table and summary line, and write their result file.

Smoke tests only: timings on a shared CI machine say nothing, so no assertion is about speed.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def quick(monkeypatch, tmp_path):
    monkeypatch.setenv("RNN_QUICK", "1")
    monkeypatch.setenv("RNN_RESULTS_DIR", str(tmp_path))
    return tmp_path


def test_lstm_speed_compares_three_subjects_against_nn_lstm(quick, capsys):
    bench = load("lstm_speed")
    out = bench.main(["--device", "cpu", "--runs", "2", "--warmup", "1", "--threads", "1"])
    text = capsys.readouterr().out
    assert [r["subject"] for r in out["rows"]] == ["nn.LSTM", "student loop", "premultiplied",
                                                  "premultiplied, xw[:, t]"]
    assert out["rows"][0]["ratio"] == 1.0 and out["environment"]["device"] == "cpu"
    assert "torch" in text and text.strip().splitlines()[-2].startswith("summary:")
    assert (quick / "bench_lstm_speed.json").exists()


def test_benchmark_subjects_compute_the_same_function():
    import torch

    bench = load("lstm_speed")
    torch.manual_seed(0)
    ref = bench.TorchLSTM(3, 4)
    loop, pre, sliced = bench.StudentLoopLSTM(3, 4), bench.PremultipliedLSTM(3, 4), bench.SlicedPremultipliedLSTM(3, 4)
    w_ih, w_hh = ref.lstm.weight_ih_l0, ref.lstm.weight_hh_l0  # (4H, D), (4H, H), gate order i, f, g, o
    bias = ref.lstm.bias_ih_l0 + ref.lstm.bias_hh_l0
    with torch.no_grad():
        loop.W.copy_(torch.cat([w_ih, w_hh], dim=1).T)
        loop.b.copy_(bias)
        for m in (pre, sliced):
            m.Wx.copy_(w_ih.T), m.Wh.copy_(w_hh.T), m.b.copy_(bias)
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(loop(x), ref(x))
    torch.testing.assert_close(pre(x), ref(x))
    torch.testing.assert_close(sliced(x), ref(x))


def test_numpy_rnn_speed_times_batch_1_and_32_with_the_notebook_code(quick, capsys):
    bench = load("numpy_rnn_speed")
    out = bench.main(["--steps", "3", "--warmup", "1"])
    text = capsys.readouterr().out
    assert [r["batch"] for r in out["rows"]] == [1, 32] and out["sizes"]["H"] == 100
    assert "numpy" in text and "summary:" in text
    assert (quick / "bench_numpy_rnn_speed.json").exists()
