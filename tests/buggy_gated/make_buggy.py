"""Writes one buggy submission per known LSTM / GRU mistake: correct_<assignment>.py with textual patches.

Run `python tests/buggy_gated/make_buggy.py` after changing a correct file or a patch;
tests/test_gated_assignments.py fails when a committed file differs from what this script writes.
Each entry: the assignment, the patches (old -> new, each old must occur exactly once), the groups
that must fail, and a phrase of the hint that must appear in each of them.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from buggy_patching import patch_source, write_all  # noqa: E402
SIG_PRE_PATCHES = [
    ("cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tc)", "cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tc, a)"),
    ("x, prev_h, prev_c, Wx, Wh, i, f, o, g, tc = cache",
     "x, prev_h, prev_c, Wx, Wh, i, f, o, g, tc, a = cache\n    H = i.shape[1]"),
    ("dai = di * i * (1 - i)", "dai = di * a[:, 0:H] * (1 - a[:, 0:H])"),
    ("daf = df * f * (1 - f)", "daf = df * a[:, H:2 * H] * (1 - a[:, H:2 * H])"),
    ("dao = do * o * (1 - o)", "dao = do * a[:, 2 * H:3 * H] * (1 - a[:, 2 * H:3 * H])"),
]

MISTAKES = {
    "lstm_drop_next_c": dict(
        assignment="lstm", doc="lstm_backward drops the cell gradient from step t+1",
        patches=[("lstm_step_backward(dh[:, t] + dprev_h, dprev_c, caches[t])",
                  "lstm_step_backward(dh[:, t] + dprev_h, np.zeros((N, H)), caches[t])")],
        fails={"lstm_backward"}, hint="yours looks like it drops it"),
    "lstm_no_tanh_path": dict(
        assignment="lstm", doc="dc = dnext_c only, without the path through tanh(c_t)",
        patches=[("dc = dnext_c + dnext_h * o * (1 - tc**2)", "dc = dnext_c")],
        fails={"lstm_step_backward", "lstm_backward"}, hint="keeps only dnext_c"),
    "lstm_sigmoid_pre": dict(
        assignment="lstm", doc="sigmoid derivative a * (1 - a) from the pre-activation",
        patches=SIG_PRE_PATCHES,
        fails={"lstm_step_backward", "lstm_backward"}, hint="taken from the pre-activation"),
    "lstm_gate_order": dict(
        assignment="lstm", doc="gates sliced i, f, g, o (PyTorch's order) in forward and backward",
        patches=[("o = sigmoid(a[:, 2 * H:3 * H])", "o = sigmoid(a[:, 3 * H:4 * H])"),
                 ("g = np.tanh(a[:, 3 * H:4 * H])", "g = np.tanh(a[:, 2 * H:3 * H])"),
                 ("np.concatenate([dai, daf, dao, dag], axis=1)", "np.concatenate([dai, daf, dag, dao], axis=1)")],
        fails={"lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"},
        hint="sliced as i, f, g, o"),
    "lstm_c0_from_h0": dict(
        assignment="lstm", doc="lstm_forward starts the cell from h0 instead of zeros",
        patches=[("prev_h, prev_c = h0, np.zeros((N, H))", "prev_h, prev_c = h0, h0.copy()")],
        fails={"lstm_forward", "lstm_backward"}, hint="starts from h0"),
    "lstm_c0_gradient": dict(
        assignment="lstm", doc="lstm_backward also returns a gradient for c0",
        patches=[("    return dx, dh0, dWx, dWh, db", "    return dx, dh0, dprev_c, dWx, dWh, db")],
        fails={"lstm_backward"}, hint="no dc0 to return"),
    "torch_no_reorder": dict(
        assignment="lstm", doc="lstm_params_to_torch keeps the i, f, o, g order",
        patches=[("P = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]", "P = np.arange(4 * H)")],
        fails={"lstm_params_to_torch"}, hint="gate order is i, f, g, o"),
    "torch_bias_twice": dict(
        assignment="lstm", doc="lstm_params_to_torch puts b in both bias vectors",
        patches=[('"bias_hh_l0": np.zeros(4 * H)', '"bias_hh_l0": b[P]')],
        fails={"lstm_params_to_torch"}, hint="counts it twice"),
    "torch_not_transposed": dict(
        assignment="lstm", doc="lstm_params_to_torch does not transpose the weights",
        patches=[('"weight_ih_l0": Wx[:, P].T, "weight_hh_l0": Wh[:, P].T',
                  '"weight_ih_l0": Wx[:, P], "weight_hh_l0": Wh[:, P]')],
        fails={"lstm_params_to_torch"}, hint="did you transpose?"),
    "gru_z_old": dict(
        assignment="gru", doc="z weights the old state (nn.GRU's convention)",
        patches=[("next_h = (1 - z) * prev_h + z * n", "next_h = z * prev_h + (1 - z) * n"),
                 ("dz = dnext_h * (n - prev_h)", "dz = dnext_h * (prev_h - n)"),
                 ("dn = dnext_h * z", "dn = dnext_h * (1 - z)"),
                 ("dprev_h = dnext_h * (1 - z) + ", "dprev_h = dnext_h * z + ")],
        fails={"gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"}, hint="nn.GRU's convention"),
    "gru_reset_after": dict(
        assignment="gru", doc="the reset gate applied after the recurrent product (nn.GRU's form)",
        patches=[("n = np.tanh(ax[:, 2 * H:3 * H] + rh @ Wh[:, 2 * H:3 * H])",
                  "hn = prev_h @ Wh[:, 2 * H:3 * H]\n    n = np.tanh(ax[:, 2 * H:3 * H] + r * hn)"),
                 ("cache = (x, prev_h, Wx, Wh, z, r, n, rh)", "cache = (x, prev_h, Wx, Wh, z, r, n, hn)"),
                 ("x, prev_h, Wx, Wh, z, r, n, rh = cache", "x, prev_h, Wx, Wh, z, r, n, hn = cache"),
                 ("drh = dan @ Wh[:, 2 * H:3 * H].T\n    dr = drh * prev_h", "dhn = dan * r\n    dr = dan * hn"),
                 ("dnext_h * (1 - z) + drh * r + ", "dnext_h * (1 - z) + dhn @ Wh[:, 2 * H:3 * H].T + "),
                 ("rh.T @ dan", "prev_h.T @ dhn")],
        fails={"gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"}, hint="nn.GRU's form"),
    "gru_order_rz": dict(
        assignment="gru", doc="z and r blocks swapped (nn.GRU's r, z, n order)",
        patches=[("z = sigmoid(ax[:, 0:H] + prev_h @ Wh[:, 0:H])", "z = sigmoid(ax[:, H:2 * H] + prev_h @ Wh[:, H:2 * H])"),
                 ("r = sigmoid(ax[:, H:2 * H] + prev_h @ Wh[:, H:2 * H])", "r = sigmoid(ax[:, 0:H] + prev_h @ Wh[:, 0:H])"),
                 ("np.concatenate([daz, dar], axis=1)", "np.concatenate([dar, daz], axis=1)"),
                 ("np.concatenate([daz, dar, dan], axis=1)", "np.concatenate([dar, daz, dan], axis=1)")],
        fails={"gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"}, hint="swaps z and r"),
    "gru_drop_next": dict(
        assignment="gru", doc="the gradient from step t+1 is not added to step t",
        patches=[("gru_step_backward(dh[:, t] + dprev, caches[t])", "gru_step_backward(dh[:, t], caches[t])")],
        fails={"gru_backward"}, hint="drops the second term"),
}


def buggy_source(name: str) -> str:
    return patch_source(HERE / f"correct_{MISTAKES[name]['assignment']}.py", name, MISTAKES[name])


def main() -> None:
    write_all(HERE, MISTAKES, buggy_source)


if __name__ == "__main__":
    main()
