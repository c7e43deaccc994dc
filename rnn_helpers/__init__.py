"""Helpers shared by the course's notebooks and book pages.

- `rnn_helpers.config`    quick mode (RNN_QUICK=1) and seeds
- `rnn_helpers.devices`   pick CUDA, then MPS, then CPU
- `rnn_helpers.gradcheck` centred-difference gradient checks and relative errors
- `rnn_helpers.data`      the Shakespeare, Python-source and tiny corpora
- `rnn_helpers.plotting`  small plotting helpers with consistent style

Nothing here contains assignment solutions.
"""

from rnn_helpers.config import is_quick, quick_or_full, seed_everything

__all__ = ["is_quick", "quick_or_full", "seed_everything"]
