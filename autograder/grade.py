"""Grade one submission: `grade(path) -> Report`. Never raises; a problem becomes `Report.error`.

Flow: find the assignment (notebook metadata `rnn_course.assignment`, or the argument), open the
submission in its own worker process (`runner.Submission`), run every test group of the spec with
inputs drawn from one seeded generator per group, and turn each group's outcomes into report rows.
"""

from __future__ import annotations

import json
import secrets
import time
import traceback
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .report import Report, TestResult
from .specs import get_spec, known_assignments
from .specs.common import Ctx, Outcome


def fresh_seed() -> int:
    return secrets.randbelow(2**31)


def assignment_of(path: Path) -> tuple[str, str]:
    """(assignment id from the notebook's metadata or "", error message or "")."""
    if path.suffix != ".ipynb":
        return "", ""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return "", f"cannot read {path.name}: {exc}"
    except json.JSONDecodeError as exc:
        return "", f"{path.name} is not a valid notebook: not valid JSON ({exc})"
    meta = nb.get("metadata", {}) if isinstance(nb, dict) else {}
    course = meta.get("rnn_course", {}) if isinstance(meta, dict) else {}
    found = course.get("assignment", "") if isinstance(course, dict) else ""
    return (found if isinstance(found, str) else ""), ""


def group_seed(seed: int, name: str) -> int:
    """Each group draws from its own stream, so `--only` sees the same inputs as a full run."""
    return int(np.random.SeedSequence([seed, *name.encode()]).generate_state(1)[0])


def _default_factory(path, **limits):
    from .runner import Submission
    return Submission(path, **limits)


def select(groups, only: str | None):
    """Groups (and within them outputs) that `only` names: "rnn_backward" or "rnn_backward: dWh"."""
    if not only:
        return [(g, None) for g in groups]
    name, _, output = only.partition(":")
    name, output = name.strip(), output.strip()
    for g in groups:
        if g.name == name and (not output or output in dict(g.outputs)):
            return [(g, output or None)]
    return []


def grade(path, *, assignment: str | None = None, seed: int | None = None, only: str | None = None,
          timeout: float | None = None, submission_factory: Callable | None = None,
          with_paths: Sequence = ()) -> Report:
    """Grade the submission at `path` (.ipynb or .py).

    seed: draws every input; None picks a fresh one (kept in the report, so a run can be repeated).
    only: a group ("rnn_backward") or one output ("rnn_backward: dWh"). timeout: seconds per cell
    and per call. submission_factory(path, **limits) -> a Submission-like context manager (tests);
    it also gets prelude=[cells] when the assignment depends on an earlier one.
    with_paths: the student's earlier notebooks (or .py files) this assignment builds on (the spec's
    DEPENDS_ON); without them they are looked for next to the submission (see `find_dependencies`).
    """
    start = time.perf_counter()
    path = Path(path)
    seed = fresh_seed() if seed is None else int(seed)
    report = Report(assignment=assignment or "", submission=str(path), seed=seed)
    try:
        _grade_into(report, path, assignment, seed, only, timeout, submission_factory or _default_factory,
                    [Path(p) for p in with_paths])
    except Exception as exc:  # the grader's own fault: say so, never crash
        report.error = f"internal grader error: {type(exc).__name__}: {exc}"
        report.output = (report.output + "\n" + traceback.format_exc()).strip()
    report.execution_time = round(time.perf_counter() - start, 3)
    return report


def find_dependencies(path: Path, deps: Sequence, with_paths: Sequence[Path]) -> tuple[dict, dict]:
    """Where each `Dependency` of a spec is: ({assignment: Path}, {assignment: why it is missing}).

    In order: a --with path that is a notebook of that assignment (metadata) or has its file name,
    or the only --with path when there is one dependency; then, next to the submission, a file with
    the dependency's name, or else the one other .ipynb whose metadata names its assignment (never a
    guess among several: a folder of many students' notebooks must not mix their work).
    """
    found, missing = {}, {}
    for dep in deps:
        chosen = None
        for p in with_paths:
            if p.name == dep.file or (p.suffix == ".ipynb" and assignment_of(p)[0] == dep.assignment):
                chosen = p
                break
        if chosen is None and len(deps) == 1 and len(with_paths) == 1:
            chosen = with_paths[0]
        if chosen is None and not with_paths:
            beside = path.parent / dep.file
            if beside.is_file() and beside.resolve() != path.resolve():
                chosen = beside
            else:
                # Any other notebook of that assignment beside it, but only if there is exactly one:
                # in a folder of many students' notebooks, guessing would grade with someone else's work.
                candidates = [p for p in sorted(path.parent.glob("*.ipynb"))
                              if p.resolve() != path.resolve() and assignment_of(p)[0] == dep.assignment]
                if len(candidates) == 1:
                    chosen = candidates[0]
                elif len(candidates) > 1:
                    names = ", ".join(p.name for p in candidates[:4]) + (", ..." if len(candidates) > 4 else "")
                    missing[dep.assignment] = (f"{len(candidates)} notebooks of {dep.assignment} are beside it ({names}); "
                                               f"name yours {dep.file}, or pass --with PATH")
                    continue
        if chosen is None:
            missing[dep.assignment] = f"put {dep.file} next to this notebook, or pass --with PATH"
        elif not chosen.is_file():
            missing[dep.assignment] = f"--with {chosen}: no such file"
        else:
            found[dep.assignment] = chosen
    return found, missing


