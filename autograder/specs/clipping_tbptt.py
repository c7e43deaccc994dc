"""Assignment `clipping_tbptt`: gradient clipping, Jacobian norms and truncated BPTT in NumPy.

Four graded functions, 100 points. `truncated_bptt_grads` builds on the student's own assignment-1
functions, so the grader runs that notebook's graded cells first (DEPENDS_ON; see grade.find_dependencies).
The clipping functions work in place: the grader looks at the arguments as the call left them.
"""

from __future__ import annotations

import numpy as np

from .. import feedback
from ..checks import MATCH_TOL, check_array, check_scalar, describe, rel_error
from ..references import clipping as ref
from ..references import clipping_mistakes as mk
from .common import Case, Ctx, Dependency, Group, Outcome, first_failure, unpack
from .rnn_bptt import _label, _rnn_params, _rnn_shapes

ASSIGNMENT = "clipping_tbptt"
TITLE = "Assignment 2: gradient clipping, Jacobian norms and truncated BPTT"
NOTEBOOK = "02_clipping_tbptt.ipynb"  # the student notebook's file name (bundles and messages use it)
DEPENDS_ON = [Dependency("rnn_bptt", "01_rnn_bptt.ipynb", "assignment-1")]


# ---------------------------------------------------------------- cases

def _grad_dict(rng, shapes, scale):
    return {name: rng.standard_normal(shape) * scale for name, shape in shapes.items()}


def _norm(grads):
    return float(np.sqrt(sum(np.sum(v * v) for v in grads.values())))


def clip_norm_cases(rng):
    D, H = int(rng.integers(2, 5)), int(rng.integers(3, 7))
    layouts = [("above the threshold", {"Wx": (D, H), "Wh": (H, H), "b": (H,)}, (0.2, 0.6)),
               ("below the threshold", {"Wx": (D, H), "b": (H,)}, (1.3, 3.0)),
               ("one array", {"g": (int(rng.integers(2, 6)),)}, (0.3, 0.8)),
               ("four arrays", {"W_embed": (int(rng.integers(3, 6)), D), "Wh": (H, H), "b_out": (1,),
                                "W_out": (H, int(rng.integers(3, 6)))}, (0.1, 0.5))]
    cases = []
    for label, shapes, (lo, hi) in layouts:
        grads = _grad_dict(rng, shapes, float(rng.uniform(1.0, 3.0)))
        max_norm = round(_norm(grads) * float(rng.uniform(lo, hi)), 3)
        cases.append(Case(f"{label}: {len(shapes)} array(s), max_norm={max_norm}", (grads, max_norm)))
    return cases


def clip_value_cases(rng):
    D, H = int(rng.integers(2, 5)), int(rng.integers(3, 7))
    cases = []
    for label, shapes, scale in [("some entries outside", {"Wx": (D, H), "Wh": (H, H), "b": (H,)}, 3.0),
                                 ("one array", {"g": (int(rng.integers(4, 9)),)}, 3.0),
                                 ("nothing to clip", {"Wh": (H, H)}, 0.2)]:
        clip = round(float(rng.uniform(1.0, 2.5)), 2)
        grads = _grad_dict(rng, shapes, scale)
        cases.append(Case(f"{label}: {len(shapes)} array(s), clip_value={clip}", (grads, clip)))
    return cases


def jacobian_cases(rng):
    cases = []
    for N, T, D, H in _rnn_shapes(rng):
        x = rng.standard_normal((N, T, D))
        h0 = rng.standard_normal((N, H)) * 0.5
        Wx, Wh, b = _rnn_params(rng, D, H)
        Wh = Wh * 2.0  # spectral radius around 1-2: the norms neither vanish nor explode on these short runs
        cases.append(Case(_label(N=N, T=T, D=D, H=H), (x, h0, Wx, Wh, b)))
    return cases


