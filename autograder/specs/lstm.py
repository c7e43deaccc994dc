"""Assignment `lstm`: an LSTM in NumPy (gate order i, f, o, g), its backward pass, and nn.LSTM's layout.

Five graded functions, 100 points. Inputs are drawn from the grader's seed; each function sees a
general case (N > 1, T > 1, H != D), N = T = 1, and N = 1 with D = H. Wrong gate-weight gradients
are localised to the gate block (columns of the 4H axis) that is wrong, and known mistakes earn hints.
This module also holds the testers the GRU spec shares (`run_gated_forward`, `run_gated_backward`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .. import feedback
from ..checks import TOL, check_array, describe, rel_error
from ..references import gated as ref
from ..references import gated_mistakes as mk
from .common import Case, Ctx, Group, Outcome, first_failure, unpack

ASSIGNMENT = "lstm"
TITLE = "Assignment 3: an LSTM from scratch"
NOTEBOOK = "03_lstm.ipynb"  # the student notebook's file name (bundles and messages use it)


# ---------------------------------------------------------------- shapes and inputs

def gated_shapes(rng):
    """(N, T, D, H) for the general case, N = T = 1, and N = 1 with D = H."""
    D = int(rng.integers(2, 6))
    H = int(rng.choice([h for h in range(2, 6) if h != D]))
    D1 = int(rng.integers(2, 5))
    H1 = int(rng.choice([h for h in range(2, 5) if h != D1]))
    S = int(rng.integers(2, 5))
    return [(int(rng.integers(2, 5)), int(rng.integers(3, 6)), D, H), (1, 1, D1, H1),
            (1, int(rng.integers(2, 5)), S, S)]


def label(**dims) -> str:
    return ", ".join(f"{k}={v}" for k, v in dims.items())


def gated_cases(rng, n_gates: int, step: bool, with_cell: bool = False):
    """Cases for a gated cell: inputs (x, prev_h[, prev_c], Wx, Wh, b); dout a tuple of upstream gradients."""
    cases = []
    for N, T, D, H in gated_shapes(rng):
        def draw():
            x = rng.standard_normal((N, D) if step else (N, T, D))
            state = (rng.standard_normal((N, H)) * 0.5,) + ((rng.standard_normal((N, H)),) if with_cell else ())
            return (x, *state, rng.standard_normal((D, n_gates * H)) * 0.5,
                    rng.standard_normal((H, n_gates * H)) * 0.4, rng.standard_normal(n_gates * H) * 0.3)
        inputs, decoy = draw(), draw()
        douts = tuple(rng.standard_normal((N, H) if step else (N, T, H)) for _ in range(2 if with_cell else 1))
        lab = label(N=N, D=D, H=H) if step else label(N=N, T=T, D=D, H=H)
        cases.append(Case(lab, inputs, decoy, douts))
    return cases


# ---------------------------------------------------------------- localising a wrong gradient to a gate

def _span(k: int) -> str:
    lo = "0" if k == 0 else ("H" if k == 1 else f"{k}H")
    hi = "H" if k + 1 == 1 else f"{k + 1}H"
    return f"{lo}:{hi}"


def gate_note(name: str, value: np.ndarray, expected: np.ndarray, gates: Sequence[str]) -> str:
    """For a gradient whose last axis stacks the gates (dWx, dWh, db): which gate blocks are wrong."""
    n = len(gates)
    if expected.shape[-1] % n:
        return ""
    H = expected.shape[-1] // n
    wrong = [k for k in range(n) if rel_error(value[..., k * H:(k + 1) * H], expected[..., k * H:(k + 1) * H]) > TOL]
    if not wrong or len(wrong) == n:
        return f"{name} is wrong in every gate block." if wrong else ""
    what = "columns" if expected.ndim == 2 else "entries"
    names = " and ".join(f"the {gates[k]}-gate block ({what} {_span(k)})" for k in wrong)
    return f"{name} is wrong in {names} only; the other gate blocks are right."


# ---------------------------------------------------------------- the shared testers

def run_gated_forward(ctx: Ctx, fname: str, ref_fn: Callable, cases: Sequence[Case], out_names: Sequence[str],
                      dims: Sequence[str], *, time_axis: bool = False,
                      signatures: Callable | None = None) -> dict[str, Outcome]:
    """A forward returning (*outs, cache): each out compared with ref_fn(*inputs) on every case.
    signatures(case) -> [(hint, tuple of outputs of the buggy model)]."""
    outcomes = {o: Outcome(True) for o in out_names}
    n = len(out_names)
    for case in cases:
        value, msg = ctx.call(fname, *case.inputs, keep=(n,))
        if not msg:
            parts, msg = unpack(value, n + 1, fname, (*out_names, "cache"))
        if msg:
            return {o: Outcome(False, f"[{case.label}] {msg}") for o in out_names}
        expected = ref.forward_multi(ref_fn, *case.inputs)
        sigs = None
        for k, o in enumerate(out_names):
            chk = check_array(parts[k], expected[k], o, dims=dims[k])
            if chk.ok or not outcomes[o].ok:
                continue
            lines = [f"[{case.label}] {chk.message}"]
            if time_axis and chk.comparable:
                lines.append(feedback.forward_steps_note(o, parts[k], expected[k]))
            if signatures is not None and chk.comparable:
                sigs = signatures(case) if sigs is None else sigs
                lines.append(feedback.match_hint(parts[k], [(h, outs[k]) for h, outs in sigs]))
            first_failure(outcomes, o, " ".join(x for x in lines if x))
    return outcomes


@dataclass
class GatedBackward:
    """How to test one backward of a gated cell against autograd through its forward."""

    fwd: str
    bwd: str
    ref_fn: Callable  # torch forward taking the forward's inputs; one output or a tuple
    out_names: Sequence[str]  # the forward's outputs before the cache, e.g. ("next_h", "next_c")
    grads: Sequence[str]  # the backward's return values, gradients of the forward's inputs in order
    dims: Sequence[str]
    gates: Sequence[str]  # gate names along the stacked axis of dWx, dWh, db
    time_axis: frozenset = frozenset()
    signatures: Callable | None = None  # (case) -> [(hint, tuple of gradients of the buggy model)]
    wrong_count_hints: dict = field(default_factory=dict)  # returned tuple length -> hint


GATE_GRADS = ("dWx", "dWh", "db")


def run_gated_backward(ctx: Ctx, spec: GatedBackward, cases: Sequence[Case]) -> dict[str, Outcome]:
    """Forward (keeping the cache), forward again on other inputs (a cache shared between calls shows
    up here), backward on the FIRST cache; every gradient compared with autograd's."""
    outcomes = {g: Outcome(True) for g in spec.grads}
    n_out, wrt = len(spec.out_names), tuple(range(len(spec.grads)))
    for case in cases:
        value, msg = ctx.call(spec.fwd, *case.inputs, keep=(n_out,))
        if not msg:
            parts, msg = unpack(value, n_out + 1, spec.fwd, (*spec.out_names, "cache"))
        if msg:
            _, bmsg = ctx.call(spec.bwd, *case.dout, None)
            if bmsg.startswith("NotImplementedError"):
                msg = f"{bmsg} (and {spec.fwd}, which it needs, failed too: {msg})"
            else:
                msg = f"{spec.bwd} needs your {spec.fwd}, which failed: {msg}"
            return {g: Outcome(False, f"[{case.label}] {msg}") for g in spec.grads}
        outs, cache = parts[:n_out], parts[n_out]
        if case.decoy:
            ctx.call(spec.fwd, *case.decoy, keep=(n_out,))
        expected_outs, refs = ref.vjp_multi(spec.ref_fn, case.inputs, case.dout, wrt)
        fwd_bad = [(o, check_array(v, e, o)) for o, v, e in zip(spec.out_names, outs, expected_outs)]
        fwd_bad = [(o, c) for o, c in fwd_bad if not c.ok]
        value, msg = ctx.call(spec.bwd, *case.dout, cache)
        if not msg:
            got, msg = unpack(value, len(spec.grads), spec.bwd, spec.grads)
            if msg and isinstance(value, (tuple, list)) and len(value) in spec.wrong_count_hints:
                msg += " Hint: " + spec.wrong_count_hints[len(value)]
        if msg:
            for g in spec.grads:
                first_failure(outcomes, g, f"[{case.label}] {msg}")
            break
        sigs = None
        for i, g in enumerate(spec.grads):
            chk = check_array(got[i], refs[i], g, dims=spec.dims[i])
            if chk.ok or not outcomes[g].ok:
                continue
            lines = [f"[{case.label}] {chk.message}"]
            if g in spec.time_axis and chk.comparable:
                lines.append(feedback.backward_steps_note(g, got[i], refs[i]))
            if g in GATE_GRADS and chk.comparable:
                lines.append(gate_note(g, got[i], refs[i], spec.gates))
            if fwd_bad:
                _, c = fwd_bad[0]
                lines.append(feedback.forward_note(spec.fwd, c.err, "" if c.comparable else c.message))
            if chk.comparable:
                _, stale = ref.vjp_multi(spec.ref_fn, case.decoy, case.dout, wrt)
                if sigs is None:
                    sigs = spec.signatures(case) if spec.signatures is not None else []
                candidates = [(feedback.STALE_CACHE_HINT, stale[i])] + [(h, gs[i]) for h, gs in sigs]
                lines.append(feedback.match_hint(got[i], candidates))
            first_failure(outcomes, g, " ".join(x for x in lines if x))
    return outcomes


