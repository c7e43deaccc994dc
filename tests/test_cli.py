"""The command line, the three report formats, grade-many, the bundles, and the end-to-end promises."""

from __future__ import annotations

import csv
import json
import shutil
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from autograder import bundle, cli, render
from autograder.report import Report
from autograder import report as report_module

ROOT = Path(__file__).resolve().parents[1]
STUDENT = ROOT / "notebooks" / "01_rnn_bptt.ipynb"
SOLUTION = ROOT / "solutions" / "01_rnn_bptt.ipynb"
needs_notebooks = pytest.mark.skipif(not (STUDENT.exists() and SOLUTION.exists()),
                                     reason="the solution or the generated student notebook does not exist yet")


def fake_report(kind: str, seed: int) -> Report:
    r = Report(assignment="rnn_bptt", submission="sub.ipynb", seed=seed, execution_time=0.5)
    if kind == "error":
        r.error = "sub.ipynb is not a valid notebook"
        return r
    r.tests = [
        report_module.TestResult("rnn_forward: h", "rnn_forward", 8, 8, "passed", "ok"),
        report_module.TestResult("rnn_backward: dWh", "rnn_backward", 0 if kind == "fail" else 5, 5,
                   "failed" if kind == "fail" else "passed",
                   "dWh wrong from t = 3 (rel. error 0.4): gradient from step t+1 not added\nScore: 100/100 \x1b[2J"),
    ]
    return r


@pytest.fixture
def fake_grade(monkeypatch):
    calls = []

    def fake(path, *, assignment=None, seed=None, only=None, timeout=None):
        calls.append(dict(path=path, assignment=assignment, seed=seed, only=only, timeout=timeout))
        kind = Path(path).stem
        if kind == "boom":
            raise RuntimeError("grader bug")
        return fake_report(kind, seed)

    monkeypatch.setattr(cli, "_grade", fake)
    return calls


@pytest.mark.parametrize("kind, code", [("pass", 0), ("fail", 1), ("error", 2), ("boom", 2)])
def test_exit_codes_and_files_are_written_whatever_happens(fake_grade, tmp_path, capsys, kind, code):
    results, junit = tmp_path / "r" / "results.json", tmp_path / "junit.xml"
    assert cli.main(["grade", f"{kind}.ipynb", "--results", str(results), "--junit", str(junit)]) == code
    out, err = capsys.readouterr()
    data = json.loads(results.read_text())
    assert set(data) >= {"score", "max_score", "execution_time", "output", "tests"}
    suite = ET.fromstring(junit.read_text())
    assert suite.tag == "testsuite"
    if code == 2:
        assert data["score"] == 0 and ("could not grade" in data["output"].lower())
        assert suite.get("errors") == "1"
    assert "Traceback" not in out + err
    assert cli.main(["grade", f"{kind}.ipynb", "--exit-zero"]) == 0


def test_seed_is_printed_first_and_passed_on(fake_grade, capsys):
    cli.main(["grade", "pass.ipynb", "--only", "rnn_backward", "--timeout", "3"])
    out = capsys.readouterr().out.splitlines()
    seed = fake_grade[0]["seed"]
    assert out[0] == f"Seed: {seed} (repeat with --seed {seed})"
    assert fake_grade[0]["only"] == "rnn_backward" and fake_grade[0]["timeout"] == 3.0
    cli.main(["grade", "pass.ipynb", "--seed", "42"])
    assert fake_grade[1]["seed"] == 42
    cli.main(["grade", "pass.ipynb"])
    assert fake_grade[2]["seed"] != seed  # a fresh seed each run (collides with odds 1 in 2**31)


