"""The course autograder: grades NumPy assignment notebooks against its own PyTorch references.

Run it as ``python -m autograder grade PATH`` (or the ``rnn-grade`` console script).
Submission code never runs in this process: see `autograder.runner`.
"""
