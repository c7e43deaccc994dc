"""Assignment pytorch_lstm: honest references, full marks for the solution, zero for the stubs, every
known mistake caught with its hint, and torch allowed for this assignment only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from buggy_patching import load_generator

from autograder.grade import _torch_limits, grade
from autograder.references import pytorch_lstm_mistakes as mk
from autograder.references import torch_modules as ref
from autograder.runner import DEFAULT_BLOCKED
from autograder.specs import get_spec
from autograder.specs import pytorch_lstm as spec

ROOT = Path(__file__).resolve().parents[1]
BUGGY = ROOT / "tests" / "buggy_pytorch"
CORRECT = BUGGY / "correct.py"
SOLUTION = ROOT / "solutions" / "05_pytorch_lstm.ipynb"
STUDENT = ROOT / "notebooks" / "05_pytorch_lstm.ipynb"
GROUPS = {g.name for g in spec.GROUPS}


_MAKE_BUGGY = load_generator(BUGGY)
MISTAKES, buggy_source = _MAKE_BUGGY.MISTAKES, _MAKE_BUGGY.buggy_source


def failed(report) -> dict[str, str]:
    return {t.name: t.output for t in report.tests if t.status == "failed"}


# ----------------------------------------------------------------------------- references
def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def numpy_lstm(x, params, num_layers, state=None):
    """The lecture's equations, gate order i, f, o, g, layer by layer: what the reference must equal."""
    N, T, _ = x.shape
    H = params["Wh_0"].shape[0]
    h0, c0 = state if state is not None else (np.zeros((num_layers, N, H)),) * 2
    inp, hs, cs = x, [], []
    for l in range(num_layers):
        h, c, outs = h0[l], c0[l], []
        for t in range(T):
            a = inp[:, t] @ params[f"Wx_{l}"] + h @ params[f"Wh_{l}"] + params[f"b_{l}"]
            i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            outs.append(h)
        inp = np.stack(outs, axis=1)
        hs.append(h)
        cs.append(c)
    return inp, np.stack(hs), np.stack(cs)


def random_params(rng, D, H, L):
    params = {}
    for l in range(L):
        params[f"Wx_{l}"] = rng.standard_normal((D if l == 0 else H, 4 * H)) * 0.5
        params[f"Wh_{l}"] = rng.standard_normal((H, 4 * H)) * 0.4
        params[f"b_{l}"] = rng.standard_normal(4 * H) * 0.3
    return params


@pytest.mark.parametrize("N, T, D, H, L, with_state", [(2, 4, 3, 5, 1, True), (1, 1, 2, 3, 2, False),
                                                       (3, 3, 4, 4, 2, True)])
def test_lstm_reference_is_the_lecture_lstm(N, T, D, H, L, with_state):
    rng = np.random.default_rng(N * 100 + T * 10 + L)
    params, x = random_params(rng, D, H, L), rng.standard_normal((N, T, D))
    state = (rng.standard_normal((L, N, H)), rng.standard_normal((L, N, H))) if with_state else None
    got = ref.lstm(x, params, L, state)
    for name, want in zip(("out", "h_n", "c_n"), numpy_lstm(x, params, L, state)):
        np.testing.assert_allclose(got[name], want, rtol=1e-12, atol=1e-12)


def test_lstm_reference_gradients_match_centred_differences():
    rng = np.random.default_rng(4)
    N, T, D, H, L = 2, 3, 3, 2, 2
    params, x = random_params(rng, D, H, L), rng.standard_normal((N, T, D))
    state = (rng.standard_normal((L, N, H)), rng.standard_normal((L, N, H)))
    douts = (rng.standard_normal((N, T, H)), rng.standard_normal((L, N, H)), rng.standard_normal((L, N, H)))
    got = ref.lstm(x, params, L, state, douts)

    def loss():
        return sum(float((o * d).sum()) for o, d in zip(numpy_lstm(x, params, L, state), douts))

    for name, arr in [("dx", x), ("dh0", state[0]), ("dc0", state[1]), ("dWx_1", params["Wx_1"]),
                      ("dWh_0", params["Wh_0"]), ("db_1", params["b_1"])]:
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + 1e-6
            plus = loss()
            arr[idx] = old - 1e-6
            minus = loss()
            arr[idx] = old
            num[idx] = (plus - minus) / 2e-6
        np.testing.assert_allclose(got[name], num, rtol=1e-6, atol=1e-8, err_msg=name)


def test_lstm_mistake_variants_differ_from_the_reference():
    rng = np.random.default_rng(2)
    params, x = random_params(rng, 3, 3, 2), rng.standard_normal((2, 4, 3))
    state = (rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 2, 3)))
    right = ref.lstm(x, params, 2, state)["out"]
    for kw in (dict(gate_order="ifgo"), dict(feed="input"), dict(init="chain"), dict(init="layer0")):
        assert np.abs(ref.lstm(x, params, 2, state, **kw)["out"] - right).max() > 1e-3, kw


