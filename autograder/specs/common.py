"""The machinery every spec shares: test groups, cases, and the forward / backward testers.

A spec is a list of `Group`s. A group is one graded function (or test group for `--only`) with one
or more outputs, each worth points: "rnn_backward" has outputs dx, dh0, dWx, dWh, db. A group's run
function calls the submission on a few cases and returns an `Outcome` per output; an output passes
only when it is right on every case, and its message comes from the first case where it is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .. import feedback
from ..checks import check_array, describe
from ..references import rnn as ref


@dataclass
class Outcome:
    ok: bool
    message: str = ""


@dataclass
class Group:
    name: str
    outputs: list[tuple[str, float]]  # (label, points)
    run: Callable[["Ctx"], dict[str, Outcome]]
    doc: str = ""
    needs: tuple[str, ...] = ()  # assignment ids of the spec's DEPENDS_ON this group cannot run without


@dataclass(frozen=True)
class Dependency:
    """An earlier assignment whose graded cells run before the submission's (a spec's DEPENDS_ON).

    assignment: its id ("rnn_bptt"); file: its notebook's usual name ("01_rnn_bptt.ipynb"), looked
    for next to the submission; label: how feedback names it ("assignment-1").
    """

    assignment: str
    file: str
    label: str


@dataclass
class Case:
    """One set of inputs. decoy: other inputs of the same shapes (the shared-cache check);
    dout: the upstream gradient for a backward test."""

    label: str
    inputs: tuple
    decoy: tuple = ()
    dout: Any = None
    extra: dict = field(default_factory=dict)


@dataclass
class Ctx:
    sub: Any  # a runner.Submission (or a stand-in with the same .call)
    rng: np.random.Generator  # the grader's generator: all inputs are drawn from it
    cell_errors: Sequence[str] = ()

    def call(self, name: str, *args, keep=()) -> tuple[Any, str]:
        """(value, "") when the call returned normally, else (None, a message for the student)."""
        result = self.sub.call(name, *args, keep=keep)
        if result.ok:
            return result.value, ""
        return None, feedback.call_failure(name, result, self.cell_errors)

    def call_inplace(self, name: str, *args) -> tuple[Any, list | None, str]:
        """(value, the arguments as the call left them, "") or (None, None, message): for functions
        that update their arguments in place."""
        result = self.sub.call(name, *args, return_args=True)
        if result.ok:
            return result.value, result.details.get("args"), ""
        return None, None, feedback.call_failure(name, result, self.cell_errors)


def unpack(value, n: int, fname: str, names: Sequence[str]) -> tuple[tuple | None, str]:
    """Split a returned tuple into n parts; n == 1 means a single value."""
    if n == 1:
        return (value,), ""
    if isinstance(value, (tuple, list)) and len(value) == n:
        return tuple(value), ""
    return None, f"{fname} should return a tuple ({', '.join(names)}), got {describe(value)}"


def first_failure(outcomes: dict[str, Outcome], label: str, message: str) -> None:
    """Record a failure for `label` unless an earlier case already failed it."""
    if outcomes[label].ok:
        outcomes[label] = Outcome(False, message)


def run_forward_test(ctx: Ctx, fname: str, ref_fn: Callable, cases: Sequence[Case], out_name: str,
                 dims: str, *, time_axis: bool = False, signatures: Callable | None = None) -> dict[str, Outcome]:
    """A forward returning (out, cache): out compared with ref_fn(*inputs) on every case."""
    outcomes = {out_name: Outcome(True)}
    for case in cases:
        value, msg = ctx.call(fname, *case.inputs, keep=(1,))
        if not msg:
            parts, msg = unpack(value, 2, fname, (out_name, "cache"))
        if msg:
            return {out_name: Outcome(False, f"[{case.label}] {msg}")}
        expected = ref.forward(ref_fn, *case.inputs)
        chk = check_array(parts[0], expected, out_name, dims=dims)
        if not chk.ok:
            lines = [f"[{case.label}] {chk.message}"]
            if time_axis and chk.comparable:
                lines.append(feedback.forward_steps_note(out_name, parts[0], expected))
            if signatures is not None and chk.comparable:
                lines.append(feedback.match_hint(parts[0], signatures(case)))
            first_failure(outcomes, out_name, " ".join(x for x in lines if x))
    return outcomes


@dataclass
class Backward:
    """How to test one backward function against autograd through its forward."""

    fwd: str  # the submission's forward, e.g. "rnn_forward"
    bwd: str  # its backward, e.g. "rnn_backward"
    ref_fn: Callable  # torch forward taking the forward's inputs
    out_name: str  # the forward's output, e.g. "h"
    wrt: Sequence[int]  # positions of the forward inputs the backward returns gradients for, in order
    grads: Sequence[str]  # names of the returned gradients, e.g. ("dx", "dh0", "dWx", "dWh", "db")
    dims: Sequence[str]  # their shapes in letters, for messages
    time_axis: frozenset = frozenset()  # gradients with a time axis (axis 1), localised per step
    signatures: Callable | None = None  # (case, grad index, refs) -> [(hint, array)]


def run_backward_test(ctx: Ctx, spec: Backward, cases: Sequence[Case]) -> dict[str, Outcome]:
    """Call the submission's forward (keeping its cache), its forward again on other inputs (a cache
    shared between calls shows up here), then its backward on the FIRST cache; compare every gradient
    with autograd's."""
    outcomes = {g: Outcome(True) for g in spec.grads}
    for case in cases:
        value, msg = ctx.call(spec.fwd, *case.inputs, keep=(1,))
        if not msg:
            parts, msg = unpack(value, 2, spec.fwd, (spec.out_name, "cache"))
        if msg:
            # Without a cache the backward cannot be tested; still say if it is merely a stub.
            _, bmsg = ctx.call(spec.bwd, case.dout, None)
            if bmsg.startswith("NotImplementedError"):
                msg = f"{bmsg} (and {spec.fwd}, which it needs, failed too: {msg})"
            else:
                msg = f"{spec.bwd} needs your {spec.fwd}, which failed: {msg}"
            return {g: Outcome(False, f"[{case.label}] {msg}") for g in spec.grads}
        out, cache = parts
        if case.decoy:
            ctx.call(spec.fwd, *case.decoy, keep=(1,))
        expected_out, refs = ref.vjp(spec.ref_fn, case.inputs, case.dout, spec.wrt)
        fwd_chk = check_array(out, expected_out, spec.out_name)
        value, msg = ctx.call(spec.bwd, case.dout, cache)
        if not msg:
            got, msg = unpack(value, len(spec.grads), spec.bwd, spec.grads)
        if msg:  # an exception, timeout or crash would only repeat on the next case
            for g in spec.grads:
                first_failure(outcomes, g, f"[{case.label}] {msg}")
            break
        for i, g in enumerate(spec.grads):
            chk = check_array(got[i], refs[i], g, dims=spec.dims[i])
            if chk.ok or not outcomes[g].ok:
                continue
            lines = [f"[{case.label}] {chk.message}"]
            if g in spec.time_axis and chk.comparable:
                lines.append(feedback.backward_steps_note(g, got[i], refs[i]))
            if not fwd_chk.ok:
                lines.append(feedback.forward_note(spec.fwd, fwd_chk.err, "" if fwd_chk.comparable else fwd_chk.message))
            if chk.comparable:
                sigs = []
                if case.decoy:
                    _, stale = ref.vjp(spec.ref_fn, case.decoy, case.dout, spec.wrt)
                    sigs.append((feedback.STALE_CACHE_HINT, stale[i]))
                if spec.signatures is not None:
                    sigs.extend(spec.signatures(case, i, refs))
                lines.append(feedback.match_hint(got[i], sigs))
            first_failure(outcomes, g, " ".join(x for x in lines if x))
    return outcomes


# Grader code that PyTorch specs run inside the worker, after the submission's cells (a submitted
# class cannot cross the process boundary, so a HARNESS builds and calls it there and returns plain
# arrays). These two helpers turn a submission's exception into the feedback every harness gives.
HARNESS_HELPERS = r'''
def _grader_where(exc):
    """The innermost line of the submission's own cells in a traceback: ' (cell 7, line 12)'."""
    tb, found = exc.__traceback__, ""
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        if fname.startswith("<cell ") and not fname.startswith("<cell grader"):
            found = f"{fname[1:-1]}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return f" ({found})" if found else ""


def _grader_failed(what, exc):
    if isinstance(exc, NotImplementedError):
        return {"error": f"NotImplementedError: {what} is not implemented yet", "not_implemented": what}
    return {"error": f"{what} raised {type(exc).__name__}: {str(exc)[:1500]}{_grader_where(exc)}"}
'''
