"""Figures. Each function returns a matplotlib Figure and touches no global pyplot state."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def plot_history(history: dict[str, Sequence[float]]) -> Figure:
    """Accuracy and loss side by side, train vs validation, epochs numbered from 1."""
    figure = Figure(figsize=(11, 4), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    for axes, metric, title in zip(
        figure.subplots(1, 2), ("accuracy", "loss"), ("Accuracy", "Loss (cross-entropy)")
    ):
        axes.plot(epochs, history[metric], marker="o", label="train")
        axes.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.set_xticks(epochs)
        axes.grid(alpha=0.3)
        axes.legend()
    return figure


def plot_digits(
    images: np.ndarray,
    labels: Sequence[int],
    count: int = 24,
    columns: int = 8,
    titles: Sequence[str] | None = None,
) -> Figure:
    """A grid of the first `count` uint8 images (N, 28, 28), each titled by its label."""
    count = min(count, len(images))
    rows = max(1, -(-count // columns))
    figure = Figure(figsize=(columns * 1.2, rows * 1.35), layout="constrained")
    grid = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
    for index, axes in enumerate(grid):
        axes.set_axis_off()
        if index < count:
            axes.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
            axes.set_title(titles[index] if titles is not None else str(labels[index]), fontsize=9)
    return figure
