"""Behaviour of the grading logic for assignment rnn_bptt: scores, localisation and hints.

Each known mistake has a buggy submission in tests/buggy/ (generated from tests/buggy/correct.py by
make_buggy.py): grading it fails exactly the targeted groups, passes the others, and shows the hint.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from buggy_patching import assert_caught_with_hint, load_generator

from autograder.grade import grade
from autograder.protocol import CallResult, Handle, RngSpec
from autograder.runner import Submission

ROOT = Path(__file__).resolve().parents[1]
BUGGY = ROOT / "tests" / "buggy"
CORRECT = BUGGY / "correct.py"
SOLUTION = ROOT / "solutions" / "01_rnn_bptt.ipynb"
STUDENT = ROOT / "notebooks" / "01_rnn_bptt.ipynb"
_GENERATOR = load_generator(BUGGY)
MISTAKES, buggy_source = _GENERATOR.MISTAKES, _GENERATOR.buggy_source

SEED = 1234


class InProcessSubmission:
    """A stand-in for runner.Submission with the same .call interface, running the file in this
    process. Only for tests of the grading logic (it isolates nothing); it records every call."""

    def __init__(self, path, **limits):
        self.path, self.calls, self.kept = Path(path), [], {}
        self.load_error, self.cell_errors = "", []

    def __enter__(self):
        self.ns = {"__name__": "submission"}
        exec(compile(self.path.read_text(), str(self.path), "exec"), self.ns)
        return self

    def __exit__(self, *exc):
        return None

    def _arg(self, a):
        if isinstance(a, Handle):
            return self.kept[a.id]
        if isinstance(a, RngSpec):
            return np.random.default_rng(a.seed)
        return copy.deepcopy(a)

    def call(self, name, *args, keep=()):
        self.calls.append((name, copy.deepcopy(args)))
        fn = self.ns.get(name)
        if not callable(fn):
            return CallResult(False, kind="missing", error=f"{name} is not defined")
        try:
            value = fn(*[self._arg(a) for a in args])
        except Exception as exc:
            return CallResult(False, kind="exception", error=f"{type(exc).__name__}: {exc}")
        if keep and isinstance(value, tuple):
            value = list(value)
            for i in keep:
                if i < len(value):
                    self.kept[len(self.kept)] = value[i]
                    value[i] = Handle(len(self.kept) - 1, type(value[i]).__name__)
            value = tuple(value)
        return CallResult(True, value=value)


@pytest.fixture(scope="module")
def graded_mistakes():
    return {name: grade(BUGGY / f"{name}.py", assignment="rnn_bptt", seed=SEED) for name in MISTAKES}


def test_buggy_files_are_generated_from_the_correct_one():
    for name in MISTAKES:
        assert (BUGGY / f"{name}.py").read_text() == buggy_source(name), \
            f"tests/buggy/{name}.py is stale: run python tests/buggy/make_buggy.py"


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_known_mistake_fails_its_groups_only_and_gets_its_hint(graded_mistakes, name):
    assert_caught_with_hint(graded_mistakes[name], MISTAKES[name])


def test_partial_credit_is_per_gradient(graded_mistakes):
    rows = {t.name: t for t in graded_mistakes["weights_last_step"].tests}
    assert rows["rnn_backward: dx"].status == rows["rnn_backward: dh0"].status == "passed"
    assert {rows[f"rnn_backward: {g}"].status for g in ("dWx", "dWh", "db")} == {"failed"}
    assert graded_mistakes["weights_last_step"].score == 100 - 14
    rows = {t.name: t for t in graded_mistakes["dh0_zeros"].tests}
    assert [n for n, t in rows.items() if t.status == "failed"] == ["rnn_backward: dh0"]


def test_sequence_feedback_names_the_latest_wrong_time_step(graded_mistakes):
    dx = next(t for t in graded_mistakes["drop_next"].tests if t.name == "rnn_backward: dx")
    T = int(dx.output.split("T=")[1].split(",")[0])
    assert f"dx first goes wrong at t = {T - 2}" in dx.output
    assert "relative error" in dx.output and "1e-07" in dx.output


def test_transposed_gradient_gets_a_shape_message(graded_mistakes):
    dWx = next(t for t in graded_mistakes["transposed_weights"].tests if t.name == "rnn_step_backward: dWx")
    assert "has shape" in dWx.output and "did you transpose?" in dWx.output


def test_a_wrong_forward_is_named_under_the_backward(tmp_path):
    src = CORRECT.read_text().replace("rnn_step_forward(x[:, t], prev, Wx, Wh, b)", "rnn_step_forward(x[:, t], h0, Wx, Wh, b)")
    path = tmp_path / "wrong_forward.py"
    path.write_text(src)
    report = grade(path, assignment="rnn_bptt", seed=SEED)
    failed = {t.name: t.output for t in report.tests if t.status == "failed"}
    assert set(failed) == {"rnn_forward: h", "rnn_backward: dx", "rnn_backward: dh0", "rnn_backward: dWx",
                           "rnn_backward: dWh", "rnn_backward: db"}
    assert "h first goes wrong at t = 1" in failed["rnn_forward: h"]
    assert "always uses h0" in failed["rnn_forward: h"]
    assert "Your rnn_forward is already wrong" in failed["rnn_backward: dx"]


@pytest.mark.parametrize("patch, message", [
    (("return next_h, cache", "return next_h.tolist(), cache"), "returned a list, expected a NumPy array of shape"),
    (("return next_h, cache", "return None, cache"), "returned None"),
    (("return next_h, cache", "return next_h * np.nan, cache"), "contains NaN"),
    (("return next_h, cache", "return next_h[:, :-1], cache"), "expected ("),
    (("return next_h, cache", "return next_h.astype(np.float32), cache"), "expected float64"),
    (("return next_h, cache", "return next_h"), "should return a tuple (next_h, cache)"),
])
def test_bad_return_values_get_clear_messages(tmp_path, patch, message):
    path = tmp_path / "bad.py"
    path.write_text(CORRECT.read_text().replace(*patch))
    report = grade(path, assignment="rnn_bptt", seed=SEED, only="rnn_step_forward")
    assert not report.error and report.score == 0
    assert message in report.tests[0].output


@pytest.mark.parametrize("patch, hint", [
    (("s = scores / temperature", "s = scores"), "divide the scores by the temperature"),
    (("idx = int(rng.choice(V, p=p / p.sum()))", "idx = int(np.random.choice(V, p=p / p.sum()))"),
     "rng.choice(V, p=p)"),
])
def test_sampling_mistakes_get_hints(tmp_path, patch, hint):
    path = tmp_path / "bad_sampler.py"
    path.write_text(CORRECT.read_text().replace(*patch))
    report = grade(path, assignment="rnn_bptt", seed=SEED, only="sample_chars")
    rows = {t.name: t for t in report.tests}
    assert rows["sample_chars: greedy"].status == "passed"
    assert rows["sample_chars: sampled"].status == "failed" and hint in rows["sample_chars: sampled"].output


def test_correct_implementation_scores_full_marks_on_several_seeds():
    for seed in range(4):
        report = grade(CORRECT, assignment="rnn_bptt", seed=seed)
        assert report.score == report.max_score == 100, [t for t in report.tests if t.status != "passed"]
        assert report.exit_code == 0


def test_grading_is_deterministic_for_a_seed_and_fresh_without_one():
    def inputs(seed):
        subs = []

        def factory(path, **limits):
            subs.append(InProcessSubmission(path))
            return subs[-1]
        report = grade(CORRECT, assignment="rnn_bptt", seed=seed, submission_factory=factory)
        assert report.score == 100
        return report.seed, subs[0].calls

    seed_a, calls_a = inputs(7)
    _, calls_b = inputs(7)
    assert seed_a == 7 and _same(calls_a, calls_b)
    seed_c, calls_c = inputs(None)
    seed_d, calls_d = inputs(None)
    assert seed_c != seed_d and not _same(calls_c, calls_d)


def _same(calls_a, calls_b):
    flat = lambda calls: [np.asarray(a).tolist() if isinstance(a, np.ndarray) else repr(a)
                          for _, args in calls for a in args]
    return len(calls_a) == len(calls_b) and flat(calls_a) == flat(calls_b)


def test_only_selects_a_group_or_one_output_with_the_same_inputs():
    full = {t.name: t for t in grade(BUGGY / "drop_next.py", assignment="rnn_bptt", seed=SEED).tests}
    group = grade(BUGGY / "drop_next.py", assignment="rnn_bptt", seed=SEED, only="rnn_backward")
    assert [t.name for t in group.tests] == [n for n in full if n.startswith("rnn_backward:")]
    one = grade(BUGGY / "drop_next.py", assignment="rnn_bptt", seed=SEED, only="rnn_backward: dWh")
    assert [t.name for t in one.tests] == ["rnn_backward: dWh"]
    assert one.tests[0].output == full["rnn_backward: dWh"].output
    assert grade(CORRECT, assignment="rnn_bptt", only="nope").exit_code == 2


def test_problems_before_grading_give_exit_code_2(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ not json")
    report = grade(bad, seed=1)
    assert report.exit_code == 2 and "not valid JSON" in report.error
    assert grade(CORRECT, seed=1).exit_code == 2  # a .py file needs --assignment
    assert "unknown assignment" in grade(CORRECT, assignment="nope", seed=1).error

    def broken_factory(path, **limits):
        raise RuntimeError("boom")
    report = grade(CORRECT, assignment="rnn_bptt", seed=1, submission_factory=broken_factory)
    assert report.exit_code == 2 and "internal grader error" in report.error


@pytest.mark.skipif(not SOLUTION.exists(), reason="no solution notebook yet")
def test_solution_notebook_scores_full_marks_on_20_seeds_fast():
    with Submission(SOLUTION) as shared:  # one worker for all seeds: this tests the grading, not the runner
        class Reuse:
            def __init__(self, path, **limits): pass
            def __enter__(self): return shared
            def __exit__(self, *exc): return None
        for seed in range(20):
            report = grade(SOLUTION, seed=seed, submission_factory=Reuse)
            assert report.score == 100, (seed, [t for t in report.tests if t.status != "passed"])
    start = time.perf_counter()
    report = grade(SOLUTION, seed=99)
    assert report.score == 100 and time.perf_counter() - start < 10


@pytest.mark.skipif(not STUDENT.exists(), reason="student notebook not generated yet")
def test_student_notebook_scores_zero_with_not_implemented_everywhere():
    report = grade(STUDENT, seed=SEED)
    assert report.score == 0 and report.exit_code == 1 and not report.error
    for t in report.tests:
        assert f"NotImplementedError: {t.group}" in t.output, t
