"""A `Report` three ways: the terminal table, Gradescope's results.json, and JUnit XML.

Feedback text can contain what a submission printed or raised, so every string shown here
is cleaned of control characters (no terminal escape codes) and indented inside the table,
so no line a submission writes can pass for the grader's own `Score:` line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from autograder.report import Report

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TRACEBACK = "Traceback (most recent call last)"


def clean(text: str, limit: int = 20000) -> str:
    """Printable text: control characters (ANSI escapes included) become '?', long text is cut."""
    text = _CONTROL.sub("?", str(text).replace("\r\n", "\n"))
    return text if len(text) <= limit else text[:limit] + f" ... [{len(text) - limit} more characters]"


def debug() -> bool:
    return os.environ.get("RNN_GRADER_DEBUG", "") not in ("", "0")


def public_output(report: Report) -> str:
    """The report's free text without grader tracebacks (those go to stderr under RNN_GRADER_DEBUG=1)."""
    out = report.output or ""
    if _TRACEBACK in out and not debug():
        out = out[: out.index(_TRACEBACK)].rstrip()
    return out


def _fmt(x: float) -> str:
    return f"{x:g}"


def terminal(report: Report, width: int | None = None) -> str:
    """The table of tests (name, points, status, wrapped feedback), then the totals."""
    width = width or max(80, min(shutil.get_terminal_size((100, 24)).columns, 160))
    lines = [f"Assignment: {clean(report.assignment) or '?'}    Submission: {clean(report.submission)}"]
    out = public_output(report)
    if out:
        lines += ["", *("  " + ln for ln in clean(out).splitlines())]
    if report.tests:
        name_w = min(max(len("Test"), *(len(clean(t.name)) for t in report.tests)), 40)
        pts = [f"{_fmt(t.score)}/{_fmt(t.max_score)}" for t in report.tests]
        pts_w = max(len("Points"), *(len(p) for p in pts))
        stat_w = len("failed")
        fb_w = max(20, width - name_w - pts_w - stat_w - 6)
        head = f"{'Test':<{name_w}}  {'Points':>{pts_w}}  {'Status':<{stat_w}}  Feedback"
        lines += ["", head, "-" * min(width, len(head) + fb_w - len("Feedback"))]
        for t, p in zip(report.tests, pts):
            feedback = []
            for para in clean(t.output).splitlines() or [""]:
                feedback += textwrap.wrap(para, fb_w) or [""]
            names = textwrap.wrap(clean(t.name), name_w) or [""]
            for i in range(max(len(feedback), len(names))):
                n = names[i] if i < len(names) else ""
                left = f"{n:<{name_w}}  {p if i == 0 else '':>{pts_w}}  {t.status if i == 0 else '':<{stat_w}}"
                lines.append(f"{left}  {feedback[i] if i < len(feedback) else ''}".rstrip())
    if report.error:
        lines += ["", "Could not grade this submission:", *("  " + ln for ln in clean(report.error).splitlines())]
    lines += ["", f"{report.passed} passed, {report.failed} failed", f"Score: {_fmt(report.score)}/{_fmt(report.max_score)}"]
    return "\n".join(lines)


def gradescope(report: Report) -> dict:
    """Gradescope's results.json (https://gradescope-autograders.readthedocs.io, "Output format")."""
    text = [f"Seed: {report.seed} (repeat with --seed {report.seed})"]
    if public_output(report):
        text.append(clean(public_output(report)))
    if report.error:
        text.append("Could not grade this submission: " + clean(report.error))
    return {
        "score": report.score,
        "max_score": report.max_score,
        "execution_time": round(float(report.execution_time), 3),
        "output": "\n\n".join(text),
        "tests": [
            {
                "name": clean(t.name, 200),
                "score": float(t.score),
                "max_score": float(t.max_score),
                "status": "passed" if t.status == "passed" else "failed",
                "output": clean(t.output),
                "visibility": t.visibility,
            }
            for t in report.tests
        ],
    }


def junit(report: Report) -> str:
    """JUnit XML, one <testcase> per test; a grading failure is one <error> test case."""
    errors = 1 if report.error else 0
    suite = ET.Element(
        "testsuite", name=clean(report.assignment or "grading", 200), tests=str(len(report.tests) + errors),
        failures=str(report.failed), errors=str(errors), time=f"{float(report.execution_time):.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for key, val in (("seed", report.seed), ("submission", clean(report.submission)),
                     ("score", _fmt(report.score)), ("max_score", _fmt(report.max_score))):
        ET.SubElement(props, "property", name=key, value=str(val))
    for t in report.tests:
        case = ET.SubElement(suite, "testcase", classname=clean(t.group, 200), name=clean(t.name, 200), time="0")
        if t.status != "passed":
            fail = ET.SubElement(case, "failure", message=clean(t.output, 500),
                                 type=f"{_fmt(t.score)}/{_fmt(t.max_score)} points")
            fail.text = clean(t.output)
    if report.error:
        case = ET.SubElement(suite, "testcase", classname="grader", name="grading", time="0")
        err = ET.SubElement(case, "error", message=clean(report.error, 500), type="could-not-grade")
        err.text = clean(report.error)
    if public_output(report):
        ET.SubElement(suite, "system-out").text = clean(public_output(report))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def write_text(path, text: str) -> None:
    """Write atomically (temp file, then rename): replaces whatever was there, even a file a submission made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(report: Report, path) -> None:
    write_text(path, json.dumps(gradescope(report), indent=2) + "\n")


def write_junit(report: Report, path) -> None:
    write_text(path, junit(report))
