"""Writes one buggy submission per known mistake of assignment 5 (pytorch_lstm), patching correct.py.

Run `python tests/buggy_pytorch/make_buggy.py` after changing correct.py or a patch;
tests/test_pytorch_assignment.py fails when a committed file differs from what this script writes.
Each entry: the patches (old -> new, each old must occur exactly once), the test groups that must
fail (all others must pass), and a phrase of the hint that must appear in each failed group.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from buggy_patching import patch_source, write_all  # noqa: E402
BEAM = "beam_search"

MISTAKES = {
    "gate_order_ifgo": dict(
        doc="the 4H axis read in PyTorch's gate order i, f, g, o",
        patches=[("o = torch.sigmoid(a[:, 2 * H:3 * H])", "o = torch.sigmoid(a[:, 3 * H:4 * H])"),
                 ("g = torch.tanh(a[:, 3 * H:4 * H])", "g = torch.tanh(a[:, 2 * H:3 * H])")],
        fails={"LSTM", "LSTM multilayer", "LSTM gradients"}, hint="PyTorch's order i, f, g, o"),
    "layers_read_input": dict(
        doc="every layer reads the input x instead of the previous layer's outputs",
        patches=[("xw = layer_input @ Wx + b", "xw = x @ Wx + b")],
        fails={"LSTM multilayer", "LSTM gradients"}, hint="layer l > 0"),
    "state_chained_between_layers": dict(
        doc="layer l starts from layer l-1's final state instead of its own h0[l], c0[l]",
        patches=[("h, c = h0[l], c0[l]", "h, c = (h0[l], c0[l]) if l == 0 else (h, c)")],
        fails={"LSTM multilayer", "LSTM gradients"}, hint="not from the final state of layer l-1"),
    "state_layer0_everywhere": dict(
        doc="every layer starts from h0[0], c0[0]",
        patches=[("h, c = h0[l], c0[l]", "h, c = h0[0], c0[0]")],
        fails={"LSTM multilayer", "LSTM gradients"}, hint="every layer uses h0[0]"),
    "state_ignored": dict(
        doc="the given (h0, c0) is ignored: always zeros",
        patches=[("            h0, c0 = state\n", "            h0 = c0 = x.new_zeros(L, N, H)\n")],
        fails={"LSTM", "LSTM multilayer", "LSTM gradients"}, hint="starts from zeros"),
    "zero_state_float32": dict(
        doc="the default zero state made with torch.zeros (float32 whatever x is)",
        patches=[("h0 = c0 = x.new_zeros(L, N, H)", "h0 = c0 = torch.zeros(L, N, H)")],
        fails={"LSTM", "LSTM multilayer", "LSTM gradients"}, hint="x.new_zeros"),
    "uses_nn_lstm": dict(
        doc="wraps torch's own nn.LSTM instead of writing the recurrence",
        patches=[("        H = hidden_size\n", "        self.inner = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)\n"
                                                 "        H = hidden_size\n")],
        fails={"LSTM", "LSTM multilayer", "LSTM gradients"}, hint="torch.nn.LSTM"),
    "calls_builtin_in_forward": dict(
        doc="forward builds and runs an nn.LSTM on the fly (no submodule to spot)",
        patches=[("        N, T, _ = x.shape\n",
                  "        N, T, _ = x.shape\n        nn.LSTM(x.shape[-1], self.hidden_size, batch_first=True).to(x)(x)\n")],
        fails={"LSTM", "LSTM multilayer", "LSTM gradients"}, hint="built-in recurrence"),
    "beam_prunes_per_hypothesis": dict(
        doc="after the first step each hypothesis keeps only its own best extension",
        patches=[("for v in range(len(log_probs)):", "for v in (range(len(log_probs)) if not tokens else [int(np.argmax(log_probs))]):")],
        fails={BEAM}, hint="keeps each hypothesis's own best extension"),
    "beam_never_stops": dict(
        doc="a hypothesis ending with end_token is extended further",
        patches=[("return bool(tokens) and tokens[-1] == end_token", "return False")],
        fails={BEAM}, hint="never extend it"),
    "beam_multiplies": dict(
        doc="log-probs multiplied (starting from 1) instead of added",
        patches=[("beam = [([], 0.0, start_state)]", "beam = [([], 1.0, start_state)]"),
                 ("score + float(log_probs[v])", "score * float(log_probs[v])")],
        fails={BEAM}, hint="SUM of its steps' log-probs"),
    "beam_includes_start": dict(
        doc="sequences begin with start_token",
        patches=[("beam = [([], 0.0, start_state)]", "beam = [([start_token], 0.0, start_state)]"),
                 ("return [(tokens, score) for tokens, score, _ in beam]",
                  "return [(tokens, score) for tokens, score, _ in beam]  # start_token included")],
        fails={BEAM}, hint="do not include start_token"),
}


def buggy_source(name: str) -> str:
    return patch_source(HERE / "correct.py", name, MISTAKES[name])


def main() -> None:
    write_all(HERE, MISTAKES, buggy_source)


if __name__ == "__main__":
    main()
