"""Use your own functions from an earlier assignment in a later one.

Later assignments build on earlier ones (truncated BPTT needs your RNN, embedding, affine and
softmax-loss code from assignment 1). Rather than pasting that code again, a notebook loads it from
your completed earlier notebook, found next to the current one:

    from rnn_helpers.assignments import use_functions_from
    use_functions_from("01_rnn_bptt.ipynb", globals())

Only code cells that are not tagged ``skip-grading`` run (the function definitions and their
imports; no training, no plots). When grading, the autograder loads the same notebook itself.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

SKIP_TAG = "skip-grading"


def graded_cells(path: str | Path) -> list[str]:
    """Source of the code cells of notebook `path` that define things (not tagged skip-grading), magics removed."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    sources = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or SKIP_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        lines = [line for line in src.splitlines() if not line.lstrip().startswith(("%", "!"))]
        sources.append("\n".join(lines))
    return sources


def use_functions_from(notebook: str, namespace: dict | None = None, *, folder: str | Path | None = None) -> dict:
    """Run the definition cells of an earlier notebook and copy its functions into `namespace`.

    notebook: file name such as "01_rnn_bptt.ipynb", looked up in `folder` (default: the current
    directory, which is the notebook's own folder in Jupyter). Returns the dict of functions loaded.
    A function still raising NotImplementedError there will raise it here too, when called.
    """
    path = Path(folder or Path.cwd()) / notebook
    if not path.exists():
        raise FileNotFoundError(
            f"{notebook} was not found in {path.parent}. This notebook uses your functions from that earlier "
            "assignment: keep both notebooks in the same folder (or pass folder=...)."
        )
    module_ns: dict = {"__name__": f"assignment_{path.stem}"}
    for i, source in enumerate(graded_cells(path)):
        try:
            exec(compile(source, f"{notebook} (code cell {i + 1})", "exec"), module_ns)
        except Exception as exc:  # report which earlier cell broke, keep the original error
            raise RuntimeError(f"running {notebook}, code cell {i + 1}, failed: {type(exc).__name__}: {exc}") from exc
    functions = {k: v for k, v in module_ns.items()
                 if isinstance(v, types.FunctionType) and not k.startswith("_")}
    if namespace is not None:
        namespace.update(functions)
    return functions
