"""Assignment `rnn_bptt`: a vanilla RNN in NumPy, backpropagation through time, and sampling.

Ten graded functions, 100 points; backward functions are worth more than forwards. Every case's
shapes and values are drawn at grading time from the grader's seed; each function sees a general
case (N > 1, T > 1, H != D), a case with N = 1 and T = 1, and a case with N = 1 and square weights.
"""

from __future__ import annotations

import numpy as np

from .. import feedback
from ..checks import check_array, check_scalar
from ..protocol import RngSpec
from ..references import mistakes as mk
from ..references import rnn as ref
from .common import Backward, Case, Ctx, Group, Outcome, first_failure, run_backward_test, run_forward_test, unpack

ASSIGNMENT = "rnn_bptt"
TITLE = "Assignment 1: a vanilla RNN and backpropagation through time"
NOTEBOOK = "01_rnn_bptt.ipynb"  # the student notebook's file name (bundles and messages use it)


# ---------------------------------------------------------------- shapes and inputs

def _rnn_shapes(rng):
    """(N, T, D, H) for the general case, N = T = 1, and N = 1 with D = H."""
    D = int(rng.integers(2, 6))
    H = int(rng.choice([h for h in range(3, 7) if h != D]))
    D1 = int(rng.integers(2, 5))
    H1 = int(rng.choice([h for h in range(2, 6) if h != D1]))
    S = int(rng.integers(2, 6))
    return [(int(rng.integers(2, 5)), int(rng.integers(3, 7)), D, H), (1, 1, D1, H1),
            (1, int(rng.integers(2, 6)), S, S)]


def _label(**dims) -> str:
    return ", ".join(f"{k}={v}" for k, v in dims.items())


def _rnn_params(rng, D, H):
    return rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.4, rng.standard_normal(H) * 0.2


def rnn_cases(rng, step: bool):
    cases = []
    for N, T, D, H in _rnn_shapes(rng):
        def draw():
            x = rng.standard_normal((N, D) if step else (N, T, D))
            return (x, rng.standard_normal((N, H)) * 0.5, *_rnn_params(rng, D, H))
        inputs, decoy = draw(), draw()
        dout = rng.standard_normal((N, H) if step else (N, T, H))
        label = _label(N=N, D=D, H=H) if step else _label(N=N, T=T, D=D, H=H)
        cases.append(Case(label, inputs, decoy, dout))
    return cases


def embedding_cases(rng):
    cases = []
    V = int(rng.integers(3, 6))  # N*T >= 6 > V in the general case, so some index repeats
    for N, T in [(int(rng.integers(2, 4)), int(rng.integers(3, 5))), (1, 1), (1, int(rng.integers(4, 7)))]:
        D = int(rng.integers(2, 5))
        W = rng.standard_normal((V, D))
        x, x2 = rng.integers(0, V, size=(N, T)), rng.integers(0, V, size=(N, T))
        cases.append(Case(_label(N=N, T=T, V=V, D=D), (x, W), (x2, rng.standard_normal((V, D))),
                          rng.standard_normal((N, T, D))))
    return cases


def affine_cases(rng):
    cases = []
    H = int(rng.integers(2, 6))
    V = int(rng.choice([v for v in range(3, 8) if v != H]))
    S = int(rng.integers(2, 5))
    for N, T, H_, V_ in [(int(rng.integers(2, 5)), int(rng.integers(2, 5)), H, V), (1, 1, H, V), (1, 3, S, S)]:
        def draw():
            return (rng.standard_normal((N, T, H_)), rng.standard_normal((H_, V_)), rng.standard_normal(V_))
        cases.append(Case(_label(N=N, T=T, H=H_, V=V_), draw(), draw(), rng.standard_normal((N, T, V_))))
    return cases


def softmax_cases(rng):
    cases = []
    for N, T in [(int(rng.integers(2, 5)), int(rng.integers(3, 6))), (1, 1), (int(rng.integers(2, 4)), 2)]:
        V = int(rng.integers(3, 7))
        x = rng.standard_normal((N, T, V)) * 2
        y = rng.integers(0, V, size=(N, T))
        mask = rng.random((N, T)) < 0.7
        if N * T > 1:  # at least one step in and one step out
            mask.flat[0], mask.flat[-1] = True, False
        else:
            mask[:] = True
        cases.append(Case(_label(N=N, T=T, V=V), (x, y, mask)))
    return cases