# ---------------------------------------------------------------- LSTM mistakes

H_ORDER = ("the gate blocks are i, f, o, g (input, forget, output, candidate) along the 4H axis, as in "
           "the lectures; yours looks sliced as i, f, g, o (PyTorch's order).")
H_SIG_PRE = ("sigmoid'(a) = s * (1 - s) with s = sigmoid(a), the gate's VALUE; yours looks like a * (1 - a), "
             "taken from the pre-activation a.")
H_NO_TANH = ("the cell state reaches the loss through h_t = o * tanh(c_t) too: dc = dnext_c + dnext_h * o * "
             "(1 - tanh(c_t)^2); yours looks like it keeps only dnext_c.")
H_DROP_DC = ("the cell gradient dc must include what flows back from the next step (dnext_c, or dprev_c of "
             "step t+1 in lstm_backward); yours looks like it drops it.")
H_C0 = ("the cell starts from c0 = 0 (zeros of shape (N, H)); it is not an input and gets no gradient. "
        "Yours looks like it starts from {what}.")
H_C0_RETURNED = ("lstm_backward returns (dx, dh0, dWx, dWh, db): c0 is always zeros, not a parameter, "
                 "so there is no dc0 to return.")

STEP_BUGS = [(H_ORDER, dict(order="ifgo")), (H_SIG_PRE, dict(sig_deriv="pre")),
             (H_NO_TANH, dict(no_tanh_path=True)), (H_DROP_DC, dict(drop_dc=True))]
