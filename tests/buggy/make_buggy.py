"""Writes one buggy submission per known mistake: correct.py with one textual patch each.

Run `python tests/buggy/make_buggy.py` after changing correct.py or a patch; tests/test_feedback.py
fails when a committed file differs from what this script writes. Each entry: the file's name, the
patches (old -> new, each old must occur exactly once), the groups that must fail, and a phrase of
the hint that must appear.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from buggy_patching import patch_source, write_all  # noqa: E402

MISTAKES = {
    "drop_next": dict(
        doc="the gradient from step t+1 is not added to step t",
        patches=[("rnn_step_backward(dh[:, t] + dprev, caches[t])", "rnn_step_backward(dh[:, t], caches[t])")],
        fails={"rnn_backward"}, hint="drops the second term"),
    "tanh_pre": dict(
        doc="tanh' taken from the pre-activation (1 - a^2)",
        patches=[("cache = (x, prev_h, Wx, Wh, next_h)", "cache = (x, prev_h, Wx, Wh, x @ Wx + prev_h @ Wh + b)")],
        fails={"rnn_step_backward", "rnn_backward"}, hint="taken from the pre-activation"),
    "tanh_prev": dict(
        doc="tanh' taken from h_{t-1} instead of h_t",
        patches=[("da = dnext_h * (1 - next_h**2)", "da = dnext_h * (1 - prev_h**2)")],
        fails={"rnn_step_backward", "rnn_backward"}, hint="the previous hidden state"),
    "weights_last_step": dict(
        doc="shared-weight gradients from one step only (= instead of +=)",
        patches=[("dWx = dWx + dWx_t", "dWx = dWx_t"), ("dWh = dWh + dWh_t", "dWh = dWh_t"),
                 ("db = db + db_t", "db = db_t")],
        fails={"rnn_backward"}, hint="sums over t"),
    "dh0_zeros": dict(
        doc="dh0 missing (zeros)",
        patches=[("dh0 = dprev", "dh0 = np.zeros((N, H))")],
        fails={"rnn_backward"}, hint="yours is zero"),
    "dh0_last": dict(
        doc="dh0 equal to the last step's upstream gradient",
        patches=[("dh0 = dprev", "dh0 = dh[:, -1]")],
        fails={"rnn_backward"}, hint="dh[:, T-1]"),
    "softmax_no_average": dict(
        doc="softmax loss not averaged over N",
        patches=[("loss = -(np.log(picked) * m).sum() / N", "loss = -(np.log(picked) * m).sum()"),
                 ("dx *= m[..., None] / N", "dx *= m[..., None]")],
        fails={"temporal_softmax_loss"}, hint="not divided by N"),
    "softmax_mask_ignored": dict(
        doc="the mask is ignored",
        patches=[("m = mask.astype(np.float64)", "m = np.ones((N, T))")],
        fails={"temporal_softmax_loss"}, hint="ignores the mask"),
    "embedding_fancy_add": dict(
        doc="embedding backward with dW[x] += dout instead of np.add.at",
        patches=[("np.add.at(dW, x, dout)", "dW[x] += dout")],
        fails={"word_embedding_backward"}, hint="np.add.at"),
    "transposed_weights": dict(
        doc="weight gradients transposed",
        patches=[("dWx = x.T @ da", "dWx = da.T @ x"), ("dWh = prev_h.T @ da", "dWh = da.T @ prev_h")],
        fails={"rnn_step_backward", "rnn_backward"}, hint="transpose"),
    "shared_cache": dict(
        doc="a cache shared between calls (module-level global)",
        patches=[("    cache = (caches, D)\n", "    global _CACHE\n    _CACHE = cache = (caches, D)\n"),
                 ("    caches, D = cache\n", "    caches, D = _CACHE\n")],
        fails={"rnn_backward"}, hint="most recent forward call"),
}


def buggy_source(name: str) -> str:
    return patch_source(HERE / "correct.py", name, MISTAKES[name])


def main() -> None:
    write_all(HERE, MISTAKES, buggy_source)


if __name__ == "__main__":
    main()
