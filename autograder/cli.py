"""The command line: `rnn-grade grade PATH`, `rnn-grade grade-many DIR`, `rnn-grade bundle gradescope`.

Exit codes of `grade`: 0 full marks, 1 some test failed, 2 could not grade (the reason is
printed and written to the results files). `--exit-zero` makes it 0 whatever happened.
A problem inside the grader never shows a traceback unless RNN_GRADER_DEBUG=1.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import traceback

from autograder import render
from autograder.report import Report


def fresh_seed() -> int:
    return secrets.randbelow(2**31)


def _grade(path, **kwargs) -> Report:
    from autograder.grade import grade  # imported late: it pulls in torch, which --help does not need

    return grade(path, **kwargs)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rnn-grade", description="Grade RNN course assignments (NumPy notebooks).")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade one submission (.ipynb or .py)")
    g.add_argument("path")
    g.add_argument("--assignment", help="assignment id (default: the notebook's rnn_course.assignment metadata)")
    g.add_argument("--only", metavar="NAME", help="grade one function or test group, e.g. rnn_backward")
    g.add_argument("--results", metavar="FILE", help="write Gradescope results JSON here")
    g.add_argument("--junit", metavar="FILE", help="write JUnit XML here")
    g.add_argument("--seed", type=int, help="seed for every random input (default: a fresh one, printed)")
    g.add_argument("--timeout", type=float, metavar="S", help="seconds allowed per cell and per call (default 10)")
    g.add_argument("--exit-zero", action="store_true", help="exit with 0 whatever the result")
    g.add_argument("--with", dest="with_paths", action="append", default=[], metavar="PATH",
                   help="an earlier notebook this assignment builds on (repeatable), e.g. --with "
                        "01_rnn_bptt.ipynb for clipping_tbptt; default: looked for next to PATH")

    m = sub.add_parser("grade-many", help="grade every .ipynb/.py in a folder, in parallel")
    m.add_argument("dir")
    m.add_argument("--out", default="grading-output", help="folder for scores.csv and one results file each")
    m.add_argument("--assignment")
    m.add_argument("--seed", type=int, help="one seed for the whole batch (default: a fresh one, printed)")
    m.add_argument("--timeout", type=float, metavar="S")
    m.add_argument("--jobs", type=int, help="parallel processes (default: the number of cores)")

    b = sub.add_parser("bundle", help="package the grader for a platform")
    b.add_argument("platform", choices=["gradescope", "classroom"],
                   help="gradescope: autograder.zip; classroom: the GitHub Classroom workflow")
    b.add_argument("--out", help="default: autograder.zip, or classroom.yml")
    b.add_argument("--assignment", default="rnn_bptt", help="which assignment (one zip or workflow each)")

    f = sub.add_parser("find-submission", help="print which uploaded notebook to grade (used by run_autograder)")
    f.add_argument("dir")
    f.add_argument("assignment")
    f.add_argument("notebook")
    return p


def _internal_error(exc: BaseException) -> str:
    if render.debug():
        traceback.print_exc(file=sys.stderr)
        return f"internal grader error: {type(exc).__name__}: {exc}"
    return f"internal grader error: {type(exc).__name__}: {exc} (set RNN_GRADER_DEBUG=1 to see the traceback)"


def cmd_grade(args) -> int:
    seed = fresh_seed() if args.seed is None else args.seed
    print(f"Seed: {seed} (repeat with --seed {seed})", flush=True)
    try:
        extra = {"with_paths": args.with_paths} if args.with_paths else {}
        report = _grade(args.path, assignment=args.assignment, seed=seed, only=args.only, timeout=args.timeout,
                        **extra)
        if not isinstance(report, Report):
            raise TypeError(f"grade() returned {type(report).__name__}, not a Report")
    except Exception as exc:  # noqa: BLE001 (exit 2 with a message, never a traceback)
        report = Report(assignment=args.assignment or "", submission=str(args.path), seed=seed,
                        error=_internal_error(exc))
    if render.debug() and render._TRACEBACK in (report.output or ""):
        print(report.output, file=sys.stderr)
    code = report.exit_code
    problems = []
    for path, write in ((args.results, render.write_results), (args.junit, render.write_junit)):
        if path:
            try:
                write(report, path)
            except OSError as exc:
                problems.append(f"could not write {path}: {exc}")
    try:
        print(render.terminal(report), flush=True)
    except Exception as exc:  # noqa: BLE001
        print(f"Score: {report.score:g}/{report.max_score:g} ({_internal_error(exc)})")
    for p in problems:
        print(p, file=sys.stderr)
        code = 2
    return 0 if args.exit_zero else code


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "grade":
            return cmd_grade(args)
        if args.command == "grade-many":
            from autograder.many import grade_many

            return grade_many(args.dir, args.out, assignment=args.assignment, seed=args.seed,
                              timeout=args.timeout, jobs=args.jobs)
        if args.command == "find-submission":
            from autograder import bundle

            print(bundle.find_submission(args.dir, args.assignment, args.notebook))
            return 0
        if args.command == "bundle":
            from autograder import bundle

            if args.platform == "classroom":
                out = bundle.write_classroom(args.out or "classroom.yml", args.assignment)
                print(f"Wrote {out}: copy it to .github/workflows/classroom.yml in the starter repository.")
                return 0
            out = bundle.bundle_gradescope(args.out or "autograder.zip", assignment=args.assignment)
            print(f"Wrote {out}: upload it as the autograder of a Gradescope programming assignment.")
            return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001
        print(f"rnn-grade: {_internal_error(exc)}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