SEQ_BUGS = STEP_BUGS + [(H_C0.format(what="h0"), dict(c0="h0")), (H_C0.format(what="ones"), dict(c0="ones"))]


def step_signatures(case):
    return [(h, mk.lstm_step_variant(*case.inputs, *case.dout, **kw)[1]) for h, kw in STEP_BUGS]


def step_forward_signatures(case):
    return [(H_ORDER, mk.lstm_step_variant(*case.inputs, *case.dout, order="ifgo")[0])]


def seq_signatures(case):
    return [(h, mk.lstm_variant(*case.inputs, *case.dout, **kw)[1]) for h, kw in SEQ_BUGS]


def seq_forward_signatures(case):
    return [(h, (mk.lstm_variant(*case.inputs, *case.dout, **kw)[0],)) for h, kw in SEQ_BUGS
            if "order" in kw or "c0" in kw]


LSTM_STEP_BACKWARD = GatedBackward(
    "lstm_step_forward", "lstm_step_backward", ref.lstm_step, ("next_h", "next_c"),
    ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
    ("(N, D)", "(N, H)", "(N, H)", "(D, 4H)", "(H, 4H)", "(4H,)"), ref.LSTM_GATES, signatures=step_signatures)
LSTM_BACKWARD = GatedBackward(
    "lstm_forward", "lstm_backward", ref.lstm, ("h",), ("dx", "dh0", "dWx", "dWh", "db"),
    ("(N, T, D)", "(N, H)", "(D, 4H)", "(H, 4H)", "(4H,)"), ref.LSTM_GATES, time_axis=frozenset({"dx"}),
    signatures=seq_signatures, wrong_count_hints={6: H_C0_RETURNED})


# ---------------------------------------------------------------- lstm_params_to_torch

TORCH_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
H_TORCH_ORDER = ("nn.LSTM's gate order is i, f, g, o: swap the o and g blocks, P = np.r_[0:2*H, 3*H:4*H, "
                 "2*H:3*H], then weight_ih_l0 = Wx[:, P].T (see book/notation.md).")
