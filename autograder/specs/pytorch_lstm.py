"""Assignment `pytorch_lstm`: an LSTM module in PyTorch (lecture layout) and beam search.

Graded: `class LSTM(nn.Module)` (forward values for one and two layers, and the gradients autograd
gets through it) and `beam_search`; 100 points. This is a PyTorch assignment, so the worker does not
block torch (BLOCKED_IMPORTS) and imports it before its audit hook (PRELOAD). A submitted class cannot
cross the process boundary, so HARNESS, grader code run after the submission's cells, builds the
student's module in the worker, copies the grader's weights into its parameters BY NAME (Wx_l, Wh_l,
b_l: the names are part of the assignment), runs it in float64 and sends back plain arrays; for beam
search it builds the step functions over the grader's tables. References: nn.LSTM with converted
weights, and beam search checked by exhaustive enumeration (`references.torch_modules`).
"""

from __future__ import annotations

import re

import numpy as np

from .. import feedback
from ..checks import check_array
from ..references import pytorch_lstm_mistakes as mk
from ..references import torch_modules as ref
from ..runner import DEFAULT_BLOCKED
from .common import HARNESS_HELPERS, Case, Ctx, Group, Outcome, first_failure
from .lstm import gate_note

ASSIGNMENT = "pytorch_lstm"
TITLE = "Assignment 5: an LSTM module in PyTorch, and beam search"
NOTEBOOK = "05_pytorch_lstm.ipynb"  # the student notebook's file name (bundles and messages use it)
BLOCKED_IMPORTS = DEFAULT_BLOCKED - {"torch"}
PRELOAD = ("torch",)
LSTM_RUN = "_grader_pytorch_lstm_run"
BEAM_RUN = "_grader_beam_search_run"

