"""Registry of assignments: assignment id -> spec module (with ASSIGNMENT, TITLE and GROUPS).

Adding an assignment means adding one spec module here and its references; nothing else in the grader.
"""

from __future__ import annotations

import importlib
from types import ModuleType

SPECS = {
    "rnn_bptt": "autograder.specs.rnn_bptt",
}


def get_spec(assignment: str) -> ModuleType:
    """The spec module of `assignment`; KeyError with the known ids when there is none."""
    if assignment not in SPECS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(sorted(SPECS))}")
    return importlib.import_module(SPECS[assignment])
