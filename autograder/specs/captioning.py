"""Assignment `captioning`: the teacher-forced captioning loss and one decoding step, in PyTorch.

Two graded functions, 100 points: `captioning_loss(model, images, captions)` (its value and the
gradients autograd gets through it) and `decode_step(model, token, state)`. A model cannot cross the
process boundary, so the grader sends a small config and weight arrays; HARNESS, grader code run
after the submission's cells, rebuilds the course's `CaptionModel` (rnn_helpers.captioning) in
float64 in the worker, calls the student's function with it and sends back plain arrays. The
references (`references.captioning`) recompute the decoder from the raw weights.
"""

from __future__ import annotations

import re

import numpy as np

from ..checks import check_array, check_scalar
from ..feedback import match_hint
from ..references import captioning as ref
from ..runner import DEFAULT_BLOCKED
from .common import HARNESS_HELPERS, Case, Ctx, Group, Outcome, first_failure

ASSIGNMENT = "captioning"
TITLE = "Assignment 7: image captioning, teacher forcing and one decoding step"
NOTEBOOK = "07_captioning.ipynb"  # the student notebook's file name (bundles and messages use it)
BLOCKED_IMPORTS = DEFAULT_BLOCKED - {"torch"}
PRELOAD = ("torch",)
LOSS_RUN = "_grader_captioning_loss_run"
STEP_RUN = "_grader_decode_step_run"

HARNESS = HARNESS_HELPERS + r'''
import torch as _grader_torch


def _grader_caption_model(config, weights):
    from rnn_helpers.captioning import model_from_arrays
    return model_from_arrays(config, weights)  # float64, the course's CaptionModel


def _grader_captioning_loss_run(config, weights, images, captions):
    torch = _grader_torch
    fn = globals().get("captioning_loss")
    if not callable(fn):
        return {"error": "captioning_loss is not defined in the submission"}
    model = _grader_caption_model(config, weights)
    try:
        loss = fn(model, torch.tensor(images), torch.tensor(captions))
    except BaseException as exc:
        return _grader_failed("captioning_loss", exc)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        return {"error": f"captioning_loss should return a scalar tensor, got {type(loss).__name__}"
                         + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")}
    reply = {"loss": float(loss.detach().reshape(()))}
    if not loss.requires_grad:
        reply["backward_error"] = ("no gradient flows back through your loss: compute it with tensor operations "
                                   "(not NumPy, .item(), .detach() or .data)")
        return reply
    try:
        loss.reshape(()).backward()
    except BaseException as exc:
        reply["backward_error"] = f"backpropagating through your loss failed: {type(exc).__name__}: {str(exc)[:800]}"
        return reply
    reply["grads"] = {k: None if p.grad is None else p.grad.detach().numpy().copy()
                      for k, p in model.named_parameters()}
    return reply


def _grader_decode_step_run(config, weights, token, h, c):
    torch = _grader_torch
    fn = globals().get("decode_step")
    if not callable(fn):
        return {"error": "decode_step is not defined in the submission"}
    model = _grader_caption_model(config, weights)
    try:
        with torch.no_grad():
            result = fn(model, torch.tensor(token), (torch.tensor(h), torch.tensor(c)))
    except BaseException as exc:
        return _grader_failed("decode_step", exc)
    ok = isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[1], (tuple, list)) \
        and len(result[1]) == 2
    if not ok:
        return {"error": f"decode_step should return (log_probs, (h, c)), got {type(result).__name__}"}
    reply = {}
    for name, t in (("log_probs", result[0]), ("h", result[1][0]), ("c", result[1][1])):
        if not isinstance(t, torch.Tensor):
            return {"error": f"decode_step: {name} is a {type(t).__name__}, not a torch.Tensor"}
        reply[name] = t.detach().cpu().numpy().copy()
    return reply
'''


# ---------------------------------------------------------------- cases

def model_case(rng):
    """A small model (config dict, float64 weight arrays) drawn from the grader's generator."""
    from rnn_helpers.captioning import build_model, model_arrays

    E = int(rng.integers(3, 6))
    config = {"vocab_size": int(rng.integers(7, 11)), "embed_dim": E,
              "hidden_dim": int(rng.choice([h for h in range(3, 7) if h != E])),
              "feature_dim": int(rng.integers(4, 7)), "channels": [2, 3], "image_size": 8}
    weights = model_arrays(build_model(config, int(rng.integers(0, 2**31))))
    for k, scale in (("out.weight", 3.0), ("init_h.weight", 2.0), ("init_c.weight", 2.0), ("lstm.weight_hh", 2.0)):
        weights[k] = weights[k] * scale  # sharper distributions; the image and the past matter more
    return config, weights