HARNESS = HARNESS_HELPERS + r'''
import numpy as _grader_np
import torch as _grader_torch
from torch.overrides import TorchFunctionMode as _GraderTorchFunctionMode


class _GraderNoBuiltinRecurrence(_GraderTorchFunctionMode):
    """Refuses PyTorch's own LSTM/GRU/RNN kernels while the student's module runs."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if any(k in name.lower() for k in ("lstm", "gru", "rnn_tanh", "rnn_relu")):
            raise RuntimeError(f"LSTM.forward calls PyTorch's built-in recurrence ({name}); write the loop "
                               "over time steps yourself with matrix products and element-wise functions")
        return func(*args, **(kwargs or {}))


def _grader_pytorch_lstm_run(input_size, hidden_size, num_layers, params, x, state, douts):
    torch = _grader_torch
    cls = globals().get("LSTM")
    if not isinstance(cls, type):
        return {"error": "LSTM is not defined in the submission: write class LSTM(nn.Module)"}
    try:
        model = cls(input_size, hidden_size, num_layers=num_layers)
    except BaseException as exc:
        return _grader_failed("LSTM.__init__", exc)
    call = f"LSTM({input_size}, {hidden_size}, num_layers={num_layers})"
    if not isinstance(model, torch.nn.Module):
        return {"error": f"{call} is a {type(model).__name__}, not a torch.nn.Module (class LSTM(nn.Module))"}
    for sub in model.modules():
        if isinstance(sub, (torch.nn.RNNBase, torch.nn.RNNCellBase)):
            return {"error": f"{call} contains a torch.nn.{type(sub).__name__}; write the recurrence yourself "
                             "with your own parameters Wx_l, Wh_l, b_l"}
    model = model.double()
    named = dict(model.named_parameters())
    expected = [f"{k}_{l}" for l in range(num_layers) for k in ("Wx", "Wh", "b")]
    missing = [k for k in expected if k not in named]
    extra = [k for k in named if k not in expected]
    if missing or extra:
        got = ", ".join(named) or "none"
        return {"error": f"{call} must have exactly the parameters {', '.join(expected)} (nn.Parameter "
                         f"attributes with these names); it has {got}" + (f"; missing {', '.join(missing)}" if missing else "")}
    for k in expected:
        shape = tuple(named[k].shape)
        if shape != tuple(params[k].shape):
            dims = {"Wx": "(D, 4H)" if k == "Wx_0" else "(H, 4H)", "Wh": "(H, 4H)", "b": "(4H,)"}[k.split("_")[0]]
            return {"error": f"{call}: parameter {k} has shape {shape}, expected {tuple(params[k].shape)} {dims}"}
    with torch.no_grad():
        for k in expected:
            named[k].copy_(torch.from_numpy(params[k]))
    xt = torch.tensor(x, requires_grad=True)
    args = (xt,)
    if state is not None:
        h0 = torch.tensor(state[0], requires_grad=True)
        c0 = torch.tensor(state[1], requires_grad=True)
        args = (xt, (h0, c0))
    try:
        with _GraderNoBuiltinRecurrence():
            result = model(*args)
    except BaseException as exc:
        return _grader_failed("LSTM.forward", exc)
    ok = (isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[1], (tuple, list))
          and len(result[1]) == 2)
    if not ok:
        return {"error": f"LSTM.forward should return (out, (h_n, c_n)) like nn.LSTM, got {type(result).__name__}"}
    out, (h_n, c_n) = result
    reply = {}
    for name, t in (("out", out), ("h_n", h_n), ("c_n", c_n)):
        if not isinstance(t, torch.Tensor):
            return {"error": f"LSTM.forward: {name} is a {type(t).__name__}, not a torch.Tensor"}
        reply[name] = t.detach().cpu().numpy().copy()
    try:
        loss = sum((t * torch.from_numpy(d)).sum() for t, d in zip((out, h_n, c_n), douts))
        if not loss.requires_grad:
            reply["backward_error"] = ("no gradient flows back through LSTM.forward: compute with the tensors and "
                                       "Parameters themselves (not NumPy, .detach(), .data or .item())")
            return reply
        loss.backward()
    except BaseException as exc:
        reply["backward_error"] = f"backpropagating through your forward failed: {type(exc).__name__}: {str(exc)[:800]}"
        return reply
    grads = {"dx": xt.grad}
    if state is not None:
        grads["dh0"], grads["dc0"] = h0.grad, c0.grad
    for k in expected:
        grads["d" + k] = named[k].grad
    for k, g in grads.items():
        reply[k] = None if g is None else g.detach().cpu().numpy().copy()
    return reply


def _grader_beam_search_run(table, order, start_state, start_token, end_token, beam_width, max_len):
    fn = globals().get("beam_search")
    if not callable(fn):
        return {"error": "beam_search is not defined in the submission"}
    V = table.shape[-1]
    seen = {"calls": 0, "after_end": False}

    def step_fn(token, state):
        seen["calls"] += 1
        if seen["calls"] > 200000:
            raise RuntimeError("step_fn was called more than 200000 times")
        t = int(token)
        if not 0 <= t < V:
            raise IndexError(f"step_fn got token {t}, outside the vocabulary 0..{V - 1}")
        if t == end_token:
            seen["after_end"] = True  # extending a finished hypothesis
        if order == 1:
            return table[int(state), t].copy(), int(state) + 1
        return table[int(state[0]), int(state[1]), t].copy(), (int(state[0]) + 1, t)

    try:
        result = fn(step_fn, start_state, start_token, end_token, beam_width, max_len)
    except BaseException as exc:
        return _grader_failed("beam_search", exc)
    hyps = []
    try:
        for item in result:
            seq, lp = item
            hyps.append(([int(t) for t in seq], float(lp)))
    except Exception as exc:
        return {"error": "beam_search must return a list of (sequence, log_prob) pairs, a sequence being a list "
                         f"of ints: {type(exc).__name__}: {exc}"}
    return {"hyps": hyps, "after_end": seen["after_end"], "calls": seen["calls"]}
'''


# ---------------------------------------------------------------- calling the harness

def _call(ctx: Ctx, name: str, *args) -> tuple[dict | None, str]:
    result = ctx.sub.call(name, *args)
    if not result.ok:
        if result.kind == "missing":
            return None, (f"the grader could not drive your notebook ({result.error}); the grader's own cell "
                          "failed, which is a grader problem: please report it")
        result.error = re.sub(r" \(cell grader:\d+, line \d+\)$", "", result.error or "")
        what = "LSTM" if name == LSTM_RUN else "beam_search"
        return None, feedback.call_failure(what, result, ctx.cell_errors)
    value = result.value
    if not isinstance(value, dict):
        return None, "internal: the grader's harness returned no result"
    if "error" in value:
        return None, str(value["error"])
    return value, ""


# ---------------------------------------------------------------- the LSTM module

