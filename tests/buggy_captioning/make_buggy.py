"""Writes one buggy submission per known mistake: correct.py with one textual patch each.

Run `python tests/buggy_captioning/make_buggy.py` after changing correct.py or a patch;
tests/test_captioning.py fails when a committed file differs from what this script writes. Each entry:
the patches (old -> new, each old must occur exactly once), the groups that must fail, and a phrase of
the hint that must appear.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from buggy_patching import patch_source, write_all  # noqa: E402

MISTAKES = {
    "mask_ignored": dict(
        doc="<null> targets counted in the loss",
        patches=[('ignore_index=NULL, reduction="sum"', 'reduction="sum"')],
        fails={"captioning_loss"}, hint="counts them"),
    "not_shifted": dict(
        doc="targets are the words just read, captions[:, :-1]",
        patches=[("inputs, targets = captions[:, :-1], captions[:, 1:]",
                  "inputs, targets = captions[:, :-1], captions[:, :-1]")],
        fails={"captioning_loss"}, hint="NEXT words"),
    "not_averaged": dict(
        doc="the summed loss is not divided by N",
        patches=[("    return total / N", "    return total")],
        fails={"captioning_loss"}, hint="not divided by N"),
    "mean_over_tokens": dict(
        doc="averaged over the non-null targets (F.cross_entropy's default) instead of over N",
        patches=[("    return total / N", "    return total / (targets != NULL).sum()")],
        fails={"captioning_loss"}, hint="number of non-null targets"),
    "zeros_init": dict(
        doc="the decoder starts from zeros, not from the image",
        patches=[("h, c = model.init_state(model.encoder(images))",
                  "h = c = images.new_zeros((N, model.lstm.hidden_size))")],
        fails={"captioning_loss"}, hint="starts from zeros"),
    "probabilities": dict(
        doc="decode_step returns probabilities instead of log-probabilities",
        patches=[("torch.log_softmax(model.out(h), dim=1)", "torch.softmax(model.out(h), dim=1)")],
        fails={"decode_step"}, hint="looks like probabilities"),
    "stale_state": dict(
        doc="decode_step returns the state it was given",
        patches=[("return log_probs, (h, c)", "return log_probs, state")],
        fails={"decode_step"}, hint="NEW state"),
}


def buggy_source(name: str) -> str:
    return patch_source(HERE / "correct.py", name, MISTAKES[name])


def main() -> None:
    write_all(HERE, MISTAKES, buggy_source)


if __name__ == "__main__":
    main()