H_TORCH_BIAS = ("nn.LSTM ADDS bias_ih_l0 and bias_hh_l0, so b must be split between them (e.g. all in "
                "bias_ih_l0 and zeros in bias_hh_l0); yours counts it twice.")


def run_params_to_torch(ctx: Ctx) -> dict[str, Outcome]:
    outcomes = {"nn.LSTM output": Outcome(True)}
    name = "lstm_params_to_torch"
    for N, T, D, H in gated_shapes(ctx.rng):
        x, h0 = ctx.rng.standard_normal((N, T, D)), ctx.rng.standard_normal((N, H)) * 0.5
        Wx, Wh = ctx.rng.standard_normal((D, 4 * H)) * 0.5, ctx.rng.standard_normal((H, 4 * H)) * 0.4
        b = ctx.rng.standard_normal(4 * H) * 0.3
        lab = f"[{label(N=N, T=T, D=D, H=H)}]"
        value, msg = ctx.call(name, Wx, Wh, b)
        if msg:
            return {"nn.LSTM output": Outcome(False, f"{lab} {msg}")}
        if not isinstance(value, dict) or set(value) != set(TORCH_KEYS):
            got = sorted(value) if isinstance(value, dict) else describe(value)
            return {"nn.LSTM output": Outcome(False, f"{lab} {name} should return a dict with keys "
                                                     f"{', '.join(TORCH_KEYS)}; got {got}")}
        shapes = {"weight_ih_l0": ((4 * H, D), "(4H, D)"), "weight_hh_l0": ((4 * H, H), "(4H, H)"),
                  "bias_ih_l0": ((4 * H,), "(4H,)"), "bias_hh_l0": ((4 * H,), "(4H,)")}
        for key, (shape, dims) in shapes.items():
            chk = check_array(value[key], np.zeros(shape), key, dims=dims, tol=np.inf)
            if not chk.ok and "float64" not in chk.message:
                return {"nn.LSTM output": Outcome(False, f"{lab} {chk.message}")}
        expected = ref.forward_multi(ref.lstm, x, h0, Wx, Wh, b)[0]
        got = ref.torch_lstm_output(value, x, h0)
        chk = check_array(got, expected, "nn.LSTM's output with your weights", dims="(N, T, H)", tol=1e-10)
        if not chk.ok:
            sigs = [(H_TORCH_ORDER, ref.torch_lstm_output(mk.lstm_torch_params_variant(Wx, Wh, b, reorder=False), x, h0)),
                    (H_TORCH_BIAS, ref.torch_lstm_output(mk.lstm_torch_params_variant(Wx, Wh, b, bias="both"), x, h0))]
            first_failure(outcomes, "nn.LSTM output",
                          f"{lab} {chk.message}. It must equal your lstm_forward's (the reference's) h. "
                          + feedback.match_hint(got, sigs))
    return outcomes


GROUPS = [
    Group("lstm_step_forward", [("next_h", 5), ("next_c", 5)],
          lambda ctx: run_gated_forward(ctx, "lstm_step_forward", ref.lstm_step,
                                        gated_cases(ctx.rng, 4, step=True, with_cell=True), ("next_h", "next_c"),
                                        ("(N, H)", "(N, H)"), signatures=step_forward_signatures)),
    Group("lstm_step_backward", [("dx", 4), ("dprev_h", 4), ("dprev_c", 4), ("dWx", 4), ("dWh", 4), ("db", 3)],
          lambda ctx: run_gated_backward(ctx, LSTM_STEP_BACKWARD, gated_cases(ctx.rng, 4, step=True, with_cell=True))),
    Group("lstm_forward", [("h", 12)],
          lambda ctx: run_gated_forward(ctx, "lstm_forward", ref.lstm, gated_cases(ctx.rng, 4, step=False), ("h",),
                                        ("(N, T, H)",), time_axis=True, signatures=seq_forward_signatures)),
    Group("lstm_backward", [("dx", 8), ("dh0", 8), ("dWx", 9), ("dWh", 9), ("db", 7)],
          lambda ctx: run_gated_backward(ctx, LSTM_BACKWARD, gated_cases(ctx.rng, 4, step=False))),
    Group("lstm_params_to_torch", [("nn.LSTM output", 14)], run_params_to_torch),
]
