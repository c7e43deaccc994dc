"""Bad input and tampering: the grader never crashes, always writes its results, and cannot be talked up.

Each case is a small submission in tests/tampering/. The score-raising attempts (`cell_*.py`) are
appended as an ordinary code cell to the blank student notebook, which must still score 0, and to
the solution notebook, which must never score more than it does honestly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.grade import grade
from autograder.runner import GRADER_DIR

ROOT = Path(__file__).resolve().parents[1]
TAMPERING = Path(__file__).parent / "tampering"
STUDENT = ROOT / "notebooks" / "01_rnn_bptt.ipynb"
SOLUTION = ROOT / "solutions" / "01_rnn_bptt.ipynb"
SEED = 20240611
needs_student = pytest.mark.skipif(not STUDENT.exists(), reason="notebooks/01_rnn_bptt.ipynb not generated yet")
needs_solution = pytest.mark.skipif(not SOLUTION.exists(), reason="solutions/01_rnn_bptt.ipynb not written yet")


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main(["grade", *map(str, argv)])
    return code, capsys.readouterr().out


def group_rows(report, group):
    return [t for t in report.tests if t.group == group]


# ------------------------------------------------------------------------- bad input


def test_invalid_json_cannot_be_graded_and_says_why(tmp_path, capsys):
    results, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    code, out = run_cli(capsys, TAMPERING / "bad_json.ipynb", "--results", results, "--junit", junit, "--seed", 1)
    assert code == 2 and "not valid JSON" in out
    data = json.loads(results.read_text())
    assert data["score"] == 0 and "not valid JSON" in data["output"]
    assert "could-not-grade" in junit.read_text()


def test_a_notebook_without_the_graded_functions_scores_zero(tmp_path, capsys):
    results = tmp_path / "results.json"
    code, out = run_cli(capsys, TAMPERING / "no_functions.ipynb", "--results", results, "--seed", 1)
    assert code == 1 and out.rstrip().endswith("Score: 0/100")
    data = json.loads(results.read_text())
    assert data["max_score"] == 100 and all("is not defined" in t["output"] for t in data["tests"])


@pytest.mark.parametrize("name, message", [
    ("syntax_error.py", "SyntaxError"),
    ("raise_at_import.py", "ModuleNotFoundError: No module named 'a_module_that_does_not_exist'"),
])
def test_a_submission_whose_cells_fail_scores_zero_with_the_cells_error(name, message):
    report = grade(TAMPERING / name, assignment="rnn_bptt", seed=SEED, timeout=2)
    assert report.exit_code == 1 and report.score == 0 and message in report.output


def test_an_exception_in_a_graded_call_is_shown_for_that_function():
    report = grade(TAMPERING / "raise_in_call.py", assignment="rnn_bptt", seed=SEED, timeout=2)
    (row,) = group_rows(report, "rnn_step_forward")
    assert row.score == 0 and "ValueError: shapes do not align, I give up" in row.output


def test_an_infinite_loop_is_stopped_in_a_cell_and_in_a_call():
    report = grade(TAMPERING / "infinite_loop.py", assignment="rnn_bptt", seed=SEED, timeout=1)
    assert "took longer than 1 s" in report.output  # the top-level loop
    (row,) = group_rows(report, "rnn_step_forward")
    assert row.score == 0 and "1 s" in row.output and report.exit_code == 1
    assert report.execution_time < 30


def test_wrong_shape_nan_list_and_none_each_score_zero_with_a_reason():
    report = grade(TAMPERING / "bad_returns.py", assignment="rnn_bptt", seed=SEED, timeout=2)
    expect = {"rnn_step_forward": "shape", "temporal_affine_forward": "NaN",
              "word_embedding_forward": "list", "rnn_forward": "None"}
    for group, word in expect.items():
        rows = group_rows(report, group)
        assert rows and all(r.score == 0 for r in rows)
        assert any(word.lower() in r.output.lower() for r in rows), (group, [r.output for r in rows])
    assert report.exit_code == 1


def test_printing_megabytes_is_capped_and_still_graded():
    report = grade(TAMPERING / "print_megabytes.py", assignment="rnn_bptt", seed=SEED, timeout=3)
    (row,) = group_rows(report, "rnn_step_forward")
    assert row.status == "passed"  # the function is right; its printing costs nothing
    assert len(row.output) < 70_000 and report.execution_time < 30


def test_allocating_far_too_much_memory_is_a_clear_zero():
    report = grade(TAMPERING / "alloc_memory.py", assignment="rnn_bptt", seed=SEED, timeout=5)
    assert "MemoryError" in report.output
    (row,) = group_rows(report, "rnn_step_forward")
    assert row.score == 0 and ("MemoryError" in row.output or "died" in row.output)


def test_a_missing_file_cannot_be_graded_and_the_results_file_is_still_written(tmp_path, capsys):
    results = tmp_path / "out" / "results.json"
    code, out = run_cli(capsys, tmp_path / "nope.ipynb", "--results", results, "--seed", 1)
    assert code == 2 and json.loads(results.read_text())["score"] == 0


# ------------------------------------------------------------------------- tampering

CELLS = sorted(p.name for p in TAMPERING.glob("cell_*.py"))


def with_cell(notebook: Path, cell: str, tmp_path: Path, results: Path, canary: Path) -> Path:
    nb = json.loads(notebook.read_text())
    source = (TAMPERING / cell).read_text()
    source = (source.replace("{{CANARY}}", str(canary)).replace("{{RESULTS}}", str(results))
              .replace("{{GRADER}}", str(GRADER_DIR)))
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source})
    path = tmp_path / f"{notebook.parent.name}-{cell}.ipynb"
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture(scope="module")
def honest_solution_score():
    return grade(SOLUTION, seed=SEED).score if SOLUTION.exists() else None


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("which", [pytest.param("student", marks=needs_student),
                                   pytest.param("solution", marks=needs_solution)])
def test_tampering_cannot_raise_the_score(which, cell, tmp_path, capsys, honest_solution_score):
    canary = tmp_path / "canary.txt"
    canary.write_text("original")
    results, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    path = with_cell(STUDENT if which == "student" else SOLUTION, cell, tmp_path, results, canary)
    code, out = run_cli(capsys, path, "--results", results, "--junit", junit, "--seed", SEED, "--timeout", 2)
    data = json.loads(results.read_text())
    score_lines = [ln for ln in out.splitlines() if ln.startswith("Score:")]
    assert len(score_lines) == 1 and score_lines[0] == f"Score: {data['score']:g}/{data['max_score']:g}"
    assert "\x1b" not in out and "\x1b" not in results.read_text()
    if which == "student":
        assert data["score"] == 0 and code == 1
    else:
        assert data["score"] <= honest_solution_score
        assert code in (0, 1)
    assert canary.read_text() == "original"
    assert (GRADER_DIR / "grade.py").exists() and "# changed" not in (GRADER_DIR / "grade.py").read_text()
    assert data["tests"] and "perfect" not in data["output"]
