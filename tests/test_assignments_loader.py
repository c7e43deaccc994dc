"""Later notebooks load the student's own earlier functions, never a second copy of a solution."""

import json

import pytest

from rnn_helpers.assignments import use_functions_from


def _notebook(tmp_path, cells):
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": tags}, "source": src, "outputs": [],
                     "execution_count": None} for src, tags in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "01_demo.ipynb").write_text(json.dumps(nb))


def test_loads_definitions_and_skips_training_cells(tmp_path):
    _notebook(tmp_path, [("import numpy as np\n%matplotlib inline", []),
                         ("def double(x):\n    return 2 * np.asarray(x)", []),
                         ("raise SystemExit('training cell must not run')", ["skip-grading"])])
    ns = {}
    loaded = use_functions_from("01_demo.ipynb", ns, folder=tmp_path)
    assert set(loaded) == {"double"} and ns["double"](3) == 6


def test_missing_notebook_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="same folder"):
        use_functions_from("01_missing.ipynb", folder=tmp_path)


def test_a_broken_cell_is_named(tmp_path):
    _notebook(tmp_path, [("def f(:\n  pass", [])])
    with pytest.raises(RuntimeError, match="code cell 1"):
        use_functions_from("01_demo.ipynb", folder=tmp_path)