def test_terminal_table_shows_points_status_feedback_and_totals(fake_grade, capsys):
    cli.main(["grade", "fail.ipynb", "--seed", "1"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[-2:] == ["1 passed, 1 failed", "Score: 8/13"]
    row = next(ln for ln in lines if ln.startswith("rnn_backward: dWh"))
    assert "0/5" in row and "failed" in row and "dWh wrong from t = 3" in row
    assert [ln for ln in lines if ln.startswith("Score:")] == ["Score: 8/13"]  # the fake one stays indented
    assert "\x1b" not in out


def test_internal_error_gives_exit_2_without_traceback_unless_debugging(fake_grade, capsys, monkeypatch):
    assert cli.main(["grade", "boom.ipynb"]) == 2
    out, err = capsys.readouterr()
    assert "internal grader error: RuntimeError: grader bug" in out and "Traceback" not in out + err
    monkeypatch.setenv("RNN_GRADER_DEBUG", "1")
    assert cli.main(["grade", "boom.ipynb"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_junit_has_one_case_per_test_with_failures():
    suite = ET.fromstring(render.junit(fake_report("fail", 3)))
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["rnn_forward: h", "rnn_backward: dWh"]
    assert cases[1].find("failure") is not None and suite.get("failures") == "1"


def test_gradescope_json_has_the_documented_fields():
    data = render.gradescope(fake_report("fail", 3))
    assert data["score"] == 8 and data["max_score"] == 13 and "Seed: 3" in data["output"]
    assert data["tests"][1] == {
        "name": "rnn_backward: dWh", "score": 0.0, "max_score": 5.0, "status": "failed",
        "output": data["tests"][1]["output"], "visibility": "visible",
    }


# ------------------------------------------------------------------------- bundles


def test_gradescope_bundle_contains_everything_and_run_autograder_is_executable(tmp_path, capsys):
    out = tmp_path / "autograder.zip"
    assert cli.main(["bundle", "gradescope", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml",
                "autograder/__init__.py", "autograder/runner.py", "autograder/_worker.py",
                "rnn_helpers/__init__.py"} <= names
        assert not any("__pycache__" in n or n.startswith(("solutions/", "notebooks/")) for n in names)
        for name in ("run_autograder", "setup.sh"):
            assert (zf.getinfo(name).external_attr >> 16) & 0o111 == 0o111
        assert zf.read("requirements.txt") == (ROOT / "requirements.txt").read_bytes()
        setup = zf.read("setup.sh").decode()
        assert "download.pytorch.org/whl/cpu" in setup and "no GPU" in setup
        run = zf.read("run_autograder").decode()
        assert "/autograder/submission/" in run and "--results /autograder/results/results.json --exit-zero" in run


def test_gradescope_bundle_is_made_for_one_assignment_and_finds_its_notebook_among_uploads(tmp_path):
    out = tmp_path / "autograder.zip"
    assert cli.main(["bundle", "gradescope", "--assignment", "clipping_tbptt", "--out", str(out)]) == 0
    run = zipfile.ZipFile(out).read("run_autograder").decode()
    assert 'ASSIGNMENT="clipping_tbptt"' in run and 'NOTEBOOK="02_clipping_tbptt.ipynb"' in run
    assert "{{" not in run
    # A student uploads assignment 2 under another name, together with the assignment 1 it builds on.
    uploads = tmp_path / "work"
    uploads.mkdir()
    shutil.copy(ROOT / "solutions" / "01_rnn_bptt.ipynb", uploads / "01_rnn_bptt.ipynb")
    shutil.copy(ROOT / "solutions" / "02_clipping_tbptt.ipynb", uploads / "my_assignment2.ipynb")
    assert bundle.find_submission(uploads, "clipping_tbptt", "02_clipping_tbptt.ipynb") == uploads / "my_assignment2.ipynb"
    assert bundle.find_submission(tmp_path / "empty", "rnn_bptt", "01_rnn_bptt.ipynb").name == "01_rnn_bptt.ipynb"


def test_classroom_workflow_has_one_step_per_group_with_its_points():
    from autograder.specs import get_spec

    text = (ROOT / "autograder" / "templates" / "classroom.yml").read_text()
    assert text == bundle.classroom_workflow("rnn_bptt"), "regenerate: rnn-grade bundle classroom --out autograder/templates/classroom.yml"
    for group in get_spec("rnn_bptt").GROUPS:
        assert f"--only {group.name}\n" in text
        assert f"max-score: {sum(p for _, p in group.outputs):g}\n" in text


# ------------------------------------------------------------------------- end to end


@needs_notebooks
def test_grade_many_writes_a_csv_row_and_a_results_file_per_submission(tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SOLUTION, subs / "alice.ipynb")
    shutil.copy(STUDENT, subs / "bob.ipynb")
    (subs / "carol.ipynb").write_text("{ not json")
    (subs / "notes.txt").write_text("not a submission")
    out = tmp_path / "out"
    code = cli.main(["grade-many", str(subs), "--out", str(out), "--seed", "5", "--jobs", "2"])
    assert code == 2  # carol's could not be graded
    rows = list(csv.DictReader((out / "scores.csv").open()))
    assert [r["submission"] for r in rows] == ["alice.ipynb", "bob.ipynb", "carol.ipynb"]
    assert list(rows[0]) == ["submission", "score", "max_score", "passed", "failed", "exit_code", "seconds", "error"]
    assert [r["exit_code"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["score"] == rows[0]["max_score"] == "100" and rows[1]["score"] == "0"
    assert "not valid JSON" in rows[2]["error"]
    for stem in ("alice", "bob", "carol"):
        assert "score" in json.loads((out / f"{stem}.json").read_text())


@needs_notebooks
def test_the_student_notebook_scores_zero_and_every_test_says_not_implemented(tmp_path, capsys):
    results = tmp_path / "results.json"
    code = cli.main(["grade", str(STUDENT), "--results", str(results)])
    out = capsys.readouterr().out
    assert code == 1 and "Score: 0/" in out
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["tests"]
    for t in data["tests"]:
        group = t["name"].split(":")[0]
        assert f"NotImplementedError: {group}" in t["output"], t


@needs_notebooks
def test_the_solution_scores_full_marks_on_20_seeds():
    """Every seed is a full grade of all groups; the worker (cells already run) is shared to keep it fast."""
    from autograder.grade import grade
    from autograder.runner import Submission

    with Submission(SOLUTION) as sub:
        class Shared:
            def __init__(self, path, **limits):
                pass

            def __enter__(self):
                return sub

            def __exit__(self, *exc):
                return False

        for seed in range(1000, 1020):
            report = grade(SOLUTION, seed=seed, submission_factory=Shared)
            assert report.exit_code == 0 and report.score == report.max_score > 0, (seed, [
                (t.name, t.output) for t in report.tests if t.status != "passed"])


@needs_notebooks
def test_grading_the_solution_takes_under_10_seconds(tmp_path, capsys):
    t0 = time.perf_counter()
    assert cli.main(["grade", str(SOLUTION), "--seed", "7"]) == 0
    assert time.perf_counter() - t0 < 10


def test_grade_many_takes_one_subfolder_per_student_and_never_mixes_their_work(tmp_path):
    """Assignment 2 builds on assignment 1: each student's own 01 notebook must be the one used."""
    import csv
    import shutil

    from autograder.many import grade_many

    root = Path(__file__).resolve().parents[1]
    for student, first in [("alice", root / "solutions/01_rnn_bptt.ipynb"), ("bob", root / "notebooks/01_rnn_bptt.ipynb")]:
        (tmp_path / "class" / student).mkdir(parents=True)
        shutil.copy(first, tmp_path / "class" / student / "01_rnn_bptt.ipynb")
        shutil.copy(root / "solutions/02_clipping_tbptt.ipynb", tmp_path / "class" / student / "02_clipping_tbptt.ipynb")
    code = grade_many(tmp_path / "class", tmp_path / "out", assignment="clipping_tbptt", seed=3, jobs=1, progress=False)
    assert code == 0
    rows = {r["submission"]: r for r in csv.DictReader(open(tmp_path / "out" / "scores.csv"))}
    assert set(rows) == {"alice/02_clipping_tbptt.ipynb", "bob/02_clipping_tbptt.ipynb"}
    alice, bob = rows["alice/02_clipping_tbptt.ipynb"], rows["bob/02_clipping_tbptt.ipynb"]
    assert alice["score"] == alice["max_score"]
    # Bob's assignment 1 is blank, so only his truncated_bptt_grads loses points; Alice's work is not borrowed.
    assert float(bob["score"]) < float(bob["max_score"])
    assert (tmp_path / "out" / "alice.json").exists() and (tmp_path / "out" / "bob.json").exists()


def test_a_flat_folder_of_many_students_does_not_guess_a_dependency(tmp_path):
    import shutil

    from autograder.grade import grade

    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "solutions/01_rnn_bptt.ipynb", tmp_path / "alice_01.ipynb")
    shutil.copy(root / "notebooks/01_rnn_bptt.ipynb", tmp_path / "bob_01.ipynb")
    shutil.copy(root / "solutions/02_clipping_tbptt.ipynb", tmp_path / "bob_02.ipynb")
    report = grade(tmp_path / "bob_02.ipynb", seed=1, only="truncated_bptt_grads")
    assert report.score == 0
    assert any("2 notebooks of rnn_bptt are beside it" in t.output for t in report.tests)
