"""The student notebooks are generated from the solutions, stay in sync, and stub every graded function."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "tools" / "make_student.py"
SOLUTION = ROOT / "solutions" / "01_rnn_bptt.ipynb"
STUDENT = ROOT / "notebooks" / "01_rnn_bptt.ipynb"
GRADED = [
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward",
    "temporal_affine_forward", "temporal_affine_backward",
    "temporal_softmax_loss", "sample_chars",
]


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_student", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_student = _load_generator()


def run_generator(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GENERATOR), *args], capture_output=True, text=True, cwd=ROOT)


def graded_namespace(nb) -> dict:
    """Execute the cells the autograder would (code cells not tagged skip-grading), in order."""
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "skip-grading" not in cell.metadata.get("tags", []):
            exec(compile(cell.source, f"<cell {cell.id}>", "exec"), namespace)
    return namespace


def solution_region_lines(nb) -> list[str]:
    """Stripped lines inside solution regions (code and markdown) of a notebook."""
    found, inside = [], False
    for cell in nb.cells:
        for line in cell.source.split("\n"):
            marker = line.strip()
            if marker in ("### BEGIN SOLUTION", "<!-- BEGIN SOLUTION -->"):
                inside = True
            elif marker in ("### END SOLUTION", "<!-- END SOLUTION -->"):
                inside = False
            elif inside and marker:
                found.append(marker)
    return found


@pytest.fixture(scope="module")
def solution():
    return nbformat.read(SOLUTION, as_version=4)


@pytest.fixture(scope="module")
def student():
    return nbformat.read(STUDENT, as_version=4)


# ----------------------------------------------------------------------------- in sync with the solutions
def test_committed_student_notebooks_match_the_generator():
    result = run_generator("--check")
    assert result.returncode == 0, result.stderr


def copy_tree(tmp_path: Path) -> tuple[Path, Path]:
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    shutil.copytree(ROOT / "solutions", solutions)
    shutil.copytree(ROOT / "notebooks", notebooks)
    return solutions, notebooks


def test_check_fails_on_a_hand_edited_student_notebook(tmp_path):
    solutions, notebooks = copy_tree(tmp_path)
    nb = nbformat.read(notebooks / STUDENT.name, as_version=4)
    nb.cells[3].source += "\n# a hand edit"
    nbformat.write(nb, notebooks / STUDENT.name)
    result = run_generator("--check", "--solutions", str(solutions), "--notebooks", str(notebooks))
    assert result.returncode == 1
    assert STUDENT.name in result.stderr and "differs" in result.stderr


def test_check_fails_on_missing_and_extra_student_notebooks(tmp_path):
    solutions, notebooks = copy_tree(tmp_path)
    (notebooks / STUDENT.name).rename(notebooks / "99_orphan.ipynb")
    result = run_generator("--check", "--solutions", str(solutions), "--notebooks", str(notebooks))
    assert result.returncode == 1
    assert "missing" in result.stderr and "99_orphan.ipynb has no solution notebook" in result.stderr


def test_check_fails_when_a_solution_has_outputs(tmp_path):
    solutions, notebooks = copy_tree(tmp_path)
    nb = nbformat.read(solutions / SOLUTION.name, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    nbformat.write(nb, solutions / SOLUTION.name)
    result = run_generator("--check", "--solutions", str(solutions), "--notebooks", str(notebooks))
    assert result.returncode == 1 and "committed without outputs" in result.stderr


def test_generator_is_deterministic(tmp_path):
    solutions, notebooks = copy_tree(tmp_path)
    shutil.rmtree(notebooks)
    for _ in range(2):
        assert run_generator("--solutions", str(solutions), "--notebooks", str(notebooks)).returncode == 0
        assert (notebooks / STUDENT.name).read_bytes() == STUDENT.read_bytes()


def test_no_solution_notebook_has_outputs():
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert make_student.solution_problems(nb, path.name) == []


# ----------------------------------------------------------------------------- the student notebook itself
def test_student_notebook_has_banner_ids_and_no_outputs(solution, student):
    assert student.cells[0].id == make_student.BANNER_ID
    assert "generated from `solutions/01_rnn_bptt.ipynb` by `make student`" in student.cells[0].source
    assert [c.id for c in student.cells[1:]] == [c.id for c in solution.cells]  # same ids, same order
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id
    assert student.metadata["rnn_course"] == {"assignment": "rnn_bptt",
                                              "generated_from": "solutions/01_rnn_bptt.ipynb"}


def test_student_notebook_contains_no_solution_line(solution, student):
    text = "\n".join(cell.source for cell in student.cells)
    for distinctive in ['np.add.at(dW, cache["x"], dout)', "reversed(range(T))", "1.0 - cache[\"next_h\"] ** 2",
                        "rng.choice(V, p=p / p.sum())", "**Answer.**"]:
        assert distinctive not in text, distinctive
    lines = solution_region_lines(solution)
    assert len(lines) > 40
    student_lines = {line.strip() for line in text.split("\n")}
    leaked = [line for line in lines if len(line) > 20 and line in student_lines]
    assert leaked == []
    assert "### BEGIN SOLUTION" not in text and "<!-- BEGIN SOLUTION -->" not in text


def _small_inputs(solution_ns: dict) -> dict:
    """Valid arguments for every graded function; caches come from the solution's forwards."""
    rng = np.random.default_rng(0)
    N, T, D, H, V = 2, 3, 4, 5, 6
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    idx, W = rng.integers(0, V, size=(N, T)), rng.standard_normal((V, D))
    hs, w, bv = rng.standard_normal((N, T, H)), rng.standard_normal((H, V)), rng.standard_normal(V)
    params = {"W_embed": W, "Wx": Wx, "Wh": Wh, "b": b, "W_out": w, "b_out": bv}
    return {
        "rnn_step_forward": (x[:, 0], h0, Wx, Wh, b),
        "rnn_step_backward": (h0, solution_ns["rnn_step_forward"](x[:, 0], h0, Wx, Wh, b)[1]),
        "rnn_forward": (x, h0, Wx, Wh, b),
        "rnn_backward": (hs, solution_ns["rnn_forward"](x, h0, Wx, Wh, b)[1]),
        "word_embedding_forward": (idx, W),
        "word_embedding_backward": (x, solution_ns["word_embedding_forward"](idx, W)[1]),
        "temporal_affine_forward": (hs, w, bv),
        "temporal_affine_backward": (rng.standard_normal((N, T, V)), solution_ns["temporal_affine_forward"](hs, w, bv)[1]),
        "temporal_softmax_loss": (rng.standard_normal((N, T, V)), idx, np.ones((N, T), dtype=bool)),
        "sample_chars": (params, np.zeros(H), 0, 5, 1.0, np.random.default_rng(0)),
    }


