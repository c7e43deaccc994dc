"""Values exchanged between the grader and the submission's worker process.

Only plain data crosses the process boundary (arrays, numbers, strings, None, and lists,
tuples and dicts of those), never pickles: a submission must not be able to run code in
the grader by what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Handle:
    """An object that stays in the worker (for example a forward pass's cache); pass it back by handle."""

    id: int
    type_name: str = ""


@dataclass(frozen=True)
class RngSpec:
    """Asks the worker to build ``numpy.random.default_rng(seed)`` and pass it as the argument."""

    seed: int


@dataclass
class CallResult:
    """What came back from calling one submission function.

    ok: the call returned normally; value is then the decoded return value (Handles in place of kept objects).
    kind, when not ok: "exception" (error holds "ExcType: message"), "missing" (no such function),
    "timeout", "crash" (the worker died: os._exit, segfault, memory), "blocked-import"
    (it tried to import torch or another forbidden module), "bad-output" (not encodable).
    """

    ok: bool
    value: Any = None
    kind: str = ""
    error: str = ""
    stdout: str = ""
    seconds: float = 0.0
    details: dict = field(default_factory=dict)
