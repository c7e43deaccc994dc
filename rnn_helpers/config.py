"""Quick mode and seeds: one switch every notebook and script honours.

Quick mode (``RNN_QUICK=1``) shrinks training runs so that every notebook runs in
seconds on a 2-core CPU; it is what the tests use. Full mode is the default.
"""

from __future__ import annotations

import os
import random

QUICK_ENV = "RNN_QUICK"


def is_quick() -> bool:
    """True when the environment asks for quick mode (RNN_QUICK set to 1/true/yes)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def quick_or_full(quick, full):
    """Return `quick` in quick mode and `full` otherwise: ``steps = quick_or_full(50, 20_000)``."""
    return quick if is_quick() else full


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and (if installed) PyTorch's generators."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)