def test_wide_beam_search_is_exhaustive_and_width_one_is_greedy():
    rng = np.random.default_rng(0)
    for order in (1, 2):
        for _ in range(5):
            table = spec.random_table(rng, 3, order, end_token=2, max_len=4)
            step_fn, s0 = ref.table_step_fn(table, order), ref.start_state(table, order)
            truth = ref.all_sequences(step_fn, s0, 0, 2, 4)
            wide = ref.beam_search(step_fn, s0, 0, 2, len(truth), 4)
            assert [s for s, _ in wide] == [s for s, _ in truth]
            np.testing.assert_allclose([lp for _, lp in wide], [lp for _, lp in truth], atol=1e-12)
            assert ref.beam_search(step_fn, s0, 0, 2, 1, 4) == [ref.greedy(step_fn, s0, 0, 2, 4)]
            for seq, lp in truth:
                assert abs(ref.sequence_log_prob(step_fn, s0, 0, seq) - lp) < 1e-12


def test_the_hand_built_table_is_one_where_greedy_loses():
    step_fn = ref.table_step_fn(spec.beats_greedy_table(), 1)
    greedy_seq, greedy_lp = ref.greedy(step_fn, 0, 0, 4, 4)
    best_seq, best_lp = ref.all_sequences(step_fn, 0, 0, 4, 4)[0]
    assert greedy_seq == [1, 4] and best_seq == [2, 4]
    assert np.isclose(np.exp(greedy_lp), 0.20) and np.isclose(np.exp(best_lp), 0.36)
    assert ref.beam_search(step_fn, 0, 0, 4, 2, 4)[0][0] == [2, 4]


def test_random_tables_have_no_ties():
    """Position-dependent tables: different sequences never share a log-prob, so the order is defined."""
    rng = np.random.default_rng(1)
    for order in (1, 2):
        table = spec.random_table(rng, 3, order, end_token=1, max_len=4)
        lps = np.sort([lp for _, lp in ref.all_sequences(ref.table_step_fn(table, order), ref.start_state(table, order),
                                                         0, 1, 4)])
        assert np.diff(lps).min() > 1e-9


def test_beam_mistake_variants_change_the_answer_on_the_graded_cases():
    cases = spec.beam_cases(np.random.default_rng(11))
    for kw in (dict(per_beam=True), dict(no_stop=True)):
        differs = 0
        for group in ("beats greedy", "exhaustive", "narrow beams"):
            for case in cases[group]:
                table, order, s0, start, end, width, max_len = case.inputs
                step_fn = ref.table_step_fn(table, order)
                differs += mk.beam_search_variant(step_fn, s0, start, end, width, max_len, **kw) != \
                    ref.beam_search(step_fn, s0, start, end, width, max_len)
        assert differs >= 2, kw


# ----------------------------------------------------------------------------- torch is allowed here only
def test_only_this_assignment_unblocks_torch():
    limits = _torch_limits(get_spec("pytorch_lstm"))
    assert "torch" not in limits["blocked_modules"] and "jax" in limits["blocked_modules"]
    assert limits["preload"] == ("torch",) and limits["postlude"][0].origin == "grader"
    for other in ("rnn_bptt", "lstm"):
        assert _torch_limits(get_spec(other)) == {}  # NumPy assignments keep the default, which blocks torch
    assert "torch" in DEFAULT_BLOCKED


# ----------------------------------------------------------------------------- the solution and the stubs
@pytest.mark.parametrize("path, seed", [(SOLUTION, 0), (SOLUTION, 12345), (CORRECT, 7)])
def test_solution_scores_full_marks(path, seed):
    report = grade(path, assignment="pytorch_lstm", seed=seed)
    assert report.error == ""
    assert failed(report) == {}
    assert report.score == report.max_score == 100


def test_student_notebook_scores_zero_with_not_implemented_and_exit_1():
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", str(STUDENT), "--seed", "3"],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    text = " ".join(result.stdout.split())  # the table wraps long messages
    assert "Score: 0/100" in text
    assert "LSTM.__init__ is not implemented yet" in text and "beam_search is not implemented yet" in text


def test_a_forward_stub_is_named(tmp_path):
    src = CORRECT.read_text()
    start = src.index("    def forward(self, x, state=None):\n")
    end = src.index("def beam_search")
    stubbed = src[:start] + '    def forward(self, x, state=None):\n        raise NotImplementedError("forward")\n\n\n' + src[end:]
    path = tmp_path / "forward_stub.py"
    path.write_text(stubbed)
    report = grade(path, assignment="pytorch_lstm", seed=1, only="LSTM")
    assert set(failed(report)) == {"LSTM: out", "LSTM: h_n", "LSTM: c_n"}
    assert all("NotImplementedError: LSTM.forward is not implemented yet" in m for m in failed(report).values())


# ----------------------------------------------------------------------------- buggy submissions
def test_buggy_files_are_generated_from_the_correct_one():
    for name in MISTAKES:
        assert (BUGGY / f"{name}.py").read_text() == buggy_source(name), \
            f"tests/buggy_pytorch/{name}.py is stale: run python tests/buggy_pytorch/make_buggy.py"


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_known_mistake_fails_its_groups_with_its_hint(name):
    mistake = MISTAKES[name]
    report = grade(BUGGY / f"{name}.py", assignment="pytorch_lstm", seed=3)
    assert report.error == ""
    bad = failed(report)
    assert {n.split(":")[0] for n in bad} == mistake["fails"], bad
    for group in mistake["fails"]:
        messages = [m for n, m in bad.items() if n.startswith(group + ":")]
        assert any(mistake["hint"] in m for m in messages), (group, messages)
    assert mistake["fails"] <= GROUPS