def _load_prelude(found: dict) -> tuple[list, dict]:
    """The graded cells of each dependency, read here (the worker may not read the course's files)."""
    from .runner import LoadError, load_cells

    cells, problems = [], {}
    for dep_id, p in found.items():
        try:
            dep_cells, _ = load_cells(p)
        except LoadError as exc:
            problems[dep_id] = str(exc)
            continue
        for cell in dep_cells:
            cell.origin = p.name
        cells.extend(dep_cells)
    return cells, problems


def _torch_limits(spec) -> dict:
    """What a PyTorch assignment's spec changes in the worker: BLOCKED_IMPORTS (what stays blocked;
    NumPy assignments keep the runner's default, which blocks torch), PRELOAD (modules imported before
    the worker's audit hook) and HARNESS (grader code run after the submission's cells, to drive a
    submitted class and send back plain arrays)."""
    limits = {}
    if hasattr(spec, "BLOCKED_IMPORTS"):
        limits["blocked_modules"] = frozenset(spec.BLOCKED_IMPORTS)
    if getattr(spec, "PRELOAD", ()):
        limits["preload"] = tuple(spec.PRELOAD)
    if getattr(spec, "HARNESS", ""):
        from .runner import Cell
        limits["postlude"] = [Cell(1, spec.HARNESS, origin="grader")]
    return limits


def _grade_into(report, path, assignment, seed, only, timeout, factory, with_paths=()):
    if not path.exists():
        report.error = f"no such file: {path}"
        return
    found, problem = assignment_of(path)
    if problem:
        report.error = problem
        return
    assignment = assignment or found
    if not assignment:
        report.error = (f"cannot tell which assignment {path.name} is: the notebook metadata has no "
                        f"rnn_course.assignment; pass --assignment (one of {', '.join(known_assignments())})")
        return
    report.assignment = assignment
    try:
        spec = get_spec(assignment)
    except KeyError as exc:
        report.error = str(exc.args[0])
        return
    chosen = select(spec.GROUPS, only)
    if not chosen:
        names = ", ".join(g.name for g in spec.GROUPS)
        report.error = f"--only {only!r} names no test group of {assignment}; groups: {names}"
        return
    limits = {} if timeout is None else {"cell_timeout": float(timeout), "call_timeout": float(timeout)}
    deps = list(getattr(spec, "DEPENDS_ON", ()))
    found, missing = find_dependencies(path, deps, with_paths) if deps else ({}, {})
    prelude, problems = _load_prelude(found)
    missing.update(problems)
    if found:
        loaded = [f"{p}" for dep_id, p in found.items() if dep_id not in problems]
        if loaded:
            report.output = "Your earlier functions were loaded from: " + ", ".join(loaded)
    if prelude:
        limits["prelude"] = prelude
    limits.update(_torch_limits(spec))
    labels = {d.assignment: d.label for d in deps}
    with factory(path, **limits) as sub:
        load_error = getattr(sub, "load_error", "")
        if load_error:
            report.error = load_error
            return
        cell_errors = list(getattr(sub, "cell_errors", []) or [])
        if cell_errors:
            report.output = (report.output + "\n" if report.output else "") + \
                "Some cells failed when your submission was run:\n" + "\n".join(f"  {e}" for e in cell_errors)
        for group, output in chosen:
            absent = [d for d in getattr(group, "needs", ()) if d in missing]
            if absent:
                why = "; ".join(f"{group.name} uses your {labels.get(d, d)} functions: {missing[d]}" for d in absent)
                outcomes = {label: Outcome(False, why) for label, _ in group.outputs}
            else:
                ctx = Ctx(sub=sub, rng=np.random.default_rng(group_seed(seed, group.name)), cell_errors=cell_errors)
                outcomes = group.run(ctx)
            for label, points in group.outputs:
                if output and label != output:
                    continue
                out = outcomes.get(label, Outcome(False, "not tested (grader bug: no outcome)"))
                report.tests.append(TestResult(
                    name=f"{group.name}: {label}", group=group.name, score=float(points) if out.ok else 0.0,
                    max_score=float(points), status="passed" if out.ok else "failed", output=out.message))