def lstm_shapes(rng):
    """(N, T, D, H): the general case (N, T > 1, H != D), N = T = 1, and N = 1 with D = H."""
    D = int(rng.integers(2, 6))
    H = int(rng.choice([h for h in range(2, 6) if h != D]))
    D1 = int(rng.integers(2, 5))
    H1 = int(rng.choice([h for h in range(2, 5) if h != D1]))
    S = int(rng.integers(2, 5))
    return [(int(rng.integers(2, 5)), int(rng.integers(3, 6)), D, H), (1, 1, D1, H1),
            (1, int(rng.integers(2, 5)), S, S)]


def lstm_cases(rng, num_layers: int) -> list[Case]:
    """Every shape with an initial state and without (zeros); inputs (D, H, L, params, x, state)."""
    cases = []
    for N, T, D, H in lstm_shapes(rng):
        for with_state in (True, False):
            params = {}
            for l in range(num_layers):
                D_l = D if l == 0 else H
                params[f"Wx_{l}"] = rng.standard_normal((D_l, 4 * H)) * 0.5
                params[f"Wh_{l}"] = rng.standard_normal((H, 4 * H)) * 0.4
                params[f"b_{l}"] = rng.standard_normal(4 * H) * 0.3
            x = rng.standard_normal((N, T, D))
            state = None
            if with_state:
                state = (rng.standard_normal((num_layers, N, H)) * 0.5, rng.standard_normal((num_layers, N, H)))
            douts = (rng.standard_normal((N, T, H)), rng.standard_normal((num_layers, N, H)),
                     rng.standard_normal((num_layers, N, H)))
            lab = f"num_layers={num_layers}, N={N}, T={T}, D={D}, H={H}, " + \
                ("state given" if with_state else "state=None")
            cases.append(Case(lab, (D, H, num_layers, params, x, state), dout=douts))
    return cases


H_GATE_ORDER = ("the 4H axis of Wx_l, Wh_l and b_l holds the gates in the lecture's order i, f, o, g; "
                "yours reads them in PyTorch's order i, f, g, o.")
H_FEED_INPUT = "layer l > 0 must read the outputs of layer l-1 (N, T, H), not the input x."
H_LAYER0 = "each layer l starts from its own initial state h0[l], c0[l]; yours looks like every layer uses h0[0], c0[0]."
H_CHAIN = ("each layer l starts from its own initial state h0[l], c0[l] (zeros by default), not from the final "
           "state of layer l-1.")
H_IGNORES_STATE = "the given state (h0, c0) must be the starting state; yours looks like it starts from zeros."
H_DTYPE = ("create the zero state with x.new_zeros(...) (or dtype=x.dtype, device=x.device) so it has x's dtype "
           "and device; the grader runs your module in float64.")
H_SHAPES = "layer 0's Wx_0 is (D, 4H) and layer l > 0's Wx_l is (H, 4H): layer l > 0 reads layer l-1's outputs."


def lstm_signatures(case: Case) -> list[tuple[str, dict]]:
    D, H, L, params, x, state = case.inputs
    variants = [(H_GATE_ORDER, dict(gate_order="ifgo"))]
    if L > 1:
        if D == H:
            variants.append((H_FEED_INPUT, dict(feed="input")))
        variants.append((H_CHAIN, dict(init="chain")))
        if state is not None:
            variants.append((H_LAYER0, dict(init="layer0")))
    sigs = [(hint, ref.lstm(x, params, L, state, **kw)) for hint, kw in variants]
    if state is not None:
        sigs.append((H_IGNORES_STATE, ref.lstm(x, params, L, None)))
    return sigs


def _error_hint(message: str, num_layers: int) -> str:
    low = message.lower()
    if "dtype" in low or ("double" in low and "float" in low):
        return " Hint: " + H_DTYPE
    if num_layers > 1 and ("shape" in low or "size" in low) and "LSTM.forward raised" in message:
        return " Hint: " + H_SHAPES
    return ""


def run_lstm_forward(ctx: Ctx, num_layers: int) -> dict[str, Outcome]:
    names = {"out": "(N, T, H)", "h_n": "(num_layers, N, H)", "c_n": "(num_layers, N, H)"}
    outcomes = {k: Outcome(True) for k in names}
    for case in lstm_cases(ctx.rng, num_layers):
        D, H, L, params, x, state = case.inputs
        value, msg = _call(ctx, LSTM_RUN, D, H, L, params, x, state, case.dout)
        if msg:
            return {k: Outcome(False, f"[{case.label}] {msg}{_error_hint(msg, L)}") for k in names}
        expected = ref.lstm(x, params, L, state)
        sigs = None
        for k, dims in names.items():
            chk = check_array(value[k], expected[k], k, dims=dims)
            if chk.ok or not outcomes[k].ok:
                continue
            lines = [f"[{case.label}] {chk.message}"]
            if k == "out" and chk.comparable:
                lines.append(feedback.forward_steps_note("out", value[k], expected[k]))
            if chk.comparable:
                sigs = lstm_signatures(case) if sigs is None else sigs
                lines.append(feedback.match_hint(value[k], [(h, s[k]) for h, s in sigs]))
            first_failure(outcomes, k, " ".join(x for x in lines if x))
    return outcomes