def captions_array(rng, N: int, L: int, V: int, full_first: bool) -> np.ndarray:
    """(N, L) int64: <start>=1, words in 3..V-1, <end>=2, then <null>=0 padding."""
    caps = np.zeros((N, L), dtype=np.int64)
    for n in range(N):
        k = L - 2 if (full_first and n == 0) else int(rng.integers(1, L - 1))  # words in this caption
        caps[n, 0] = 1
        caps[n, 1:k + 1] = rng.integers(3, V, size=k)
        caps[n, k + 1] = 2
    return caps


def loss_cases(rng):
    cases = []
    for N, L in [(int(rng.integers(3, 5)), int(rng.integers(5, 8))), (1, 4), (int(rng.integers(2, 4)), 6)]:
        config, weights = model_case(rng)
        images = rng.standard_normal((N, 3, 8, 8))
        caps = captions_array(rng, N, L, config["vocab_size"], full_first=N > 1 or L == 4)
        cases.append(Case(f"N={N}, L={L}, V={config['vocab_size']}, E={config['embed_dim']}, "
                          f"H={config['hidden_dim']}", (config, weights, images, caps)))
    return cases


def step_cases(rng):
    cases = []
    for N in (int(rng.integers(2, 5)), 1, 3):
        config, weights = model_case(rng)
        H = config["hidden_dim"]
        token = rng.integers(0, config["vocab_size"], size=N).astype(np.int64)
        h, c = np.tanh(rng.standard_normal((N, H))), rng.standard_normal((N, H))
        cases.append(Case(f"N={N}, V={config['vocab_size']}, E={config['embed_dim']}, H={H}",
                          (config, weights, token, h, c)))
    return cases


# ---------------------------------------------------------------- hints

H_MASK = ("targets equal to <null> (padding) must add nothing to the loss; yours looks like it counts them "
          "(use ignore_index=NULL, or multiply by the mask targets != NULL).")
H_SHIFT = ("the targets are the NEXT words, captions[:, 1:], while the inputs are captions[:, :-1]; yours looks "
           "like it scores each step on the word it just read.")
H_SUM = "sum over the non-null targets, then divide by N (the number of captions); yours looks like it is not divided by N."
H_TOKENS = ("divide the summed cross-entropy by N, the number of captions, not by the number of non-null targets "
            "(F.cross_entropy's default reduction='mean' does the latter: use reduction='sum' and / N).")
H_NT = "divide by N, the number of captions, not by N * T."
H_ZEROS = ("the decoder must start from the image: (h0, c0) = model.init_state(model.encoder(images)); yours looks "
           "like it starts from zeros.")
H_PROBS = "decode_step must return LOG-probabilities (F.log_softmax); yours looks like probabilities (softmax)."
H_SCORES = "decode_step must return log-probabilities (F.log_softmax of model.out(h)); yours looks like the raw scores."
H_OLD = ("the distribution over the next word comes from the NEW hidden state, after model.lstm reads the token; "
         "yours looks computed from the state you were given.")
H_STALE = "return the NEW state (h, c) that model.lstm gives back, not the state you were given."
H_DTYPE = ("the grader runs your code in float64: create any new tensor with images.new_zeros(...) or "
           "dtype=images.dtype, or better, use only the model's own parts.")

LOSS_VARIANTS = [(H_MASK, dict(mask=False)), (H_SHIFT, dict(shift=False)), (H_SUM, dict(average="none")),
                 (H_TOKENS, dict(average="tokens")), (H_NT, dict(average="NT")), (H_ZEROS, dict(init="zeros")),
                 (H_MASK + " " + H_SUM, dict(mask=False, average="none"))]


