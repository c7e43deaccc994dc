"""Registry of assignments: assignment id -> spec module (with ASSIGNMENT, TITLE and GROUPS).

Every module in this package that defines ASSIGNMENT is a spec; adding an assignment means adding
one spec module here and its references, nothing else in the grader.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from types import ModuleType

_NOT_SPECS = {"common"}


@lru_cache(maxsize=1)
def _specs() -> dict[str, str]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in _NOT_SPECS:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "ASSIGNMENT"):
            found[module.ASSIGNMENT] = module.__name__
    return found


def known_assignments() -> list[str]:
    return sorted(_specs())


def get_spec(assignment: str) -> ModuleType:
    """The spec module of `assignment`; KeyError with the known ids when there is none."""
    specs = _specs()
    if assignment not in specs:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(sorted(specs))}")
    return importlib.import_module(specs[assignment])