def sample_cases(rng):
    cases = []
    for h0_shape, length in [("(H,)", 8), ("(1, H)", 1), ("(H,)", 5)]:
        V, D, H = int(rng.integers(5, 9)), int(rng.integers(2, 5)), int(rng.integers(3, 7))
        Wx, Wh, b = _rnn_params(rng, D, H)
        params = {"W_embed": rng.standard_normal((V, D)), "Wx": Wx, "Wh": Wh, "b": b,
                  "W_out": rng.standard_normal((H, V)) * 1.5, "b_out": rng.standard_normal(V) * 0.3}
        h0 = rng.standard_normal(H) * 0.5
        if h0_shape == "(1, H)":
            h0 = h0[None]
        first = int(rng.integers(0, V))
        cases.append(Case(_label(V=V, D=D, H=H, length=length) + f", h0 {h0_shape}", (params, h0, first, length),
                          extra={"temperature": float(rng.choice([0.5, 1.0, 1.5])),
                                 "rng_seed": int(rng.integers(0, 2**31))}))
    return cases


# ---------------------------------------------------------------- mistake signatures

H_DERIV_PRE = ("tanh' is 1 - h_t^2, from the step's output h_t = tanh(a_t); yours looks like "
               "1 - a_t^2, taken from the pre-activation a_t.")
H_DERIV_PREV = ("tanh' is 1 - h_t^2 with this step's OWN output h_t; yours looks like it uses "
                "h_{t-1}, the previous hidden state.")
H_DROP_NEXT = ("in BPTT the upstream gradient at step t is dh[:, t] PLUS the gradient flowing back from "
               "step t+1 (the dprev_h of step t+1); yours looks like it drops the second term.")
H_LAST_ONLY = ("Wx, Wh and b are shared by every time step, so their gradients are sums over t "
               "(+=, not =); yours looks like the contribution of a single step.")
H_DH0_ZERO = "dh0 is the gradient flowing out of step 0 into h0 (step 0's dprev_h); yours is zero."
H_DH0_OTHER = ("dh0 is dprev_h as returned by the backward of step 0, the LAST step the backward loop "
               "visits; yours looks like {what}.")
H_TRANSPOSED = "{g} looks transposed: it must have the shape of {w}, {dims}; check the order of the matrix product."
H_DPREV_WH = "the gradient to the previous state is da @ Wh.T, not da @ Wh."


def _transposed(g, dims, value_ref):
    w = g[1:]
    return (H_TRANSPOSED.format(g=g, w=w, dims=dims), value_ref.T)


def rnn_backward_signatures(case, i, refs):
    x, h0, Wx, Wh, b = case.inputs
    dh = case.dout
    variants = [(H_DROP_NEXT, dict(drop_next=True)), (H_DERIV_PRE, dict(deriv="pre")),
                (H_DERIV_PREV, dict(deriv="prev")), (H_LAST_ONLY, dict(weights="assign")),
                (H_LAST_ONLY, dict(weights="last")), (H_DPREV_WH, dict(dprev_untransposed=True))]
    sigs = [(hint, mk.rnn_backward_variant(x, h0, Wx, Wh, b, dh, **kw)[i]) for hint, kw in variants]
    if i == 1:
        sigs.append((H_DH0_ZERO, np.zeros_like(h0)))
        for what, mode in [("dh[:, T-1], the upstream gradient of the last step", "dh_last"),
                           ("dh[:, 0], the upstream gradient of step 0 (it still has to go through step 0)", "dh_first"),
                           ("the gradient arriving at h_0's output, before going back through step 0", "total_first"),
                           ("the dprev_h of step T-1, the first step the backward visits", "first_processed")]:
            sigs.append((H_DH0_OTHER.format(what=what), mk.rnn_backward_variant(x, h0, Wx, Wh, b, dh, dh0=mode)[1]))
    if i in (2, 3):
        g, dims = ("dWx", "(D, H)") if i == 2 else ("dWh", "(H, H)")
        sigs.append(_transposed(g, dims, refs[i]))
    return sigs