def test_every_graded_stub_raises_not_implemented_with_its_name(solution, student):
    solution_ns, student_ns = graded_namespace(solution), graded_namespace(student)
    inputs = _small_inputs(solution_ns)
    for name in GRADED:
        solution_ns[name](*inputs[name])  # the inputs are valid: the solution accepts them
        with pytest.raises(NotImplementedError) as info:
            student_ns[name](*inputs[name])
        assert str(info.value) == name


def test_each_graded_function_has_its_own_cell(student):
    for name in GRADED:
        cells = [c for c in student.cells if c.cell_type == "code" and f"def {name}(" in c.source]
        assert len(cells) == 1, name
        assert "skip-grading" not in cells[0].metadata.get("tags", [])
        assert "torch" not in cells[0].source


# ----------------------------------------------------------------------------- marker parsing
NESTED = '''def outer(x):
    """Doc."""
    def inner(y):
        ### BEGIN SOLUTION
        return y + 1
        ### END SOLUTION
    ### BEGIN SOLUTION
    z = inner(x)
    # a trailing comment inside the region
    ### END SOLUTION
    return z
'''


def test_regions_become_stubs_named_after_the_innermost_def():
    out = make_student.strip_code(NESTED)
    assert out == '''def outer(x):
    """Doc."""
    def inner(y):
        # YOUR CODE HERE
        raise NotImplementedError("inner")
    # YOUR CODE HERE
    raise NotImplementedError("outer")
    return z
'''


def test_a_cell_that_does_not_parse_falls_back_to_indentation():
    source = "%matplotlib inline\ndef f():\n    ### BEGIN SOLUTION\n    # nothing but a comment\n    ### END SOLUTION\n"
    assert make_student.strip_code(source).endswith('    raise NotImplementedError("f")\n')


def test_region_outside_any_def_names_the_cell():
    source = "class Model:\n    pass\n### BEGIN SOLUTION\nmodel = Model()\n### END SOLUTION\n"
    assert 'raise NotImplementedError("Model")' in make_student.strip_code(source)
    assert 'NotImplementedError("this cell")' in make_student.strip_code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")


@pytest.mark.parametrize("source, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "has no '### END SOLUTION'"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", "without a '### BEGIN SOLUTION'"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", "inside the one opened"),
    ("def f():\n    ### BEGIN SOLUTION: typo\n    return 1\n", "not exactly"),
])
def test_unbalanced_code_markers_raise_a_clear_error(source, message):
    with pytest.raises(make_student.MarkerError, match=message) as info:
        make_student.strip_code(source, "demo.ipynb, cell 3 (id 'x')")
    assert "demo.ipynb, cell 3" in str(info.value)


def test_markdown_regions_are_removed_and_checked():
    source = "Question?\n\n<!-- BEGIN SOLUTION -->\n**Answer.** 42\n<!-- END SOLUTION -->\n\nNext."
    assert make_student.strip_markdown(source) == "Question?\n\nNext."
    with pytest.raises(make_student.MarkerError, match="has no"):
        make_student.strip_markdown("<!-- BEGIN SOLUTION -->\nsecret", "demo")


def test_notebook_level_transformations():
    nb = nbformat.v4.new_notebook(metadata={"rnn_course": {"assignment": "demo"}})
    nb.cells = [
        nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", id="f-cell"),
        nbformat.v4.new_code_cell("secret = 1", id="only", metadata={"tags": ["solution-only"]}),
    ]
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x")]
    nb.cells[0].execution_count = 3
    out = make_student.make_student_notebook(nb, "demo.ipynb")
    assert [c.id for c in out.cells] == ["generated-banner", "f-cell"]
    assert out.cells[1].outputs == [] and out.cells[1].execution_count is None
    assert out.metadata["rnn_course"] == {"assignment": "demo", "generated_from": "solutions/demo.ipynb"}
    assert make_student.render(out) == make_student.render(make_student.make_student_notebook(nb, "demo.ipynb"))
    nb.cells[0].source = "def f():\n    ### BEGIN SOLUTION\n    return 1"
    with pytest.raises(make_student.MarkerError, match="demo.ipynb, cell 0 \\(id 'f-cell'\\)"):
        make_student.make_student_notebook(nb, "demo.ipynb")