def tbptt_cases(rng):
    """k dividing T, k not dividing T, k = 1, k >= T, and T = 1; N = 1 in two of them; H != D."""
    T1 = int(rng.choice([6, 8]))
    layouts = [(int(rng.integers(2, 4)), T1, int(rng.choice([2, T1 // 2]))),  # k divides T
               (2, 7, 3),  # the last chunk is shorter
               (1, int(rng.integers(3, 6)), 1),
               (int(rng.integers(2, 4)), 4, int(rng.choice([4, 6]))),  # one chunk: full BPTT
               (1, 1, 2)]
    cases = []
    for N, T, k in layouts:
        V, D = int(rng.integers(4, 8)), int(rng.integers(2, 5))
        H = int(rng.choice([h for h in range(3, 7) if h != D]))
        Wx, Wh, b = _rnn_params(rng, D, H)
        params = {"W_embed": rng.standard_normal((V, D)), "Wx": Wx, "Wh": Wh * 1.5, "b": b,
                  "W_out": rng.standard_normal((H, V)) * 0.5, "b_out": rng.standard_normal(V) * 0.2}
        x, y = rng.integers(0, V, size=(N, T)), rng.integers(0, V, size=(N, T))
        h0 = rng.standard_normal((N, H)) * 0.5
        cases.append(Case(_label(N=N, T=T, k=k, D=D, H=H, V=V), (x, y, h0, params, k)))
    return cases


# ---------------------------------------------------------------- hints

H_NORM = {
    "squared": "the norm is the square root of the sum of squares over every entry of every array; "
               "np.sum(g * g) alone is its square.",
    "per_array": "clip by ONE global norm over all arrays together (the square root of the sum of every "
                 "array's squared entries), not each array by its own norm.",
    "always": "only rescale when the total norm is above max_norm; yours rescales every time, which "
              "also enlarges small gradients.",
    "post_clip": "return the norm BEFORE clipping (it is what you log to see explosions); yours looks "
                 "like the norm after clipping.",
    "unchanged": "clip the arrays in place (g *= scale, or grads[name] = ...); yours leaves the dict it was "
                 "given unchanged (a clipped copy is thrown away when the function returns).",
}
H_VALUE = {
    "unchanged": "np.clip returns a new array: write the result back, np.clip(g, -c, c, out=g) or "
                 "grads[name] = np.clip(...); yours leaves the dict it was given unchanged.",
    "upper": "clip to BOTH bounds, [-clip_value, clip_value]; yours looks like it only applies the upper one.",
}
H_JAC = {
    "no_tanh": "each step's Jacobian is diag(1 - h_t^2) Wh^T; yours looks like powers of Wh alone, "
               "without the tanh derivative.",
    "reversed": "column t-1 is for h_t, so the LAST column is d h_T / d h_T = I (norm 1); yours looks "
                "like the columns are in reverse time order.",
    "frobenius": "use the spectral norm (largest singular value, np.linalg.norm(J, 2)); yours looks like "
                 "the Frobenius norm.",
}
H_TBPTT = {
    "leak": "no gradient may cross a chunk boundary: give each chunk its own backward pass and drop the "
            "dh0 it returns; yours looks like full BPTT through every chunk.",
    "reset": "carry the hidden state from chunk to chunk (the next chunk starts from the last state of "
             "this one); yours looks like every chunk starts again from h0.",
    "averaged": "the loss and gradients are SUMMED over chunks; yours look averaged over the chunks.",
}


def _dict_matches(got, variant) -> bool:
    return (isinstance(got, dict) and set(got) == set(variant) and all(
        isinstance(got[k], np.ndarray) and got[k].shape == variant[k].shape and got[k].dtype.kind == "f"
        and rel_error(got[k], variant[k]) <= MATCH_TOL for k in variant))


def _check_dict(got, expected: dict, what: str, dims=None) -> str:
    """"" when every array in `got` matches `expected`, else the first problem."""
    if not isinstance(got, dict):
        return f"{what}: expected a dict of arrays, got {describe(got)}"
    if set(got) != set(expected):
        return f"{what} has keys {sorted(got)}, expected {sorted(expected)}"
    for k, v in expected.items():
        chk = check_array(got[k], v, f"{what}[{k!r}]", dims=(dims or {}).get(k, ""))
        if not chk.ok:
            return chk.message
    return ""


def _scalar_hint(value, signatures) -> str:
    try:
        v = float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        return ""
    for hint, sig in signatures:
        if rel_error(np.array([v]), np.array([sig])) <= MATCH_TOL:
            return "Hint: " + hint
    return ""


# ---------------------------------------------------------------- groups

def run_clip_norm(ctx: Ctx):
    outcomes = {"total_norm": Outcome(True), "grads": Outcome(True)}
    for case in clip_norm_cases(ctx.rng):
        grads, max_norm = case.inputs
        value, args, msg = ctx.call_inplace("clip_grad_norm", grads, max_norm)
        if msg:
            return {k: Outcome(False, f"[{case.label}] {msg}") for k in outcomes}
        total, clipped = ref.clip_grad_norm(grads, max_norm)
        variants = {m: mk.clip_grad_norm_variant(grads, max_norm, m) for m in H_NORM}
        chk = check_scalar(value, total, "total_norm")
        if not chk.ok:
            sigs = [(H_NORM[m], variants[m][0]) for m in ("squared", "post_clip") if variants[m][0] != total]
            hint = _scalar_hint(value, sigs) if chk.comparable else ""
            first_failure(outcomes, "total_norm", f"[{case.label}] {chk.message} {hint}".strip())
        problem = _check_dict(args[0], clipped, "grads after the call")
        if problem:
            hint = next((f"Hint: {H_NORM[m]}" for m in ("unchanged", "squared", "per_array", "always")
                         if _dict_matches(args[0], variants[m][1])), "")
            first_failure(outcomes, "grads", f"[{case.label}] {problem} {hint}".strip())
    return outcomes


def run_clip_value(ctx: Ctx):
    outcomes = {"grads": Outcome(True), "returns None": Outcome(True)}
    for case in clip_value_cases(ctx.rng):
        grads, clip = case.inputs
        value, args, msg = ctx.call_inplace("clip_grad_value", grads, clip)
        if msg:
            return {k: Outcome(False, f"[{case.label}] {msg}") for k in outcomes}
        if value is not None:
            first_failure(outcomes, "returns None", f"[{case.label}] clip_grad_value should change grads in place "
                                                    f"and return None, got {describe(value)}")
        problem = _check_dict(args[0], ref.clip_grad_value(grads, clip), "grads after the call")
        if problem:
            hint = next((f"Hint: {H_VALUE[m]}" for m in H_VALUE
                         if _dict_matches(args[0], mk.clip_grad_value_variant(grads, clip, m))), "")
            first_failure(outcomes, "grads", f"[{case.label}] {problem} {hint}".strip())
    return outcomes


def _jacobian_note(got, expected) -> str:
    bad = [t for t in range(expected.shape[1]) if rel_error(got[:, t], expected[:, t]) > 1e-7]
    if not bad:
        return ""
    T = expected.shape[1]
    return f"The first wrong column is {bad[0]} (for h_{bad[0] + 1}; columns 0..{T - 1}, the last is h_T)."


def run_jacobian(ctx: Ctx):
    outcomes = {"norms": Outcome(True)}
    for case in jacobian_cases(ctx.rng):
        value, msg = ctx.call("hidden_jacobian_norms", *case.inputs)
        if msg:
            return {"norms": Outcome(False, f"[{case.label}] {msg}")}
        expected = ref.hidden_jacobian_norms(*case.inputs)
        chk = check_array(value, expected, "norms", dims="(N, T)")
        if not chk.ok:
            lines = [f"[{case.label}] {chk.message}"]
            if chk.comparable:
                lines.append(_jacobian_note(value, expected))
                lines.append(feedback.match_hint(value, [(H_JAC[m], mk.hidden_jacobian_norms_variant(*case.inputs, m))
                                                         for m in H_JAC]))
            first_failure(outcomes, "norms", " ".join(x for x in lines if x))
    return outcomes


GRAD_DIMS = {"W_embed": "(V, D)", "Wx": "(D, H)", "Wh": "(H, H)", "b": "(H,)", "W_out": "(H, V)", "b_out": "(V,)"}
TBPTT_OUTPUTS = ["loss", *(f"d{n}" for n in ref.PARAM_NAMES), "h_last"]


def _dependency_failure(error: str) -> str:
    """A NotImplementedError raised by an assignment-1 function inside truncated_bptt_grads."""
    err = (error or "").strip()
    if not err.startswith("NotImplementedError"):
        return ""
    inner = err.partition(":")[2].strip().split(" ")[0].strip("'\"()")
    if inner and inner != "truncated_bptt_grads" and inner.isidentifier():
        return (f"truncated_bptt_grads calls your assignment-1 function {inner}, which raises "
                f"NotImplementedError: finish it in 01_rnn_bptt.ipynb first")
    return ""


def run_tbptt(ctx: Ctx):
    outcomes = {k: Outcome(True) for k in TBPTT_OUTPUTS}
    for case in tbptt_cases(ctx.rng):
        x, y, h0, params, k = case.inputs
        result = ctx.sub.call("truncated_bptt_grads", *case.inputs)
        msg = "" if result.ok else (_dependency_failure(result.error)
                                    or feedback.call_failure("truncated_bptt_grads", result, ctx.cell_errors))
        parts = None
        if not msg:
            parts, msg = unpack(result.value, 3, "truncated_bptt_grads", ("loss", "grads", "h_last"))
        if msg:
            return {o: Outcome(False, f"[{case.label}] {msg}") for o in TBPTT_OUTPUTS}
        loss, grads, h_last = parts
        exp_loss, exp_grads, exp_h = ref.truncated_bptt_grads(x, y, h0, params, k)
        n_chunks = -(-x.shape[1] // k)
        variants = {"leak": ref.truncated_bptt_grads(x, y, h0, params, k, detach=False),
                    "reset": ref.truncated_bptt_grads(x, y, h0, params, k, carry=False)}
        if n_chunks > 1:
            variants["averaged"] = (exp_loss / n_chunks, {n: g / n_chunks for n, g in exp_grads.items()}, exp_h)

        def hint(i, got, name=None):
            sigs = []
            for mode, var in variants.items():
                sig = var[i] if name is None else var[i][name]
                ref_val = (exp_loss, exp_grads, exp_h)[i]
                ref_val = ref_val if name is None else ref_val[name]
                if rel_error(np.asarray(sig), np.asarray(ref_val)) > MATCH_TOL:  # the mistake shows here
                    sigs.append((H_TBPTT[mode], sig))
            if i == 0:
                return _scalar_hint(got, sigs)
            return feedback.match_hint(got, [(h, np.asarray(s)) for h, s in sigs])

        chk = check_scalar(loss, exp_loss, "loss")
        if not chk.ok:
            first_failure(outcomes, "loss", f"[{case.label}] {chk.message} {hint(0, loss) if chk.comparable else ''}".strip())
        if not isinstance(grads, dict):
            for n in ref.PARAM_NAMES:
                first_failure(outcomes, f"d{n}", f"[{case.label}] grads: expected a dict of arrays with keys "
                                                 f"{', '.join(ref.PARAM_NAMES)}, got {describe(grads)}")
        else:
            for n in ref.PARAM_NAMES:
                if n not in grads:
                    first_failure(outcomes, f"d{n}", f"[{case.label}] grads has no key {n!r}")
                    continue
                chk = check_array(grads[n], exp_grads[n], f"grads[{n!r}]", dims=GRAD_DIMS[n])
                if not chk.ok:
                    first_failure(outcomes, f"d{n}",
                                  f"[{case.label}] {chk.message} {hint(1, grads[n], n) if chk.comparable else ''}".strip())
        chk = check_array(h_last, exp_h, "h_last", dims="(N, H)")
        if not chk.ok:
            first_failure(outcomes, "h_last", f"[{case.label}] {chk.message} {hint(2, h_last) if chk.comparable else ''}".strip())
    return outcomes


GROUPS = [
    Group("clip_grad_norm", [("total_norm", 10), ("grads", 15)], run_clip_norm),
    Group("clip_grad_value", [("grads", 8), ("returns None", 2)], run_clip_value),
    Group("hidden_jacobian_norms", [("norms", 20)], run_jacobian),
    Group("truncated_bptt_grads", [("loss", 8), ("dW_embed", 5), ("dWx", 6), ("dWh", 7), ("db", 5),
                                   ("dW_out", 5), ("db_out", 4), ("h_last", 5)], run_tbptt, needs=("rnn_bptt",)),
]