def rnn_step_backward_signatures(case, i, refs):
    x, prev_h, Wx, Wh, b = case.inputs
    variants = [(H_DERIV_PRE, dict(deriv="pre")), (H_DERIV_PREV, dict(deriv="prev")),
                (H_DPREV_WH, dict(dprev_untransposed=True))]
    sigs = [(hint, mk.rnn_step_backward_variant(x, prev_h, Wx, Wh, b, case.dout, **kw)[i]) for hint, kw in variants]
    if i in (2, 3):
        g, dims = ("dWx", "(D, H)") if i == 2 else ("dWh", "(H, H)")
        sigs.append(_transposed(g, dims, refs[i]))
    return sigs


def rnn_forward_signatures(case):
    x, h0, Wx, Wh, b = case.inputs
    return [("every step must start from the PREVIOUS step's state h_{t-1}; yours looks like it always uses h0.",
             mk.rnn_forward_variant(x, h0, Wx, Wh, b, carry="h0_always")),
            ("step 0 must start from the given h0; yours looks like it starts from zeros.",
             mk.rnn_forward_variant(x, h0, Wx, Wh, b, carry="zeros_start"))]


def embedding_backward_signatures(case, i, refs):
    x, W = case.inputs
    return [("with repeated indices, dW[x] += dout keeps only one of the updates for each index "
             "(fancy-index assignment does not accumulate); use np.add.at(dW, x, dout).",
             mk.embedding_backward_fancy_assign(x, case.dout, W.shape[0]))]


def affine_backward_signatures(case, i, refs):
    return [_transposed("dw", "(H, V)", refs[1])] if i == 1 else []


H_SOFTMAX = {
    ("none", True): "the loss is summed over the unmasked steps and then averaged over the N sequences; "
                    "yours looks like it is not divided by N.",
    ("NT", True): "average over the N sequences only; yours looks divided by N*T.",
    ("count", True): "average over the N sequences only; yours looks divided by the number of unmasked steps.",
    ("N", False): "steps with mask False must add nothing to the loss and get zero gradient; yours looks "
                  "like it ignores the mask.",
    ("none", False): "yours looks like it ignores the mask AND is not divided by N.",
}


def softmax_signatures(case, i):
    x, y, mask = case.inputs
    return [(hint, mk.softmax_loss_variant(x, y, mask, average=avg, use_mask=use)[i])
            for (avg, use), hint in H_SOFTMAX.items()]


# ---------------------------------------------------------------- groups

RNN_STEP_BACKWARD = Backward("rnn_step_forward", "rnn_step_backward", ref.rnn_step, "next_h", (0, 1, 2, 3, 4),
                             ("dx", "dprev_h", "dWx", "dWh", "db"), ("(N, D)", "(N, H)", "(D, H)", "(H, H)", "(H,)"),
                             signatures=rnn_step_backward_signatures)
RNN_BACKWARD = Backward("rnn_forward", "rnn_backward", ref.rnn, "h", (0, 1, 2, 3, 4),
                        ("dx", "dh0", "dWx", "dWh", "db"), ("(N, T, D)", "(N, H)", "(D, H)", "(H, H)", "(H,)"),
                        time_axis=frozenset({"dx"}), signatures=rnn_backward_signatures)
EMBEDDING_BACKWARD = Backward("word_embedding_forward", "word_embedding_backward", ref.word_embedding, "out",
                              (1,), ("dW",), ("(V, D)",), signatures=embedding_backward_signatures)
AFFINE_BACKWARD = Backward("temporal_affine_forward", "temporal_affine_backward", ref.temporal_affine, "out",
                           (0, 1, 2), ("dx", "dw", "db"), ("(N, T, H)", "(H, V)", "(V,)"),
                           time_axis=frozenset({"dx"}), signatures=affine_backward_signatures)


def run_softmax(ctx: Ctx):
    outcomes = {"loss": Outcome(True), "dx": Outcome(True)}
    for case in softmax_cases(ctx.rng):
        value, msg = ctx.call("temporal_softmax_loss", *case.inputs)
        if not msg:
            parts, msg = unpack(value, 2, "temporal_softmax_loss", ("loss", "dx"))
        if msg:
            return {k: Outcome(False, f"[{case.label}] {msg}") for k in outcomes}
        loss_ref, (dx_ref,) = ref.vjp(ref.temporal_softmax_loss, case.inputs, None, (0,))
        for i, (name, chk) in enumerate([("loss", check_scalar(parts[0], float(loss_ref), "loss")),
                                         ("dx", check_array(parts[1], dx_ref, "dx", dims="(N, T, V)"))]):
            if chk.ok:
                continue
            hint = ""
            if chk.comparable:
                got = np.asarray(parts[0], dtype=np.float64).reshape(()) if i == 0 else parts[1]
                hint = feedback.match_hint(got, [(h, np.asarray(s, dtype=np.float64)) for h, s in softmax_signatures(case, i)])
            first_failure(outcomes, name, f"[{case.label}] {chk.message} {hint}".strip())
    return outcomes


