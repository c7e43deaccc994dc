"""Assignment clipping_tbptt: honest references, full marks for the solution, zero for the stubs,
every known mistake caught with its hint, and the assignment-1 dependency found, passed or missing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from buggy_patching import assert_caught_with_hint, load_generator
import torch

from autograder.checks import rel_error
from autograder.grade import grade
from autograder.references import clipping as ref
from autograder.references import clipping_mistakes as mk
from autograder.references.rnn import rnn, tensor

ROOT = Path(__file__).resolve().parents[1]
BUGGY = ROOT / "tests" / "buggy_clipping"
ASSIGNMENT_1 = ROOT / "tests" / "buggy" / "correct.py"  # a correct assignment 1, as a .py submission
SOLUTION = ROOT / "solutions" / "02_clipping_tbptt.ipynb"
STUDENT = ROOT / "notebooks" / "02_clipping_tbptt.ipynb"

_MAKE_BUGGY = load_generator(BUGGY)
MISTAKES, buggy_source = _MAKE_BUGGY.MISTAKES, _MAKE_BUGGY.buggy_source

H_STEP = 1e-6
TBPTT_GROUP = "truncated_bptt_grads"


def failed(report) -> dict[str, str]:
    return {t.name: t.output for t in report.tests if t.status == "failed"}


# ----------------------------------------------------------------------------- references
def char_params(rng, V=5, D=3, H=4):
    return {"W_embed": rng.standard_normal((V, D)), "Wx": rng.standard_normal((D, H)) * 0.5,
            "Wh": rng.standard_normal((H, H)) * 0.6, "b": rng.standard_normal(H) * 0.2,
            "W_out": rng.standard_normal((H, V)) * 0.5, "b_out": rng.standard_normal(V) * 0.2}


def chunk_loss(params, x, y, h):
    with torch.no_grad():
        loss, h_last = ref.char_model_loss(tensor(x), tensor(y), tensor(h), {k: tensor(v) for k, v in params.items()})
    return float(loss), h_last.numpy()


def numeric_grad(f, arr):
    grad = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + H_STEP
        plus = f()
        arr[idx] = old - H_STEP
        minus = f()
        arr[idx] = old
        grad[idx] = (plus - minus) / (2 * H_STEP)
    return grad


@pytest.mark.parametrize("T, k", [(5, 5), (5, 9), (7, 3), (4, 1)])
def test_truncated_reference_matches_centred_differences_of_each_chunk_with_its_start_frozen(T, k):
    rng = np.random.default_rng(T * 10 + k)
    params = char_params(rng)
    x, y, h0 = rng.integers(0, 5, (2, T)), rng.integers(0, 5, (2, T)), rng.standard_normal((2, 4)) * 0.5
    loss, grads, h_last = ref.truncated_bptt_grads(x, y, h0, params, k)
    starts, h, total = [], h0, 0.0
    for s in range(0, T, k):
        starts.append(h)
        chunk, h = chunk_loss(params, x[:, s:s + k], y[:, s:s + k], h)
        total += chunk
    assert abs(loss - total) < 1e-12 and rel_error(h_last, h) < 1e-12
    for name, arr in params.items():
        numeric = sum(numeric_grad(lambda s=s, hs=hs: chunk_loss(params, x[:, s:s + k], y[:, s:s + k], hs)[0], arr)
                      for s, hs in zip(range(0, T, k), starts))
        assert rel_error(grads[name], numeric) < 1e-7, name


def test_truncated_mistake_models_are_full_bptt_and_restarting_chunks():
    rng = np.random.default_rng(1)
    params = char_params(rng)
    x, y, h0 = rng.integers(0, 5, (2, 6)), rng.integers(0, 5, (2, 6)), rng.standard_normal((2, 4))
    full = ref.truncated_bptt_grads(x, y, h0, params, 6)
    leak = ref.truncated_bptt_grads(x, y, h0, params, 2, detach=False)
    assert abs(full[0] - leak[0]) < 1e-12
    assert all(rel_error(full[1][n], leak[1][n]) < 1e-12 for n in params)
    reset = ref.truncated_bptt_grads(x, y, h0, params, 2, carry=False)
    parts = [ref.truncated_bptt_grads(x[:, s:s + 2], y[:, s:s + 2], h0, params, 2) for s in (0, 2, 4)]
    assert abs(reset[0] - sum(p[0] for p in parts)) < 1e-12
    assert rel_error(reset[1]["Wh"], sum(p[1]["Wh"] for p in parts)) < 1e-12


def test_jacobian_norm_reference_matches_centred_differences():
    rng = np.random.default_rng(2)
    N, T, D, H = 2, 4, 3, 5
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)) * 0.5
    Wx, Wh, b = rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.8, rng.standard_normal(H) * 0.2
    norms = ref.hidden_jacobian_norms(x, h0, Wx, Wh, b)
    with torch.no_grad():
        hs = rnn(*(tensor(a) for a in (x, h0, Wx, Wh, b))).numpy()
    for n in range(N):
        for t in range(T):
            def last(h):
                for s in range(t + 1, T):
                    h = np.tanh(x[n, s] @ Wx + h @ Wh + b)
                return h
            J = np.zeros((H, H))
            for j in range(H):
                e = np.zeros(H)
                e[j] = H_STEP
                J[:, j] = (last(hs[n, t] + e) - last(hs[n, t] - e)) / (2 * H_STEP)
            assert abs(norms[n, t] - np.linalg.norm(J, 2)) < 1e-7 * norms[n, t]
    assert np.allclose(norms[:, -1], 1.0)
    # the hand-written product in the mistake models agrees when no mistake is switched on ...
    assert rel_error(mk.hidden_jacobian_norms_variant(x, h0, Wx, Wh, b, "reversed")[:, ::-1], norms) < 1e-10


def test_clip_references_agree_with_torch_and_the_worked_example():
    total, clipped = ref.clip_grad_norm({"w": np.array([3.0, 4.0])}, 1.0)
    assert total == 5.0 and np.allclose(clipped["w"], [0.6, 0.8], rtol=0, atol=1e-15)
    rng = np.random.default_rng(3)
    grads = {"a": rng.standard_normal((3, 4)) * 3, "b": rng.standard_normal(5) * 3}
    total, clipped = ref.clip_grad_norm(grads, 2.0)
    tensors = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g)
    torch_total = float(torch.nn.utils.clip_grad_norm_(tensors, 2.0))
    assert abs(total - torch_total) < 1e-12 * total
    for t, name in zip(tensors, grads):  # torch divides by norm + 1e-6: equal to ~1e-7 relative
        assert rel_error(t.grad.numpy(), clipped[name]) < 1e-6
    below_total, below = ref.clip_grad_norm(grads, 1e3)
    assert all(np.array_equal(below[n], grads[n]) for n in grads)
    assert mk.clip_grad_norm_variant(grads, 2.0, "post_clip")[0] == 2.0
    assert all(rel_error(mk.clip_grad_norm_variant(grads, 2.0, "post_clip")[1][n], clipped[n]) < 1e-14 for n in grads)
    value = ref.clip_grad_value({"g": np.array([-7.0, 0.5, 9.0])}, 5.0)
    assert np.array_equal(value["g"], [-5.0, 0.5, 5.0])


# ----------------------------------------------------------------------------- buggy submissions
@pytest.fixture(scope="module")
def graded_mistakes():
    return {name: grade(BUGGY / f"{name}.py", assignment="clipping_tbptt", seed=11, with_paths=[ASSIGNMENT_1])
            for name in MISTAKES}


def test_buggy_files_are_generated_from_the_correct_one():
    for name in MISTAKES:
        assert (BUGGY / f"{name}.py").read_text() == buggy_source(name), \
            f"tests/buggy_clipping/{name}.py is stale: run python tests/buggy_clipping/make_buggy.py"


@pytest.mark.parametrize("seed", [0, 1])
def test_the_correct_test_implementation_scores_full_marks(seed):
    report = grade(BUGGY / "correct.py", assignment="clipping_tbptt", seed=seed, with_paths=[ASSIGNMENT_1])
    assert not report.error and report.score == report.max_score == 100, failed(report)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_known_mistake_fails_its_group_only_and_gets_its_hint(graded_mistakes, name):
    assert_caught_with_hint(graded_mistakes[name], MISTAKES[name])


def test_leaking_gradient_keeps_loss_and_state_but_loses_the_weight_gradients(graded_mistakes):
    names = set(failed(graded_mistakes["tbptt_leak"]))
    assert f"{TBPTT_GROUP}: loss" not in names and f"{TBPTT_GROUP}: h_last" not in names
    assert f"{TBPTT_GROUP}: dWh" in names
    assert set(failed(graded_mistakes["post_clip_norm"])) == {"clip_grad_norm: total_norm"}


# ----------------------------------------------------------------------------- notebooks and dependencies
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_solution_scores_full_marks_with_assignment_1_next_to_it(seed):
    report = grade(SOLUTION, seed=seed)
    assert not report.error and report.score == 100, failed(report)
    assert "01_rnn_bptt.ipynb" in report.output


def test_student_notebook_scores_zero_with_not_implemented_messages_and_exit_1():
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", str(STUDENT), "--seed", "1"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Score: 0/100" in result.stdout
    report = grade(STUDENT, seed=1)
    assert report.score == 0 and all("NotImplementedError" in t.output for t in report.tests)


def test_without_assignment_1_only_the_truncated_tests_fail_with_a_clear_message(tmp_path):
    alone = tmp_path / SOLUTION.name
    shutil.copy(SOLUTION, alone)
    report = grade(alone, seed=2)
    bad = failed(report)
    assert bad and all(n.startswith(TBPTT_GROUP) for n in bad) and report.score == 100 - 45
    assert all("truncated_bptt_grads uses your assignment-1 functions: put 01_rnn_bptt.ipynb next to this "
               "notebook, or pass --with PATH" in o for o in bad.values())


def test_with_option_and_discovery_by_metadata(tmp_path):
    alone = tmp_path / "sub" / "mine.ipynb"
    alone.parent.mkdir()
    shutil.copy(SOLUTION, alone)
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", str(alone), "--seed", "3",
                             "--with", str(ROOT / "solutions" / "01_rnn_bptt.ipynb")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "Score: 100/100" in result.stdout, result.stdout + result.stderr
    shutil.copy(ROOT / "solutions" / "01_rnn_bptt.ipynb", alone.parent / "assignment_one_renamed.ipynb")
    assert grade(alone, seed=3).score == 100  # found by its metadata, whatever its name
    help_text = subprocess.run([sys.executable, "-m", "autograder", "grade", "--help"],
                               capture_output=True, text=True, cwd=ROOT).stdout
    assert "--with PATH" in help_text


def test_unfinished_assignment_1_is_named_in_the_feedback(tmp_path):
    shutil.copy(SOLUTION, tmp_path / SOLUTION.name)
    shutil.copy(ROOT / "notebooks" / "01_rnn_bptt.ipynb", tmp_path / "01_rnn_bptt.ipynb")  # all stubs
    report = grade(tmp_path / SOLUTION.name, seed=4, only=TBPTT_GROUP)
    outputs = list(failed(report).values())
    assert outputs and all("calls your assignment-1 function" in o and "NotImplementedError" in o for o in outputs)


def test_a_failing_cell_of_assignment_1_is_reported_under_its_file(tmp_path):
    nb = json.loads((ROOT / "solutions" / "01_rnn_bptt.ipynb").read_text())
    nb["cells"].insert(1, {"cell_type": "code", "id": "broken", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": "1 / 0"})
    (tmp_path / "01_rnn_bptt.ipynb").write_text(json.dumps(nb))
    shutil.copy(SOLUTION, tmp_path / SOLUTION.name)
    report = grade(tmp_path / SOLUTION.name, seed=0, only="clip_grad_norm")
    assert report.score == 25 and "01_rnn_bptt.ipynb, cell 2" in report.output and "ZeroDivisionError" in report.output
