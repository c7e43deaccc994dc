"""Assignment `gru`: a GRU in NumPy in the lectures' form (blocks z, r, n; eq-gru in book/notation.md).

Four graded functions, 100 points, tested like the LSTM (testers shared with specs/lstm.py): a general
case, N = T = 1, and N = 1 with D = H; wrong gate-weight gradients are localised to the gate block.
The torch-style step of the notebook (`gru_step_forward_torch_style`) is not graded.
"""

from __future__ import annotations

from ..references import gated as ref
from ..references import gated_mistakes as mk
from .common import Group
from .lstm import H_SIG_PRE, GatedBackward, gated_cases, run_gated_backward, run_gated_forward

ASSIGNMENT = "gru"
TITLE = "Assignment 4: a GRU from scratch"
NOTEBOOK = "04_gru.ipynb"  # the student notebook's file name (bundles and messages use it)

H_ORDER = ("the blocks of Wx, Wh and b are z, r, n (update, reset, candidate) along the 3H axis; yours looks "
           "like it swaps z and r (nn.GRU's order is r, z, n).")
H_Z_OLD = ("in the lectures' GRU, z weights the NEW candidate: h_t = (1 - z) * h_{t-1} + z * h~; yours "
           "looks like z * h_{t-1} + (1 - z) * h~ (nn.GRU's convention).")
H_RESET_AFTER = ("the reset gate multiplies h_{t-1} BEFORE the product: (r * h_{t-1}) @ Wh_n; yours looks like "
                 "r * (h_{t-1} @ Wh_n), nn.GRU's form (a different function).")
H_DROP_NEXT = ("in BPTT the gradient at step t is dh[:, t] PLUS the dprev_h of step t+1; yours looks like it "
               "drops the second term.")

STEP_BUGS = [(H_ORDER, dict(order="rzn")), (H_Z_OLD, dict(z_old=True)), (H_RESET_AFTER, dict(reset_after=True)),
             (H_SIG_PRE, dict(sig_deriv="pre"))]
FORWARD_BUGS = STEP_BUGS[:3]


def step_signatures(case):
    return [(h, mk.gru_step_variant(*case.inputs, *case.dout, **kw)[1]) for h, kw in STEP_BUGS]


def step_forward_signatures(case):
    return [(h, (mk.gru_step_variant(*case.inputs, *case.dout, **kw)[0],)) for h, kw in FORWARD_BUGS]


def seq_signatures(case):
    bugs = STEP_BUGS + [(H_DROP_NEXT, dict(drop_next=True))]
    return [(h, mk.gru_variant(*case.inputs, *case.dout, **kw)[1]) for h, kw in bugs]


def seq_forward_signatures(case):
    return [(h, (mk.gru_variant(*case.inputs, *case.dout, **kw)[0],)) for h, kw in FORWARD_BUGS]


GRU_STEP_BACKWARD = GatedBackward(
    "gru_step_forward", "gru_step_backward", ref.gru_step, ("next_h",), ("dx", "dprev_h", "dWx", "dWh", "db"),
    ("(N, D)", "(N, H)", "(D, 3H)", "(H, 3H)", "(3H,)"), ref.GRU_GATES, signatures=step_signatures)
GRU_BACKWARD = GatedBackward(
    "gru_forward", "gru_backward", ref.gru, ("h",), ("dx", "dh0", "dWx", "dWh", "db"),
    ("(N, T, D)", "(N, H)", "(D, 3H)", "(H, 3H)", "(3H,)"), ref.GRU_GATES, time_axis=frozenset({"dx"}),
    signatures=seq_signatures)

GROUPS = [
    Group("gru_step_forward", [("next_h", 12)],
          lambda ctx: run_gated_forward(ctx, "gru_step_forward", ref.gru_step, gated_cases(ctx.rng, 3, step=True),
                                        ("next_h",), ("(N, H)",), signatures=step_forward_signatures)),
    Group("gru_step_backward", [("dx", 5), ("dprev_h", 6), ("dWx", 6), ("dWh", 6), ("db", 5)],
          lambda ctx: run_gated_backward(ctx, GRU_STEP_BACKWARD, gated_cases(ctx.rng, 3, step=True))),
    Group("gru_forward", [("h", 14)],
          lambda ctx: run_gated_forward(ctx, "gru_forward", ref.gru, gated_cases(ctx.rng, 3, step=False), ("h",),
                                        ("(N, T, H)",), time_axis=True, signatures=seq_forward_signatures)),
    Group("gru_backward", [("dx", 8), ("dh0", 8), ("dWx", 11), ("dWh", 11), ("db", 8)],
          lambda ctx: run_gated_backward(ctx, GRU_BACKWARD, gated_cases(ctx.rng, 3, step=False))),
]
