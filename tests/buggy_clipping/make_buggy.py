"""Writes one buggy submission of assignment clipping_tbptt per known mistake: correct.py, one patch each.

Run `python tests/buggy_clipping/make_buggy.py` after changing correct.py or a patch;
tests/test_clipping_assignment.py fails when a committed file differs from what this script writes.
Each entry: the patches (old -> new, each old must occur exactly once), the groups that must fail,
and a phrase of the hint that must appear.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from buggy_patching import patch_source, write_all  # noqa: E402

MISTAKES = {
    "squared_norm": dict(
        doc="the norm without its square root (the slide's np.sum(grad * grad))",
        patches=[("total = np.sqrt(sum(np.sum(g * g) for g in grads.values()))",
                  "total = sum(np.sum(g * g) for g in grads.values())")],
        fails={"clip_grad_norm"}, hint="np.sum(g * g) alone is its square"),
    "per_array_norm": dict(
        doc="each array clipped by its own norm instead of one global norm",
        patches=[("        for name in grads:\n            grads[name] *= max_norm / total\n",
                  "        for name in grads:\n            own = np.sqrt(np.sum(grads[name] ** 2))\n"
                  "            if own > max_norm:\n                grads[name] *= max_norm / own\n")],
        fails={"clip_grad_norm"}, hint="ONE global norm"),
    "always_rescale": dict(
        doc="rescaled to max_norm even when the norm is below it",
        patches=[("    if total > max_norm:\n        for name in grads:", "    if True:\n        for name in grads:")],
        fails={"clip_grad_norm"}, hint="only rescale when the total norm is above max_norm"),
    "post_clip_norm": dict(
        doc="returns the norm after clipping",
        patches=[("            grads[name] *= max_norm / total\n    return total",
                  "            grads[name] *= max_norm / total\n    return min(total, max_norm)")],
        fails={"clip_grad_norm"}, hint="return the norm BEFORE clipping"),
    "norm_not_in_place": dict(
        doc="clip_grad_norm clips a copy (g = g * scale) and leaves grads unchanged",
        patches=[("        for name in grads:\n            grads[name] *= max_norm / total\n",
                  "        for g in grads.values():\n            g = g * (max_norm / total)\n")],
        fails={"clip_grad_norm"}, hint="clip the arrays in place"),
    "value_not_in_place": dict(
        doc="np.clip without writing the result back",
        patches=[("np.clip(g, -clip_value, clip_value, out=g)", "g = np.clip(g, -clip_value, clip_value)")],
        fails={"clip_grad_value"}, hint="np.clip returns a new array"),
    "value_returns_grads": dict(
        doc="clip_grad_value returns the dict instead of None",
        patches=[("        np.clip(g, -clip_value, clip_value, out=g)\n",
                  "        np.clip(g, -clip_value, clip_value, out=g)\n    return grads\n")],
        fails={"clip_grad_value"}, hint="return None"),
    "jacobian_no_tanh": dict(
        doc="Jacobian norms without the tanh derivative",
        patches=[("J = J @ ((1 - hs[t][n] ** 2)[:, None] * Wh.T)", "J = J @ Wh.T")],
        fails={"hidden_jacobian_norms"}, hint="without the tanh derivative"),
    "tbptt_leak": dict(
        doc="the gradient leaks across chunk boundaries (full BPTT)",
        patches=[("    N, T = x.shape\n", "    N, T = x.shape\n    k = T\n")],
        fails={"truncated_bptt_grads"}, hint="yours looks like full BPTT"),
    "tbptt_reset": dict(
        doc="the hidden state is reset to h0 at every chunk",
        patches=[("hs, rnn_cache = rnn_forward(emb, h, ", "hs, rnn_cache = rnn_forward(emb, h0, ")],
        fails={"truncated_bptt_grads"}, hint="every chunk starts again from h0"),
}


def buggy_source(name: str) -> str:
    return patch_source(HERE / "correct.py", name, MISTAKES[name])


def main() -> None:
    write_all(HERE, MISTAKES, buggy_source)


if __name__ == "__main__":
    main()
