"""Device selection, forced through every branch: CUDA, then MPS, then CPU; explicit choices; the
printed message; and the training command choosing its device through pick_device."""

from __future__ import annotations

import pytest
import torch

from rnn_helpers import devices


@pytest.fixture
def fake(monkeypatch):
    """fake(cuda=..., mps=...): pretend these backends are (not) available."""

    def set_available(cuda: bool, mps: bool):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Fake GPU 80GB")
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return set_available


@pytest.mark.parametrize("cuda, mps, kinds", [(True, True, ["cuda", "mps", "cpu"]), (True, False, ["cuda", "cpu"]),
                                              (False, True, ["mps", "cpu"]), (False, False, ["cpu"])])
def test_available_devices_lists_the_usable_kinds_best_first(fake, cuda, mps, kinds):
    fake(cuda, mps)
    assert devices.available_devices() == kinds


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu_and_says_so(fake, capsys, cuda, mps, expected):
    fake(cuda, mps)
    device = devices.pick_device("auto")
    assert device == torch.device(expected)
    printed = capsys.readouterr().out.strip()
    assert printed == (f"Using device: {expected}" + (" (Fake GPU 80GB)" if expected == "cuda" else ""))


def test_auto_without_mps_support_in_this_build(fake, monkeypatch):
    fake(False, False)
    monkeypatch.delattr(torch.backends, "mps")  # an old or stripped build without the backend
    assert devices.pick_device("auto", verbose=False) == torch.device("cpu")


@pytest.mark.parametrize("preference, expected", [("cpu", "cpu"), ("cuda", "cuda"), ("cuda:1", "cuda:1"), ("mps", "mps")])
def test_an_explicit_available_choice_is_honoured_even_when_a_better_one_exists(fake, preference, expected):
    fake(True, True)
    assert devices.pick_device(preference, verbose=False) == torch.device(expected)


def test_an_explicit_cpu_is_honoured_on_a_gpu_machine_and_printed(fake, capsys):
    fake(True, False)
    assert devices.pick_device("cpu") == torch.device("cpu")
    assert capsys.readouterr().out.strip() == "Using device: cpu"


@pytest.mark.parametrize("preference", ["cuda", "cuda:0", "mps"])
def test_an_unavailable_choice_says_what_is_available(fake, preference):
    fake(False, False)
    with pytest.raises(RuntimeError, match=r"not available here; available: cpu\..*--device auto"):
        devices.pick_device(preference, verbose=False)


def test_verbose_false_prints_nothing(fake, capsys):
    fake(False, True)
    devices.pick_device("auto", verbose=False)
    assert capsys.readouterr().out == ""


def test_synchronize_waits_on_the_right_backend(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(("cuda", device)))
    monkeypatch.setattr(torch.mps, "synchronize", lambda: calls.append(("mps", None)))
    devices.synchronize(torch.device("cpu"))
    devices.synchronize(torch.device("mps"))
    devices.synchronize(torch.device("cuda:0"))
    assert calls == [("mps", None), ("cuda", torch.device("cuda:0"))]


class _Chosen(Exception):
    """Raised by the fake pick_device to stop training right after the device is chosen."""


@pytest.mark.parametrize("preference", ["auto", "cpu", "cuda"])
def test_the_training_entry_point_chooses_its_device_with_pick_device(monkeypatch, preference):
    train = pytest.importorskip("rnn_helpers.train", reason="rnn_helpers.train (H1) is not there yet")
    if not hasattr(train, "pick_device") or not hasattr(train, "TrainConfig"):
        pytest.skip("rnn_helpers.train has no pick_device / TrainConfig hook yet")
    asked = []

    def fake_pick(pref="auto", **kwargs):
        asked.append(pref)
        raise _Chosen

    monkeypatch.setattr(train, "pick_device", fake_pick)
    with pytest.raises(_Chosen):
        train.train(train.TrainConfig(device=preference, steps=1, progress=False))
    assert asked == [preference]


def test_the_training_command_passes_device_through(monkeypatch):
    train = pytest.importorskip("rnn_helpers.train", reason="rnn_helpers.train (H1) is not there yet")
    if not hasattr(train, "build_parser"):
        pytest.skip("rnn_helpers.train has no build_parser yet")
    args = train.build_parser().parse_args(["--device", "cpu"])
    assert args.device == "cpu"
