"""`rnn-grade grade-many DIR --out OUTDIR`: grade a whole class in parallel.

One process per core, each grading one submission at a time (each grade also starts its own
sandboxed worker). Writes OUTDIR/scores.csv and OUTDIR/<name>.json (Gradescope format) for
every submission, with a tqdm progress bar; a submission that breaks a pool process still
gets its row (exit code 2) and its results file.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import secrets
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from autograder import render
from autograder.report import Report

COLUMNS = ["submission", "score", "max_score", "passed", "failed", "exit_code", "seconds", "error"]


def find_submissions(folder, assignment: str | None = None) -> list[Path]:
    """Every .ipynb/.py directly in `folder`, plus one per subfolder (one subfolder per student).

    In a student's subfolder the submission is the notebook of `assignment` (by its metadata or,
    failing that, the only notebook there); the other files beside it, such as an earlier
    assignment that this one builds on, are found by the grader as dependencies.
    """
    folder = Path(folder)
    found = [p for p in folder.iterdir() if p.is_file() and p.suffix in (".ipynb", ".py")]
    for sub in (d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")):
        files = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix in (".ipynb", ".py"))
        if assignment is not None:
            from autograder.grade import assignment_of

            matching = [p for p in files if p.suffix == ".ipynb" and assignment_of(p)[0] == assignment]
            files = matching or files
        if len(files) == 1:
            found.append(files[0])
        elif files:
            found.append(sub)  # ambiguous: graded as an error row that says so
    return sorted(found)


def result_names(paths: list[Path], folder: Path | None = None) -> dict[Path, str]:
    """OUTDIR/<stem>.json (<student>.json for a student's subfolder), or a longer name on a clash."""
    top = Path(folder) if folder is not None else (paths[0].parent if paths else None)

    def stem(p: Path) -> str:
        return p.stem if p.parent == top or p.is_dir() else p.parent.name

    stems = [stem(p) for p in paths]
    return {p: (stem(p) if stems.count(stem(p)) == 1 else f"{p.parent.name}_{p.name}") + ".json" for p in paths}


def _grade_one(path: str, results: str, assignment, seed: int, timeout) -> dict:
    """Runs in a pool process: grade, write the results file, return the CSV row."""
    start = time.perf_counter()
    try:
        from autograder.grade import grade

        if Path(path).is_dir():
            raise ValueError(f"{Path(path).name}/ holds several notebooks and none is marked as assignment "
                             f"{assignment or '(pass --assignment)'}; leave one submission per student folder")
        report = grade(path, assignment=assignment, seed=seed, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        report = Report(assignment=assignment or "", submission=path, seed=seed,
                        error=f"internal grader error: {type(exc).__name__}: {exc}")
    render.write_results(report, results)
    return _row(path, report, time.perf_counter() - start)


def _row(path, report: Report, seconds: float) -> dict:
    return {
        "submission": Path(path).name, "score": f"{report.score:g}", "max_score": f"{report.max_score:g}",
        "passed": report.passed, "failed": report.failed, "exit_code": report.exit_code,
        "seconds": f"{seconds:.2f}", "error": render.clean(report.error, 300).replace("\n", " "),
    }


def grade_many(folder, out, *, assignment=None, seed=None, timeout=None, jobs=None, progress=True) -> int:
    """Grade every submission in `folder`; returns 0 when all could be graded, 2 otherwise."""
    from tqdm import tqdm

    paths = find_submissions(folder, assignment)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    names = result_names(paths, Path(folder))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths) or 1))
    print(f"Seed: {seed} (repeat with --seed {seed}); {len(paths)} submissions, {jobs} processes", flush=True)
    rows: dict[Path, dict] = {}
    started = time.perf_counter()
    # spawn, not fork: the parent may hold threads (tqdm's monitor), and forked children would inherit them.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_grade_one, str(p), str(out / names[p]), assignment, seed, timeout): p for p in paths}
        for fut in tqdm(as_completed(futures), total=len(futures), unit="sub", disable=not progress, file=sys.stderr):
            p = futures[fut]
            try:
                rows[p] = fut.result()
            except Exception as exc:  # noqa: BLE001 (a pool process died: still one row and one file)
                report = Report(assignment=assignment or "", submission=str(p), seed=seed,
                                error=f"the grading process failed: {type(exc).__name__}: {exc}")
                render.write_results(report, out / names[p])
                rows[p] = _row(p, report, 0.0)
    elapsed = time.perf_counter() - started
    with open(out / "scores.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for p in paths:  # a student's subfolder shows in the name: alice/02_clipping_tbptt.ipynb
            shown = p.name if p.parent == Path(folder) or p.is_dir() else f"{p.parent.name}/{p.name}"
            writer.writerow({**rows[p], "submission": shown})
    rate = 60 * len(paths) / elapsed if elapsed > 0 else 0.0
    print(f"Graded {len(paths)} submissions in {elapsed:.1f} s ({rate:.0f} per minute); "
          f"scores in {out / 'scores.csv'}")
    return 0 if all(int(r["exit_code"]) != 2 for r in rows.values()) else 2