GRAD_OUTPUTS = {"dx": "(N, T, D)", "dh0 and dc0": "(num_layers, N, H)", "dWx": "(D_l, 4H)", "dWh": "(H, 4H)",
                "db": "(4H,)"}


def run_lstm_gradients(ctx: Ctx) -> dict[str, Outcome]:
    outcomes = {k: Outcome(True) for k in GRAD_OUTPUTS}
    for case in lstm_cases(ctx.rng, 1) + lstm_cases(ctx.rng, 2):
        D, H, L, params, x, state = case.inputs
        value, msg = _call(ctx, LSTM_RUN, D, H, L, params, x, state, case.dout)
        if not msg and value.get("backward_error"):
            msg = str(value["backward_error"])
        if msg:
            for k in GRAD_OUTPUTS:
                first_failure(outcomes, k, f"[{case.label}] {msg}{_error_hint(msg, L)}")
            break
        expected = ref.lstm(x, params, L, state, case.dout)
        sigs = None
        fwd_bad = [k for k in ("out", "h_n", "c_n")
                   if not check_array(value[k], expected[k], k).ok]
        checks = [("dx", "dx", "(N, T, D)")]
        if state is not None:
            checks += [("dh0 and dc0", "dh0", "(num_layers, N, H)"), ("dh0 and dc0", "dc0", "(num_layers, N, H)")]
        for l in range(L):
            checks += [("dWx", f"dWx_{l}", "(D, 4H)" if l == 0 else "(H, 4H)"), ("dWh", f"dWh_{l}", "(H, 4H)"),
                       ("db", f"db_{l}", "(4H,)")]
        for out_name, key, dims in checks:
            if not outcomes[out_name].ok:
                continue
            got = value.get(key)
            if got is None:
                param = key[1:]
                where = "x" if key == "dx" else param if param.startswith(("W", "b")) else key[1:]
                first_failure(outcomes, out_name, f"[{case.label}] no gradient reached {where}: the output must "
                                                  f"be computed from it with differentiable torch operations")
                continue
            chk = check_array(got, expected[key], key, dims=dims)
            if chk.ok:
                continue
            lines = [f"[{case.label}] {chk.message}"]
            if chk.comparable and out_name in ("dWx", "dWh", "db"):
                lines.append(gate_note(key, got, expected[key], ("i", "f", "o", "g")))
            if fwd_bad:
                lines.append(f"Your forward is already wrong ({', '.join(fwd_bad)}); fix it first.")
                sigs = lstm_signatures(case) if sigs is None else sigs
                k = fwd_bad[0]
                lines.append(feedback.match_hint(value[k], [(h, s[k]) for h, s in sigs]))
            first_failure(outcomes, out_name, " ".join(x for x in lines if x))
    return outcomes


# ---------------------------------------------------------------- beam search

def random_table(rng, V: int, order: int, end_token: int, max_len: int) -> np.ndarray:
    """Log-probabilities (max_len, V, V) or (max_len, V + 1, V, V) for `ref.table_step_fn`: random
    scores, the end token a little likelier."""
    shape = (max_len, V, V) if order == 1 else (max_len, V + 1, V, V)
    scores = rng.standard_normal(shape) * 1.5
    scores[..., end_token] += 0.5
    return scores - np.log(np.exp(scores).sum(axis=-1, keepdims=True))


def beats_greedy_table() -> np.ndarray:
    """The hand-built example (as in the notebook): tokens 0 <s>, 1 a, 2 b, 3 c, 4 </s>. Greedy takes
    'a' (0.5) and then ends (0.4): 0.20; the best sequence takes 'b' (0.4) and then ends (0.9): 0.36."""
    p = np.array([
        [0.01, 0.50, 0.40, 0.08, 0.01],  # after <s>
        [0.01, 0.20, 0.20, 0.19, 0.40],  # after a: nothing stands out
        [0.01, 0.03, 0.03, 0.03, 0.90],  # after b: almost surely the end
        [0.01, 0.30, 0.30, 0.08, 0.31],  # after c
        [0.20, 0.20, 0.20, 0.20, 0.20],  # after </s> (never used)
    ])
    return np.log(np.broadcast_to(p, (4, 5, 5)))  # the same at every position (max_len = 4)


