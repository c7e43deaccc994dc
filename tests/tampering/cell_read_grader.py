# Tampering: read the grader's references, or import the grader or torch (even past the import blocker).
import sys

stolen = {}
for attempt in (
    lambda: open("{{GRADER}}/references/rnn.py").read(),
    lambda: __import__("os").listdir("{{GRADER}}"),
    lambda: __import__("autograder.references"),
    lambda: __import__("torch"),
    lambda: (sys.meta_path.clear(), __import__("torch"))[1],
):
    try:
        stolen[len(stolen)] = attempt()
    except Exception as exc:
        print("blocked:", type(exc).__name__, exc)


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    import torch  # noqa: F401

    raise RuntimeError("torch should not have been importable")
