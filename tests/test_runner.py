"""The sandboxed runner: submission code runs in its own limited process and only plain data comes back."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.protocol import Handle, RngSpec
from autograder.runner import GRADER_DIR, Submission, load_cells

TAMPERING = Path(__file__).parent / "tampering"

TINY = '''
import os
import sys
import numpy as np

print("hello from the top level")

def double(x):
    x *= 2          # changes the worker's copy only
    return x

def pair(x):
    return x + 1, {"x": x, "note": [1, 2.5, None, "s"]}

def echo(*args):
    return args

def forever():
    while True:
        pass

def uses_torch():
    import torch
    return torch.zeros(1)

def returns_list():
    return [1, 2, 3]

def returns_object():
    return object()

def dies():
    os._exit(0)

def exits():
    sys.exit(0)

def allocate_50gb():
    return np.ones((50_000, 125_000))

def print_50mb():
    print("x" * 50_000_000)
    os.write(1, b"y" * 5_000_000)
    return 1

def patch_numpy():
    np.allclose = lambda *a, **k: True
    return np.allclose(np.zeros(2), np.ones(2))

def draw(rng):
    return rng.integers(0, 100, 5)

def read_cache(cache):
    return cache["x"] * 10

def write_file(path):
    with open(path, "w") as f:
        f.write("changed")

def read_file(path):
    with open(path) as f:
        return f.read()

def kill_parent():
    import signal
    os.kill(os.getppid(), signal.SIGKILL)

def run_shell():
    return os.system("echo hi")

def import_grader():
    import autograder

def import_torch_past_the_blocker():
    sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, "__name__", "") != "Blocker"]
    import torch
'''


@pytest.fixture(scope="module")
def sub(tmp_path_factory):
    path = tmp_path_factory.mktemp("runner") / "tiny.py"
    path.write_text(TINY)
    with Submission(path, call_timeout=1.5, cell_timeout=2) as s:
        yield s


def test_plain_call_returns_a_copy_and_leaves_the_graders_array_alone(sub):
    x = np.arange(3.0)
    res = sub.call("double", x)
    assert res.ok, res.error
    np.testing.assert_array_equal(res.value, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])  # the submission changed only its own copy
    assert sub.cell_errors == [] and "hello from the top level" in sub.cell_output[1]


def test_plain_data_round_trips_with_dtypes_and_numpy_scalars(sub):
    args = (np.arange(6, dtype=np.int32).reshape(2, 3), np.float64(1.5), 3, 2.5, float("nan"), None, "s",
            [1, (2, 3)], {"k": np.ones(2, dtype=bool)}, np.zeros((0, 4)))
    res = sub.call("echo", *args)
    assert res.ok, res.error
    out = res.value
    assert out[0].dtype == np.int32 and out[0].shape == (2, 3)
    assert isinstance(out[1], np.float64) and out[1] == 1.5
    assert out[2:4] == (3, 2.5) and np.isnan(out[4]) and out[5] is None and out[6] == "s"
    assert out[7] == [1, (2, 3)] and out[8]["k"].dtype == bool and out[9].shape == (0, 4)


def test_kept_and_unencodable_values_stay_in_the_worker_as_handles(sub):
    res = sub.call("pair", np.float64(2.0), keep=(1,))
    assert res.ok and isinstance(res.value[1], Handle) and res.value[1].type_name == "dict"
    again = sub.call("read_cache", res.value[1])
    assert again.ok and again.value == 20.0
    obj = sub.call("returns_object")
    assert obj.ok and isinstance(obj.value, Handle) and obj.value.type_name == "object"


def test_a_python_list_comes_back_as_a_list(sub):
    res = sub.call("returns_list")
    assert res.ok and res.value == [1, 2, 3]


def test_rng_spec_builds_the_same_generator_in_the_worker(sub):
    res = sub.call("draw", RngSpec(7))
    np.testing.assert_array_equal(res.value, np.random.default_rng(7).integers(0, 100, 5))


def test_missing_function_is_reported_as_missing(sub):
    res = sub.call("rnn_forward")
    assert not res.ok and res.kind == "missing" and "rnn_forward is not defined" in res.error


def test_infinite_loop_times_out_and_the_next_call_still_works(sub):
    t0 = time.perf_counter()
    res = sub.call("forever")
    assert res.kind == "timeout" and "1.5 s" in res.error
    assert time.perf_counter() - t0 < 4
    assert sub.call("double", np.ones(1)).ok


def test_torch_and_the_grader_cannot_be_imported(sub):
    res = sub.call("uses_torch")
    assert res.kind == "blocked-import"
    assert "torch cannot be imported in a NumPy assignment" in res.error
    res = sub.call("import_grader")
    assert res.kind == "blocked-import" and "autograder cannot be imported" in res.error
    res = sub.call("import_torch_past_the_blocker")  # the audit hook still refuses it
    assert res.kind == "blocked-import" and "torch cannot be imported" in res.error


def test_os_exit_in_a_call_is_a_crash_then_a_fresh_worker_answers(sub):
    cache = sub.call("pair", np.float64(1.0), keep=(1,)).value[1]
    res = sub.call("dies")
    assert res.kind == "crash" and "os._exit" in res.error
    assert sub.call("double", np.ones(2)).ok  # restarted transparently
    stale = sub.call("read_cache", cache)
    assert stale.kind == "crash" and "forward pass must be called again" in stale.error


def test_sys_exit_in_a_call_is_an_error_not_an_exit(sub):
    res = sub.call("exits")
    assert res.kind == "exception" and "called sys.exit(0)" in res.error
    assert sub.call("double", np.ones(1)).ok


def test_allocating_50_gb_is_a_memory_error(sub):
    res = sub.call("allocate_50gb")
    assert res.kind == "exception" and "MemoryError" in res.error
    assert sub.call("double", np.ones(1)).ok


def test_printing_50_mb_is_capped_and_fast(sub):
    t0 = time.perf_counter()
    res = sub.call("print_50mb")
    assert res.ok and res.value == 1
    assert len(res.stdout) < 70_000 and "output truncated" in res.stdout
    assert time.perf_counter() - t0 < 3
    assert len(sub.output.encode()) <= 65536


def test_monkeypatching_numpy_changes_only_the_workers_numpy(sub):
    assert sub.call("patch_numpy").value is True
    assert not np.allclose(np.zeros(2), np.ones(2))


def test_files_outside_the_workers_folder_cannot_be_written_or_the_grader_read(sub, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("original")
    res = sub.call("write_file", str(canary))
    assert res.kind == "exception" and "PermissionError" in res.error
    assert canary.read_text() == "original"
    res = sub.call("read_file", str(GRADER_DIR / "grade.py"))
    assert res.kind == "exception" and "may not read the grader" in res.error
    assert sub.call("write_file", "scratch.txt").ok  # its own working folder is fine


def test_the_worker_cannot_kill_the_grader_or_run_commands(sub):
    assert "PermissionError" in sub.call("kill_parent").error
    assert "PermissionError" in sub.call("run_shell").error


def test_notebook_cells_tagged_skip_grading_and_magics_are_left_out(tmp_path):
    nb = {
        "metadata": {"rnn_course": {"assignment": "rnn_bptt"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# title"},
            {"cell_type": "code", "metadata": {}, "source": ["%matplotlib inline\n", "import numpy as np\n",
                                                             "!pip install torch\n", "def f(x):\n", "    return x + 1\n"]},
            {"cell_type": "code", "metadata": {"tags": ["skip-grading"]}, "source": "while True: pass"},
            {"cell_type": "code", "metadata": {}, "source": "import torch\ndef g(x):\n    return torch.ones(1)"},
        ],
    }
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    cells, meta = load_cells(path)
    assert [c.index for c in cells] == [2, 4] and meta["rnn_course"]["assignment"] == "rnn_bptt"
    with Submission(path, cell_timeout=2) as s:
        assert s.call("f", 1).value == 2
        assert len(s.cell_errors) == 1 and s.cell_errors[0].startswith("cell 4")
        assert "torch cannot be imported" in s.cell_errors[0]
        res = s.call("g", 1)  # defined after the failed import: scores zero with the import's message
        assert res.kind == "blocked-import" and "torch cannot be imported" in res.error


def test_invalid_json_is_a_load_error(tmp_path):
    with Submission(TAMPERING / "bad_json.ipynb") as s:
        assert "not valid JSON" in s.load_error
        assert s.call("rnn_forward").kind == "crash"


@pytest.mark.parametrize("source, message", [
    ("while True:\n    pass\n", "took longer than 1 s"),
    ("import os\nos._exit(0)\n", "worker process died"),
    ("import sys\nsys.exit(0)\n", "called sys.exit(0)"),
    ("import numpy as np\nbig = np.ones((50_000, 125_000))\n", "MemoryError"),
])
def test_a_bad_cell_is_reported_and_later_cells_still_run(tmp_path, source, message):
    path = tmp_path / "sub.py"
    nb = {"metadata": {}, "cells": [{"cell_type": "code", "metadata": {}, "source": source},
                                      {"cell_type": "code", "metadata": {}, "source": "def f():\n    return 5\n"}]}
    path = tmp_path / "sub.ipynb"
    path.write_text(json.dumps(nb))
    with Submission(path, cell_timeout=1) as s:
        assert len(s.cell_errors) == 1 and message in s.cell_errors[0], s.cell_errors
        assert s.call("f").value == 5


def test_the_worker_starts_fast(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("import numpy as np\ndef f(x):\n    return x\n")
    t0 = time.perf_counter()
    with Submission(path) as s:
        assert s.call("f", np.ones(3)).ok
    assert time.perf_counter() - t0 < 2.0