def beam_case(table, order, start_token, end_token, beam_width, max_len, label):
    return Case(label, (table, order, ref.start_state(table, order), start_token, end_token, beam_width, max_len))


def _random_beam_case(rng, width, V_range=(3, 6), len_range=(3, 6), order=None):
    V = int(rng.integers(*V_range))
    order = int(rng.integers(1, 3)) if order is None else order
    end, start = (int(t) for t in rng.choice(V, size=2, replace=False))
    max_len = int(rng.integers(*len_range))
    lab = f"V={V}, {'first' if order == 1 else 'second'}-order table, beam_width={width}, max_len={max_len}"
    return beam_case(random_table(rng, V, order, end, max_len), order, start, end, width, max_len, lab)


def beam_cases(rng) -> dict[str, list[Case]]:
    exhaustive = []
    for order in (1, 2):
        V, max_len = 3, 3
        end, start = (int(t) for t in rng.choice(V, size=2, replace=False))
        table = random_table(rng, V, order, end, max_len)
        step_fn, s0 = ref.table_step_fn(table, order), ref.start_state(table, order)
        width = len(ref.all_sequences(step_fn, s0, start, end, max_len)) + int(rng.integers(0, 3))
        lab = f"V={V}, {'first' if order == 1 else 'second'}-order table, beam_width={width} (every sequence), max_len={max_len}"
        exhaustive.append(beam_case(table, order, start, end, width, max_len, lab))
    return {
        "width 1 is greedy": [_random_beam_case(rng, 1, order=o) for o in (1, 2, 1)],
        "beats greedy": [beam_case(beats_greedy_table(), 1, 0, 4, w, 4, f"the hand-built table, beam_width={w}, max_len=4")
                         for w in (2, 3)],
        "exhaustive": exhaustive,
        "narrow beams": [_random_beam_case(rng, w, (4, 6), (4, 6), o) for w, o in ((2, 1), (3, 2), (2, 2))],
    }


def _fmt(hyps, n=4) -> str:
    shown = ", ".join(f"({seq}, {lp:.4f})" for seq, lp in hyps[:n])
    return "[" + shown + (", ...]" if len(hyps) > n else "]")


H_PER_BEAM = ("the candidates of ALL hypotheses compete together: pool every extension of every unfinished "
              "hypothesis and keep the beam_width best overall; yours looks like it keeps each hypothesis's own "
              "best extension.")
H_NO_STOP = ("a hypothesis that ends with end_token is finished: carry it over unchanged and never extend it "
             "(step_fn must not be called with end_token).")
H_MULTIPLY = ("log-probabilities add up: a sequence's log_prob is the SUM of its steps' log-probs (yours look "
              "multiplied).")
H_START = "sequences start AFTER start_token: do not include start_token."
H_NO_END = "a finished sequence includes its end_token as the last token."


def beam_hint(case: Case, hyps, after_end: bool) -> str:
    table, order, s0, start, end, width, max_len = case.inputs
    step_fn = ref.table_step_fn(table, order)
    expected = ref.beam_search(step_fn, s0, start, end, width, max_len)
    seqs = [seq for seq, _ in hyps]
    exp_seqs = [seq for seq, _ in expected]
    if after_end or any(end in seq[:-1] for seq in seqs):
        return "Hint: " + H_NO_STOP
    if seqs and all(seq[:1] == [start] for seq in seqs) and [seq[1:] for seq in seqs] == exp_seqs:
        return "Hint: " + H_START
    if seqs == [seq[:-1] if seq[-1:] == [end] else seq for seq in exp_seqs]:
        return "Hint: " + H_NO_END
    if hyps and all(_valid(seq, table.shape[-1], max_len) for seq in seqs):
        for combine in ("prod_log", "prod_prob"):
            want = [ref.sequence_log_prob(step_fn, s0, start, seq, combine) for seq in seqs]
            if np.allclose([lp for _, lp in hyps], want, rtol=1e-9, atol=1e-12):
                return "Hint: " + H_MULTIPLY
    per_beam = mk.beam_search_variant(step_fn, s0, start, end, width, max_len, per_beam=True)
    if [seq for seq, _ in per_beam] == seqs:
        return "Hint: " + H_PER_BEAM
    return ""


