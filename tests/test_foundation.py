"""The ground every chapter stands on: pins, quick mode, devices, gradient checks, result files, CI."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

import numpy as np
import pytest

from rnn_helpers import config, devices, gradcheck, results

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"requirements.txt: {line!r} is not pinned with =="
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_required_pins_are_exact():
    pins = _pins()
    assert pins["torch"] == "2.13.0"
    assert pins["jupyter-book"] == "1.0.4.post1"
    for name in ["numpy", "matplotlib", "ipywidgets", "nbval", "pytest", "tqdm", "selenium", "sphinxcontrib-bibtex"]:
        assert name in pins, f"{name} must be pinned in requirements.txt"


def test_installed_versions_match_the_pins():
    mismatched = []
    for name, version in _pins().items():
        installed = importlib.metadata.version(name)
        if installed.split("+")[0] != version:
            mismatched.append(f"{name}: pinned {version}, installed {installed}")
    assert not mismatched, "run `make setup` again:\n" + "\n".join(mismatched)


def test_environment_yml_agrees_with_requirements():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.M)
    assert re.search(r"^\s*-\s*pip\s*$", text, re.M)
    assert re.search(r"^\s*-\s*-r requirements\.txt\s*$", text, re.M)
    # Nothing is pinned twice: every other package comes through requirements.txt.
    conda_pkgs = re.findall(r"^\s{2}-\s*([A-Za-z0-9_.-]+)[=<>]", text, re.M)
    assert conda_pkgs == ["python"], conda_pkgs


def test_ci_runs_exactly_make_test():
    lines = [l.strip() for l in (ROOT / ".ci/run").read_text().splitlines()
             if l.strip() and not l.strip().startswith("#")]
    assert lines[-1] == "make test"
    assert not any("pytest" in l or "jupyter-book" in l for l in lines)


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = text[: text.find("##", text.find("make test"))]
    assert "make book" in first_block and "make test" in first_block


def test_toc_lists_only_existing_pages():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for f in files:
        assert any((ROOT / f"{f}{ext}").exists() for ext in ("", ".md", ".ipynb")), f"{f} is in _toc.yml but missing"


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)])
def test_quick_mode_switch(monkeypatch, value, expected):
    monkeypatch.setenv("RNN_QUICK", value)
    assert config.is_quick() is expected
    assert config.quick_or_full("q", "f") == ("q" if expected else "f")


def test_seed_everything_makes_numpy_and_torch_repeat():
    import torch

    config.seed_everything(3)
    a = (np.random.rand(3), torch.rand(3))
    config.seed_everything(3)
    b = (np.random.rand(3), torch.rand(3))
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1])


@pytest.mark.parametrize("cuda,mps,expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_pick_device_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Fake GPU")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert devices.pick_device("auto", verbose=False).type == expected


def test_pick_device_explains_an_unavailable_choice(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="not available here; available: .*cpu"):
        devices.pick_device("cuda", verbose=False)


def test_numerical_gradient_matches_an_analytic_one():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((4, 2))
    dout = rng.standard_normal((3, 2))
    num = gradcheck.numerical_gradient_array(lambda x: np.tanh(x @ w), x, dout)
    ana = (dout * (1 - np.tanh(x @ w) ** 2)) @ w.T
    assert gradcheck.rel_error(num, ana) < 1e-8


def test_rel_error_flags_a_wrong_gradient_and_refuses_float32():
    assert gradcheck.rel_error(np.ones(3), np.ones(3) * 1.1) > 1e-2
    with pytest.raises(TypeError, match="float64"):
        gradcheck.numerical_gradient(lambda: 0.0, np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="shapes differ"):
        gradcheck.rel_error(np.ones(3), np.ones(4))


def test_results_round_trip_with_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("RNN_QUICK", "1")
    path = results.save_result("demo", {"loss": 1.5}, command="make results")
    saved = json.loads(path.read_text())
    assert saved["data"] == {"loss": 1.5}
    assert saved["provenance"]["command"] == "make results"
    assert saved["provenance"]["quick"] is True
    for key in ("date", "machine", "commit"):
        assert saved["provenance"][key]
    assert results.load_result("demo") == saved
    with pytest.raises(FileNotFoundError, match="make results"):
        results.load_result("missing")