def run_sample(ctx: Ctx):
    outcomes = {"greedy": Outcome(True), "sampled": Outcome(True)}
    stopped = set()
    for case in sample_cases(ctx.rng):
        params, h0, first, length = case.inputs
        for out_name, temperature in [("greedy", 0.0), ("sampled", case.extra["temperature"])]:
            if out_name in stopped:
                continue  # an exception, timeout or crash would only repeat
            seed = case.extra["rng_seed"]
            value, msg = ctx.call("sample_chars", params, h0, first, length, temperature, ref_rng_spec(seed))
            if msg:
                stopped.add(out_name)
                first_failure(outcomes, out_name, f"[{case.label}, temperature={temperature}] {msg}")
                continue
            expected = ref.sample_chars(params, h0, first, length, temperature, np.random.default_rng(seed))
            chk = check_array(value, expected, "indices", dims="(length,)", integer=True)
            if chk.ok:
                continue
            hint = ""
            if chk.comparable:
                variants = [("h must be carried from step to step; yours looks like every step starts from h0.",
                             dict(carry_h=False))]
                if temperature:
                    variants.insert(0, ("divide the scores by the temperature before the softmax.",
                                        dict(no_temperature=True)))
                for text, kw in variants:
                    alt = mk.sample_variant(params, h0, first, length, temperature, np.random.default_rng(seed), **kw)
                    if np.array_equal(alt, value):
                        hint = "Hint: " + text
                        break
                if not hint and temperature:
                    hint = ("Draw each index with rng.choice(V, p=p), exactly one call per step, using the "
                            "rng argument (not np.random).")
            first_failure(outcomes, out_name, f"[{case.label}, temperature={temperature}] {chk.message} {hint}".strip())
    return outcomes


def ref_rng_spec(seed):
    """The submission gets its own numpy.random.default_rng(seed), built in its process."""
    return RngSpec(seed)


GROUPS = [
    Group("rnn_step_forward", [("next_h", 6)],
          lambda ctx: run_forward_test(ctx, "rnn_step_forward", ref.rnn_step, rnn_cases(ctx.rng, step=True),
                                   "next_h", "(N, H)")),
    Group("rnn_step_backward", [("dx", 3), ("dprev_h", 3), ("dWx", 3), ("dWh", 3), ("db", 2)],
          lambda ctx: run_backward_test(ctx, RNN_STEP_BACKWARD, rnn_cases(ctx.rng, step=True))),
    Group("rnn_forward", [("h", 8)],
          lambda ctx: run_forward_test(ctx, "rnn_forward", ref.rnn, rnn_cases(ctx.rng, step=False), "h",
                                   "(N, T, H)", time_axis=True, signatures=rnn_forward_signatures)),
    Group("rnn_backward", [("dx", 5), ("dh0", 5), ("dWx", 5), ("dWh", 5), ("db", 4)],
          lambda ctx: run_backward_test(ctx, RNN_BACKWARD, rnn_cases(ctx.rng, step=False))),
    Group("word_embedding_forward", [("out", 4)],
          lambda ctx: run_forward_test(ctx, "word_embedding_forward", ref.word_embedding, embedding_cases(ctx.rng),
                                   "out", "(N, T, D)")),
    Group("word_embedding_backward", [("dW", 6)],
          lambda ctx: run_backward_test(ctx, EMBEDDING_BACKWARD, embedding_cases(ctx.rng))),
    Group("temporal_affine_forward", [("out", 4)],
          lambda ctx: run_forward_test(ctx, "temporal_affine_forward", ref.temporal_affine, affine_cases(ctx.rng),
                                   "out", "(N, T, V)")),
    Group("temporal_affine_backward", [("dx", 2), ("dw", 2), ("db", 2)],
          lambda ctx: run_backward_test(ctx, AFFINE_BACKWARD, affine_cases(ctx.rng))),
    Group("temporal_softmax_loss", [("loss", 6), ("dx", 8)], run_softmax),
    Group("sample_chars", [("greedy", 7), ("sampled", 7)], run_sample),
]