def _valid(seq, V: int, max_len: int) -> bool:
    return len(seq) <= max_len and all(isinstance(t, int) and 0 <= t < V for t in seq)


def compare_hyps(hyps, expected) -> str:
    """"" when the sequences are the expected ones in the expected order, else what differs."""
    seqs, exp = [s for s, _ in hyps], [s for s, _ in expected]
    if seqs == exp:
        return ""
    if len(seqs) != len(exp):
        return (f"returned {len(seqs)} hypotheses, expected {len(exp)} (beam_width of them, or every sequence "
                f"there is when there are fewer): got {_fmt(hyps)}, expected {_fmt(expected)}")
    if sorted(seqs) == sorted(exp):
        return (f"the right hypotheses, in the wrong order: sort them by log_prob, best first; got {_fmt(hyps)}, "
                f"expected {_fmt(expected)}")
    i = next(k for k in range(len(seqs)) if seqs[k] != exp[k])
    return (f"hypothesis {i} (0 = best) is {seqs[i]}, expected {exp[i]}; got {_fmt(hyps)}, "
            f"expected {_fmt(expected)}")


def run_beam(ctx: Ctx) -> dict[str, Outcome]:
    groups = beam_cases(ctx.rng)
    outcomes = {k: Outcome(True) for k in (*groups, "log_probs")}
    for out_name, cases in groups.items():
        for case in cases:
            table, order, s0, start, end, width, max_len = case.inputs
            value, msg = _call(ctx, BEAM_RUN, *case.inputs)
            if msg:
                first_failure(outcomes, out_name, f"[{case.label}] {msg}")
                first_failure(outcomes, "log_probs", f"[{case.label}] {msg}")
                break
            hyps = value["hyps"]
            step_fn = ref.table_step_fn(table, order)
            if out_name == "width 1 is greedy":
                expected = [ref.greedy(step_fn, s0, start, end, max_len)]
            elif out_name == "exhaustive":
                expected = ref.all_sequences(step_fn, s0, start, end, max_len)[:width]
            else:
                expected = ref.beam_search(step_fn, s0, start, end, width, max_len)
            problem = compare_hyps(hyps, expected)
            if problem:
                hint = beam_hint(case, hyps, bool(value.get("after_end")))
                first_failure(outcomes, out_name, f"[{case.label}] {problem} {hint}".strip())
            for seq, lp in hyps:  # every returned log_prob is its sequence's sum of step log-probs
                true = ref.sequence_log_prob(step_fn, s0, start, seq) if _valid(seq, table.shape[-1], max_len) else None
                if true is None or abs(lp - true) > 1e-9 * max(1.0, abs(true)):
                    hint = ""
                    for combine in ("prod_log", "prod_prob") if true is not None else ():
                        alt = ref.sequence_log_prob(step_fn, s0, start, seq, combine)
                        if abs(lp - alt) <= 1e-9 * max(1.0, abs(alt)):
                            hint = " Hint: " + H_MULTIPLY
                    got = f"{lp:.10g}" if true is not None else \
                        f"a sequence longer than max_len={max_len} or with tokens outside the vocabulary"
                    want = "" if true is None else f", expected {true:.10g} (the sum of the step log-probs of its tokens)"
                    first_failure(outcomes, "log_probs", f"[{case.label}] the log_prob of {seq} is {got}{want}{hint}")
                    break
    return outcomes


GROUPS = [
    Group("LSTM", [("out", 10), ("h_n", 5), ("c_n", 5)], lambda ctx: run_lstm_forward(ctx, 1),
          doc="one layer: out, h_n, c_n equal nn.LSTM's with the converted weights"),
    Group("LSTM multilayer", [("out", 8), ("h_n", 6), ("c_n", 6)], lambda ctx: run_lstm_forward(ctx, 2),
          doc="two layers"),
    Group("LSTM gradients", [(k, 6) for k in GRAD_OUTPUTS], run_lstm_gradients,
          doc="autograd through your forward equals autograd through nn.LSTM (random upstream gradients)"),
    Group("beam_search", [("width 1 is greedy", 6), ("beats greedy", 6), ("exhaustive", 8), ("narrow beams", 6),
                          ("log_probs", 4)], run_beam),
]
