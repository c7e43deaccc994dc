"""Assignments `lstm` (03) and `gru` (04): honest references, full marks for the solutions, zero for the
student stubs, every known mistake caught with its hint, and the NumPy layers equal to PyTorch's.

Buggy submissions live in tests/buggy_gated/ (generated from correct_lstm.py / correct_gru.py by
make_buggy.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from buggy_patching import assert_caught_with_hint, load_generator
import torch

from autograder.checks import rel_error
from autograder.grade import grade
from autograder.references import gated as ref
from autograder.references import gated_mistakes as mk

ROOT = Path(__file__).resolve().parents[1]
BUGGY = ROOT / "tests" / "buggy_gated"
_GENERATOR = load_generator(BUGGY)
MISTAKES, buggy_source = _GENERATOR.MISTAKES, _GENERATOR.buggy_source

SEED = 1234
H_STEP = 1e-5
NOTEBOOKS = {"lstm": "03_lstm.ipynb", "gru": "04_gru.ipynb"}
GRADED = {
    "lstm": ["lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward", "lstm_params_to_torch"],
    "gru": ["gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"],
}


# ----------------------------------------------------------------------------- references
def numeric_vjp(fn, inputs, douts, i):
    """d sum_k <fn(inputs)[k], douts[k]> / d inputs[i] by centred differences."""
    x = inputs[i]
    grad = np.zeros_like(x)

    def f():
        return sum(float(np.sum(o * d)) for o, d in zip(ref.forward_multi(fn, *inputs), douts))

    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + H_STEP
        plus = f()
        x[idx] = old - H_STEP
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * H_STEP)
    return grad


def gated_inputs(rng, G, N, T, D, H, step, cell=False):
    x = rng.standard_normal((N, D) if step else (N, T, D))
    state = [rng.standard_normal((N, H)) * 0.5] + ([rng.standard_normal((N, H))] if cell else [])
    params = [rng.standard_normal((D, G * H)) * 0.5, rng.standard_normal((H, G * H)) * 0.4,
              rng.standard_normal(G * H) * 0.3]
    douts = [rng.standard_normal((N, H) if step else (N, T, H)) for _ in range(2 if cell else 1)]
    return [x, *state, *params], douts


CASES = {
    "lstm_step": (ref.lstm_step, 4, dict(N=2, T=1, D=3, H=2, step=True, cell=True)),
    "lstm": (ref.lstm, 4, dict(N=2, T=3, D=3, H=2, step=False)),
    "lstm_T1_N1": (ref.lstm, 4, dict(N=1, T=1, D=2, H=3, step=False)),
    "gru_step": (ref.gru_step, 3, dict(N=2, T=1, D=3, H=2, step=True)),
    "gru": (ref.gru, 3, dict(N=2, T=3, D=3, H=2, step=False)),
    "gru_T1_N1": (ref.gru, 3, dict(N=1, T=1, D=2, H=3, step=False)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_autograd_reference_matches_centred_differences(name):
    fn, G, dims = CASES[name]
    inputs, douts = gated_inputs(np.random.default_rng(0), G, **dims)
    _, grads = ref.vjp_multi(fn, inputs, douts, range(len(inputs)))
    for i, g in enumerate(grads):
        assert rel_error(g, numeric_vjp(fn, inputs, douts, i)) < 1e-6, (name, i)  # a bug gives ~1e-2


def test_mistake_models_without_a_bug_equal_the_references():
    rng = np.random.default_rng(1)
    inputs, douts = gated_inputs(rng, 4, N=2, T=1, D=3, H=2, step=True, cell=True)
    outs, grads = mk.lstm_step_variant(*inputs, *douts)
    ref_outs, ref_grads = ref.vjp_multi(ref.lstm_step, inputs, douts, range(6))
    for a, b in zip(outs + grads, ref_outs + ref_grads):
        assert rel_error(a, b) < 1e-12
    for fn, variant, G in [(ref.lstm, mk.lstm_variant, 4), (ref.gru, mk.gru_variant, 3)]:
        inputs, douts = gated_inputs(rng, G, N=2, T=4, D=3, H=2, step=False)
        out, grads = variant(*inputs, *douts)
        (ref_out,), ref_grads = ref.vjp_multi(fn, inputs, douts, range(5))
        for a, b in zip((out,) + grads, (ref_out,) + ref_grads):
            assert rel_error(a, b) < 1e-12
    inputs, douts = gated_inputs(rng, 3, N=2, T=1, D=3, H=2, step=True)
    out, grads = mk.gru_step_variant(*inputs, *douts)
    (ref_out,), ref_grads = ref.vjp_multi(ref.gru_step, inputs, douts, range(5))
    for a, b in zip((out,) + grads, (ref_out,) + ref_grads):
        assert rel_error(a, b) < 1e-12


def test_the_reference_lstm_equals_nn_lstm_through_the_documented_layout():
    rng = np.random.default_rng(2)
    (x, h0, Wx, Wh, b), _ = gated_inputs(rng, 4, N=3, T=5, D=4, H=3, step=False)
    expected = ref.forward_multi(ref.lstm, x, h0, Wx, Wh, b)[0]
    assert rel_error(ref.torch_lstm_output(mk.lstm_torch_params_variant(Wx, Wh, b), x, h0), expected) < 1e-12
    assert rel_error(ref.torch_lstm_output(mk.lstm_torch_params_variant(Wx, Wh, b, reorder=False), x, h0),
                     expected) > 1e-3


# ----------------------------------------------------------------------------- buggy submissions
def test_buggy_files_are_generated_from_the_correct_ones():
    for name in MISTAKES:
        assert (BUGGY / f"{name}.py").read_text() == buggy_source(name), \
            f"tests/buggy_gated/{name}.py is stale: run python tests/buggy_gated/make_buggy.py"


@pytest.fixture(scope="module")
def graded_mistakes():
    return {name: grade(BUGGY / f"{name}.py", assignment=m["assignment"], seed=SEED) for name, m in MISTAKES.items()}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_known_mistake_fails_its_groups_only_and_gets_its_hint(graded_mistakes, name):
    assert_caught_with_hint(graded_mistakes[name], MISTAKES[name])


def test_partial_credit_per_gradient(graded_mistakes):
    rows = {t.name: t for t in graded_mistakes["lstm_drop_next_c"].tests}
    assert rows["lstm_step_backward: dprev_c"].status == "passed"
    assert rows["lstm_backward: dx"].status == "failed"
    rows = {t.name: t for t in graded_mistakes["lstm_c0_gradient"].tests}
    assert [n for n, t in rows.items() if t.status == "failed"] == [f"lstm_backward: {g}" for g in
                                                                    ("dx", "dh0", "dWx", "dWh", "db")]


def test_a_wrong_gate_gradient_is_localised_to_its_block(tmp_path):
    src = (BUGGY / "correct_lstm.py").read_text().replace("daf = df * f * (1 - f)", "daf = df * f")
    path = tmp_path / "forget_gate.py"
    path.write_text(src)
    report = grade(path, assignment="lstm", seed=SEED, only="lstm_step_backward")
    rows = {t.name: t for t in report.tests}
    assert rows["lstm_step_backward: dprev_c"].status == "passed"
    assert "wrong in the forget-gate block (columns H:2H) only" in rows["lstm_step_backward: dWx"].output
    assert "wrong in the forget-gate block (entries H:2H) only" in rows["lstm_step_backward: db"].output


def test_a_wrong_gru_candidate_block_is_named(tmp_path):
    src = (BUGGY / "correct_gru.py").read_text().replace("dWh = np.concatenate([prev_h.T @ dgates, rh.T @ dan], axis=1)",
                                                         "dWh = np.concatenate([prev_h.T @ dgates, prev_h.T @ dan], axis=1)")
    path = tmp_path / "candidate.py"
    path.write_text(src)
    report = grade(path, assignment="gru", seed=SEED, only="gru_step_backward")
    rows = {t.name: t for t in report.tests}
    assert [n for n, t in rows.items() if t.status == "failed"] == ["gru_step_backward: dWh"]
    assert "candidate (n)-gate block (columns 2H:3H) only" in rows["gru_step_backward: dWh"].output


@pytest.mark.parametrize("assignment", ["lstm", "gru"])
def test_correct_implementations_score_full_marks_on_several_seeds(assignment):
    for seed in range(3):
        report = grade(BUGGY / f"correct_{assignment}.py", assignment=assignment, seed=seed)
        assert report.score == report.max_score == 100, [t for t in report.tests if t.status != "passed"]


# ----------------------------------------------------------------------------- notebooks
@pytest.mark.parametrize("assignment", ["lstm", "gru"])
def test_solution_notebook_scores_full_marks(assignment):
    report = grade(ROOT / "solutions" / NOTEBOOKS[assignment], seed=SEED)
    assert report.assignment == assignment and not report.error, report.error
    assert report.score == report.max_score == 100, [t for t in report.tests if t.status != "passed"]


@pytest.mark.parametrize("assignment", ["lstm", "gru"])
def test_student_notebook_scores_zero_with_not_implemented_and_exit_1(assignment):
    path = ROOT / "notebooks" / NOTEBOOKS[assignment]
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--seed", "3"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1, result.stdout + result.stderr
    report = grade(path, seed=3)
    assert report.score == 0 and not report.error
    for name in GRADED[assignment]:
        assert any(f"NotImplementedError: {name} is not implemented yet" in t.output for t in report.tests), name


def graded_namespace(nb) -> dict:
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "skip-grading" not in cell.metadata.get("tags", []):
            exec(compile(cell.source, f"<cell {cell.id}>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("assignment", ["lstm", "gru"])
def test_student_notebook_stubs_each_graded_function_in_its_own_torch_free_cell(assignment):
    solution = nbformat.read(ROOT / "solutions" / NOTEBOOKS[assignment], as_version=4)
    student = nbformat.read(ROOT / "notebooks" / NOTEBOOKS[assignment], as_version=4)
    assert student.metadata["rnn_course"]["assignment"] == assignment
    assert [c.id for c in student.cells[1:]] == [c.id for c in solution.cells]
    ns = graded_namespace(student)
    for name in GRADED[assignment]:
        cells = [c for c in student.cells if c.cell_type == "code" and f"def {name}(" in c.source]
        assert len(cells) == 1 and "skip-grading" not in cells[0].metadata.get("tags", []), name
        assert "import torch" not in cells[0].source and "from torch" not in cells[0].source, name
        with pytest.raises(NotImplementedError, match=f"^{name}$"):
            ns[name](*([None] * ns[name].__code__.co_argcount))
    text = "\n".join(c.source for c in student.cells)
    assert "### BEGIN SOLUTION" not in text and "**Answer.**" not in text
    for cell in solution.cells:  # no graded cell of the solution imports torch
        if cell.cell_type == "code" and "skip-grading" not in cell.metadata.get("tags", []):
            assert "import torch" not in cell.source, cell.id


def test_solution_lstm_equals_nn_lstm_and_torch_style_gru_equals_nn_gru():
    ns = graded_namespace(nbformat.read(ROOT / "solutions" / NOTEBOOKS["lstm"], as_version=4))
    rng = np.random.default_rng(4)
    (x, h0, Wx, Wh, b), _ = gated_inputs(rng, 4, N=3, T=6, D=4, H=5, step=False)
    h_ours, _ = ns["lstm_forward"](x, h0, Wx, Wh, b)
    assert rel_error(ref.torch_lstm_output(ns["lstm_params_to_torch"](Wx, Wh, b), x, h0), h_ours) < 1e-10

    ns = graded_namespace(nbformat.read(ROOT / "solutions" / NOTEBOOKS["gru"], as_version=4))
    N, T, D, H = 3, 5, 4, 6
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    net = torch.nn.GRU(D, H, batch_first=True).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
        expected = net(torch.from_numpy(x), torch.from_numpy(h0)[None])[0].numpy()
    w = {k: p.detach().numpy() for k, p in net.named_parameters()}
    h, steps = h0, []
    for t in range(T):
        h = ns["gru_step_forward_torch_style"](x[:, t], h, w["weight_ih_l0"], w["weight_hh_l0"],
                                               w["bias_ih_l0"], w["bias_hh_l0"])
        steps.append(h)
    assert rel_error(np.stack(steps, axis=1), expected) < 1e-10
