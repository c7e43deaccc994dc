"""Plotting helpers with one consistent style for the book and the notebooks."""

from __future__ import annotations

import numpy as np


def smooth(values, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average of a 1-D sequence (for noisy loss curves), bias-corrected."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    avg = 0.0
    for i, v in enumerate(values):
        avg = weight * avg + (1 - weight) * v
        out[i] = avg / (1 - weight ** (i + 1))
    return out


def plot_loss(losses, *, ax=None, title: str = "Training loss", ylabel: str = "loss (nats per character)",
              xlabel: str = "training step", smooth_weight: float | None = 0.9, label: str | None = None):
    """Plot a loss curve (raw, faint; smoothed, solid) and return the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    losses = np.asarray(losses, dtype=np.float64)
    steps = np.arange(1, len(losses) + 1)
    if smooth_weight is None or len(losses) < 3:
        ax.plot(steps, losses, label=label)
    else:
        (line,) = ax.plot(steps, losses, alpha=0.25)
        ax.plot(steps, smooth(losses, smooth_weight), color=line.get_color(), label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if label is not None:
        ax.legend()
    return ax