def _call(ctx: Ctx, name: str, what: str, *args) -> tuple[dict | None, str]:
    from .. import feedback

    result = ctx.sub.call(name, *args)
    if not result.ok:
        if result.kind == "missing":
            return None, (f"the grader could not drive your notebook ({result.error}); the grader's own cell "
                          "failed, which is a grader problem: please report it")
        result.error = re.sub(r" \(cell grader:\d+, line \d+\)$", "", result.error or "")
        return None, feedback.call_failure(what, result, ctx.cell_errors)
    value = result.value
    if not isinstance(value, dict):
        return None, "internal: the grader's harness returned no result"
    if "error" in value:
        msg = str(value["error"])
        if "dtype" in msg.lower() or ("double" in msg.lower() and "float" in msg.lower()):
            msg += " Hint: " + H_DTYPE
        return None, msg
    return value, ""


# ---------------------------------------------------------------- groups

def run_loss(ctx: Ctx) -> dict[str, Outcome]:
    outcomes = {"loss": Outcome(True), "gradients": Outcome(True)}
    for case in loss_cases(ctx.rng):
        config, weights, images, caps = case.inputs
        value, msg = _call(ctx, LOSS_RUN, "captioning_loss", *case.inputs)
        if msg:
            return {k: Outcome(False, f"[{case.label}] {msg}") for k in outcomes}
        loss_ref, grads_ref = ref.captioning_loss(config, weights, images, caps)
        chk = check_scalar(value["loss"], loss_ref, "loss")
        if not chk.ok:
            got = np.asarray(value["loss"], dtype=np.float64).reshape(())
            sigs = [(h, np.asarray(ref.captioning_loss(config, weights, images, caps, **kw)[0]))
                    for h, kw in LOSS_VARIANTS]
            first_failure(outcomes, "loss", f"[{case.label}] {chk.message} {match_hint(got, sigs)}".strip())
        if "backward_error" in value:
            first_failure(outcomes, "gradients", f"[{case.label}] {value['backward_error']}")
            continue
        grads = value.get("grads") or {}
        for name, g_ref in grads_ref.items():
            g = grads.get(name)
            if g is None:
                first_failure(outcomes, "gradients", f"[{case.label}] no gradient reached model.{name}: the loss "
                                                     "must depend on it (through the encoder, init_state, embed, "
                                                     "lstm and out).")
                break
            gchk = check_array(g, g_ref, f"the gradient of model.{name}")
            if not gchk.ok:
                extra = "" if chk.ok else " (your loss value is already wrong; fix it first)"
                first_failure(outcomes, "gradients", f"[{case.label}] {gchk.message}{extra}")
                break
    return outcomes


def run_step(ctx: Ctx) -> dict[str, Outcome]:
    outcomes = {"log_probs": Outcome(True), "new_state": Outcome(True)}
    for case in step_cases(ctx.rng):
        config, weights, token, h, c = case.inputs
        value, msg = _call(ctx, STEP_RUN, "decode_step", *case.inputs)
        if msg:
            return {k: Outcome(False, f"[{case.label}] {msg}") for k in outcomes}
        expected = ref.decode_step(config, weights, token, h, c)
        chk = check_array(value["log_probs"], expected["log_probs"], "log_probs", dims="(N, V)")
        if not chk.ok:
            hint = ""
            if chk.comparable:
                sigs = [(H_PROBS, ref.decode_step(config, weights, token, h, c, output="probs")["log_probs"]),
                        (H_SCORES, ref.decode_step(config, weights, token, h, c, output="scores")["log_probs"]),
                        (H_OLD, ref.decode_step(config, weights, token, h, c, from_state="old")["log_probs"])]
                hint = match_hint(value["log_probs"], sigs)
            first_failure(outcomes, "log_probs", f"[{case.label}] {chk.message} {hint}".strip())
        for name in ("h", "c"):
            schk = check_array(value[name], expected[name], f"the new state's {name}", dims="(N, H)")
            if not schk.ok:
                stale = schk.comparable and match_hint(value[name], [(H_STALE, h if name == "h" else c)])
                first_failure(outcomes, "new_state", f"[{case.label}] {schk.message} {stale or ''}".strip())
                break
    return outcomes


GROUPS = [
    Group("captioning_loss", [("loss", 35), ("gradients", 15)], run_loss,
          doc="teacher-forced cross-entropy, <null> masked, summed and divided by N; autograd gradients"),
    Group("decode_step", [("log_probs", 30), ("new_state", 20)], run_step,
          doc="one decoder step: log-probabilities of the next word and the new (h, c)"),
]
