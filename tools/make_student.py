"""Generate the student notebooks in notebooks/ from the solution notebooks in solutions/.

    .venv/bin/python tools/make_student.py           # (re)write notebooks/*.ipynb
    .venv/bin/python tools/make_student.py --check   # exit 1 if any student notebook is stale

For every solutions/<name>.ipynb this writes notebooks/<name>.ipynb in which
- in code cells, every region from a line `### BEGIN SOLUTION` to a line `### END SOLUTION`
  (inclusive, any indentation) becomes, at the marker's indentation,
      # YOUR CODE HERE
      raise NotImplementedError("<name of the innermost enclosing def>")
- in markdown cells, every `<!-- BEGIN SOLUTION -->` ... `<!-- END SOLUTION -->` region is removed;
- cells tagged `solution-only` are dropped;
- outputs and execution counts are cleared; cell ids and metadata are kept;
- a first markdown cell (id `generated-banner`) says the file is generated;
- the notebook metadata gains `rnn_course.generated_from`.
The output is deterministic (nbformat's JSON: indent 1, sorted keys, trailing newline), so running
the generator twice gives byte-identical files. Solution notebooks must be committed without
outputs; `--check` fails when one has them.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BANNER_ID = "generated-banner"
SOLUTION_ONLY_TAG = "solution-only"
CODE_BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[ \t]*$")
CODE_END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
LOOSE_MARKER = re.compile(r"#+\s*(BEGIN|END)\s+SOLUTION")  # a marker with a typo or trailing text
MD_BEGIN = "<!-- BEGIN SOLUTION -->"
MD_END = "<!-- END SOLUTION -->"
MD_REGION = re.compile(r"[ \t]*<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->[ \t]*\n?", re.DOTALL)


class MarkerError(ValueError):
    """Unbalanced or misplaced solution markers; the message names the notebook and the cell."""


# ----------------------------------------------------------------------------- code cells
def _parse(source: str) -> ast.Module | None:
    """The cell's syntax tree, with IPython magics (% and ! lines) blanked so line numbers stay; None if invalid."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _indent_width(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _def_spans(tree: ast.Module, lines: list[str]) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every def, 1-based, methods named "Class.method"; the span runs on over trailing comment lines
    indented deeper than the def (ast's end_lineno stops at the last statement)."""
    spans = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                end = child.end_lineno
                while end < len(lines) and (not lines[end].strip() or _indent_width(lines[end]) > child.col_offset):
                    end += 1
                spans.append((child.lineno, end, prefix + child.name))  # methods are named Class.method
                visit(child, "")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def _enclosing_def_by_indent(lines: list[str], index: int) -> str | None:
    """Fallback for cells that do not parse: the nearest def above line `index` that encloses it by indentation."""
    limit = _indent_width(lines[index])
    for line in reversed(lines[:index]):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        width = _indent_width(line)
        if width < limit:
            match = re.match(r"\s*(?:async\s+)?def\s+(\w+)", line)
            if match:
                return match.group(1)
            limit = width
            if width == 0:
                return None
    return None


def _first_defined_name(tree: ast.Module | None) -> str:
    for node in tree.body if tree is not None else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return node.name
    return "this cell"


def strip_code(source: str, where: str = "cell") -> str:
    """Replace every solution region of a code cell's source by a stub; `where` names the cell in errors."""
    lines = source.split("\n")
    regions = []  # (begin index, end index, indentation), 0-based, inclusive
    begin = None
    for i, line in enumerate(lines):
        if CODE_BEGIN.match(line):
            if begin is not None:
                raise MarkerError(f"{where}: line {i + 1} opens a solution region inside the one opened on "
                                  f"line {begin + 1}; close it with '### END SOLUTION' first")
            begin = i
        elif CODE_END.match(line):
            if begin is None:
                raise MarkerError(f"{where}: line {i + 1} has '### END SOLUTION' without a '### BEGIN SOLUTION' before it")
            regions.append((begin, i, CODE_BEGIN.match(lines[begin]).group("indent")))
            begin = None
        elif LOOSE_MARKER.search(line):
            raise MarkerError(f"{where}: line {i + 1} mentions a solution marker but is not exactly "
                              f"'### BEGIN SOLUTION' or '### END SOLUTION' on a line of its own: {line.strip()!r}")
    if begin is not None:
        raise MarkerError(f"{where}: '### BEGIN SOLUTION' on line {begin + 1} has no '### END SOLUTION'")
    if not regions:
        return source

    tree = _parse(source)
    spans = _def_spans(tree, lines) if tree is not None else []
    out = []
    position = 0
    for first, last, indent in regions:
        line_no = first + 1
        if tree is not None:
            enclosing = [span for span in spans if span[0] < line_no <= span[1]]
            name = max(enclosing)[2] if enclosing else None  # the innermost def starts last
        else:
            name = _enclosing_def_by_indent(lines, first)
        if name is None:
            name = _first_defined_name(tree)
        out.extend(lines[position:first])
        out.append(f"{indent}# YOUR CODE HERE")
        out.append(f'{indent}raise NotImplementedError("{name}")')
        position = last + 1
    out.extend(lines[position:])
    return "\n".join(out)


# ----------------------------------------------------------------------------- markdown cells
def strip_markdown(source: str, where: str = "cell") -> str:
    """Remove every <!-- BEGIN SOLUTION --> ... <!-- END SOLUTION --> region of a markdown cell."""
    depth = 0
    for match in re.finditer(re.escape(MD_BEGIN) + "|" + re.escape(MD_END), source):
        depth += 1 if match.group() == MD_BEGIN else -1
        if depth not in (0, 1):
            problem = "a nested '<!-- BEGIN SOLUTION -->'" if depth > 1 else "'<!-- END SOLUTION -->' without a BEGIN"
            raise MarkerError(f"{where}: {problem} at character {match.start()}")
    if depth != 0:
        raise MarkerError(f"{where}: '<!-- BEGIN SOLUTION -->' has no '<!-- END SOLUTION -->'")
    if MD_BEGIN not in source:
        return source
    stripped = MD_REGION.sub("", source)
    return re.sub(r"\n{3,}", "\n\n", stripped).strip("\n")


# ----------------------------------------------------------------------------- notebooks
def banner(solution_path: str) -> str:
    return (f"> **Generated file: do not edit by hand.** This notebook is generated from "
            f"`{solution_path}` by `make student`.\n"
            f"> Students: just work in this copy. Instructors: edit the solution notebook and run "
            f"`make student` to regenerate it.")


def make_student_notebook(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student version of a solution notebook; `name` is its file name (for messages and the banner)."""
    solution_path = f"solutions/{name}"
    student = copy.deepcopy(solution)
    cells = [nbformat.v4.new_markdown_cell(banner(solution_path), id=BANNER_ID)]
    for index, cell in enumerate(solution.cells):
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.get("id") == BANNER_ID:
            raise MarkerError(f"{name}: cell {index} uses the id {BANNER_ID!r}, which is reserved for the banner")
        cell = copy.deepcopy(cell)
        where = f"{name}, cell {index} (id {cell.get('id')!r})"
        if cell.cell_type == "code":
            cell.source = strip_code(cell.source, where)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = strip_markdown(cell.source, where)
        cell.metadata.pop("execution", None)
        cells.append(cell)
    student.cells = cells
    student.metadata.setdefault("rnn_course", {})["generated_from"] = solution_path
    nbformat.validate(student)
    return student


def render(nb: nbformat.NotebookNode) -> str:
    """Deterministic text of a notebook: nbformat's JSON (indent 1, sorted keys) with a trailing newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def solution_problems(solution: nbformat.NotebookNode, name: str) -> list[str]:
    """Reasons a solution notebook may not be committed as it is (today: outputs left in it)."""
    with_outputs = [str(cell.get("id", i)) for i, cell in enumerate(solution.cells)
                    if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    if with_outputs:
        return [f"solutions/{name} has outputs or execution counts in cells {', '.join(with_outputs)}: "
                "solution notebooks are committed without outputs (in Jupyter: Edit > Clear Outputs of All Cells, "
                "then save)"]
    return []


def expected_files(solutions_dir: Path) -> dict[str, str]:
    """{student file name: text it should contain} for every solution notebook."""
    files = {}
    for path in sorted(solutions_dir.glob("*.ipynb")):
        solution = nbformat.read(path, as_version=4)
        files[path.name] = render(make_student_notebook(solution, path.name))
    return files


def check(solutions_dir: Path, notebooks_dir: Path) -> list[str]:
    """Problems found: stale, missing or extra student notebooks, and solutions with outputs."""
    problems = []
    for path in sorted(solutions_dir.glob("*.ipynb")):
        problems += solution_problems(nbformat.read(path, as_version=4), path.name)
    expected = expected_files(solutions_dir)
    for name, text in expected.items():
        target = notebooks_dir / name
        if not target.exists():
            problems.append(f"{target} is missing: run `make student`")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"{target} differs from what the generator writes from solutions/{name}: "
                            "run `make student` (never edit student notebooks by hand)")
    for target in sorted(notebooks_dir.glob("*.ipynb")):
        if target.name not in expected:
            problems.append(f"{target} has no solution notebook solutions/{target.name}: remove it or add its source")
    return problems


def write(solutions_dir: Path, notebooks_dir: Path) -> list[Path]:
    """Write every student notebook whose text changed; return the paths written."""
    notebooks_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected_files(solutions_dir).items():
        target = notebooks_dir / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate student notebooks from solution notebooks.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a student notebook differs from what would be written")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions", help="folder of solution notebooks")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="folder of student notebooks")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check(args.solutions, args.notebooks)
            for problem in problems:
                print(f"make_student --check: {problem}", file=sys.stderr)
            if not problems:
                print(f"make_student --check: student notebooks in {args.notebooks} are up to date")
            return 1 if problems else 0
        for path in sorted(args.solutions.glob("*.ipynb")):
            for problem in solution_problems(nbformat.read(path, as_version=4), path.name):
                print(f"warning: {problem}", file=sys.stderr)
        written = write(args.solutions, args.notebooks)
        for path in written:
            print(f"wrote {path}")
        if not written:
            print(f"student notebooks in {args.notebooks} already up to date")
        return 0
    except MarkerError as error:
        print(f"make_student: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
