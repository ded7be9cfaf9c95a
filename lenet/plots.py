"""Figures. Each function returns a matplotlib Figure and touches no global pyplot state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def plot_history(history: dict[str, Sequence[float]]) -> Figure:
    """Accuracy and loss side by side, train vs validation, epochs numbered from 1."""
    figure = Figure(figsize=(11, 4), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    for axes, metric, title in zip(
        figure.subplots(1, 2), ("accuracy", "loss"), ("Accuracy", "Loss (cross-entropy)"), strict=True
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
    class_names: Sequence[str] | None = None,
) -> Figure:
    """A grid of the first `count` uint8 images (N, 28, 28), each titled by its label.

    With `class_names` (e.g. `data.class_names`) a label is shown by its name.
    """
    if titles is None:
        titles = [_name(label, class_names) for label in labels[:count]]
    count = min(count, len(images))
    rows = max(1, -(-count // columns))
    figure = Figure(figsize=(columns * 1.2, rows * 1.35), layout="constrained")
    grid = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
    for index, axes in enumerate(grid):
        axes.set_axis_off()
        if index < count:
            axes.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
            # Fashion-MNIST's "T-shirt/top→Ankle boot 99%" must fit in a 1.2-inch column.
            length = len(titles[index])
            axes.set_title(titles[index], fontsize=9 if length <= 12 else 7 if length <= 16 else 5.5)
    return figure


def _name(label: int, class_names: Sequence[str] | None) -> str:
    return str(label) if class_names is None else class_names[int(label)]


def _label_classes(axes, class_names: Sequence[str] | None, count: int, axis: str = "x") -> str:
    """Tick labels of class names (rotated to fit) on `axis`; returns the axis noun.

    The digits "0".."9" are what the plain ticks already show, so MNIST's plots do not change.
    """
    if class_names is None or list(class_names) == [str(label) for label in range(count)]:
        return "digit"
    if axis == "x":
        axes.set_xticks(np.arange(count), list(class_names), rotation=45, ha="right")
    else:
        axes.set_yticks(np.arange(count), list(class_names))
    return "class"


def plot_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str] | None = None) -> Figure:
    """Counts of true (rows) vs predicted (columns) classes, the diagonal dimmed out.

    Colour shows only the errors, so the rare confusions are not drowned by the diagonal.
    """
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    axes = figure.subplots()
    errors = np.where(np.eye(len(matrix), dtype=bool), 0, matrix)
    image = axes.imshow(errors, cmap="Reds")
    figure.colorbar(image, ax=axes, label="misclassified test images")
    for (row, column), count in np.ndenumerate(matrix):
        diagonal = row == column
        axes.text(
            column,
            row,
            str(count),
            ha="center",
            va="center",
            fontsize=8,
            color="black" if diagonal or count < errors.max() / 2 else "white",
            fontweight="bold" if diagonal else "normal",
        )
    ticks = np.arange(len(matrix))
    axes.set_xticks(ticks)
    axes.set_yticks(ticks)
    noun = _label_classes(axes, class_names, len(matrix), "x")
    _label_classes(axes, class_names, len(matrix), "y")
    axes.set_xlabel(f"predicted {noun}")
    axes.set_ylabel(f"true {noun}")
    axes.set_title("Confusion matrix (test set)")
    return figure


def plot_per_class_accuracy(accuracy: np.ndarray, class_names: Sequence[str] | None = None) -> Figure:
    """One bar per class, axis zoomed to where the differences are."""
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    axes = figure.subplots()
    classes = np.arange(len(accuracy))
    bars = axes.bar(classes, accuracy * 100)
    axes.bar_label(bars, fmt="%.1f", fontsize=8)
    lowest = np.nanmin(accuracy) * 100
    axes.set_ylim(max(0.0, lowest - 2), 100.5)
    axes.set_xticks(classes)
    axes.set_xlabel(_label_classes(axes, class_names, len(accuracy), "x"))
    axes.set_ylabel("accuracy (%)")
    axes.set_title("Per-class test accuracy")
    return figure


def plot_misclassified(
    images: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    indices: Sequence[int],
    count: int = 24,
    columns: int = 8,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """The images at `indices` (the model's mistakes) titled "true→predicted, confidence"."""
    chosen = list(indices)[:count]
    predicted = probabilities.argmax(axis=1)
    titles = [
        f"{_name(labels[i], class_names)}→{_name(predicted[i], class_names)} {probabilities[i, predicted[i]]:.0%}"
        for i in chosen
    ]
    return plot_digits(
        images[chosen], labels[chosen], count=len(chosen), columns=columns, titles=titles, class_names=class_names
    )


def plot_prediction(image: np.ndarray, seen: np.ndarray, probabilities: np.ndarray, title: str = "") -> Figure:
    """The input image, what the model saw (uint8 28x28, MNIST style) and its probabilities."""
    figure = Figure(figsize=(10, 3.2), layout="constrained")
    original, model_input, bars = figure.subplots(1, 3, width_ratios=[1, 1, 1.6])
    # uint8 on its true scale (grey paper shows grey); wider types scaled to their range.
    original.imshow(image, cmap="gray", **({"vmin": 0, "vmax": 255} if image.dtype == np.uint8 else {}))
    original.set_title("input")
    model_input.imshow(seen, cmap="gray", vmin=0, vmax=255)
    model_input.set_title("what the model saw (28x28)")
    for axes in (original, model_input):
        axes.set_xticks([])
        axes.set_yticks([])
    classes = np.arange(len(probabilities))
    predicted = int(np.argmax(probabilities))
    colours = ["tab:orange" if digit == predicted else "tab:blue" for digit in classes]
    drawn = bars.bar(classes, probabilities, color=colours)
    bars.bar_label(drawn, labels=[f"{p:.0%}" if p >= 0.01 else "" for p in probabilities], fontsize=8)
    bars.set_ylim(0, 1.1)
    bars.set_xticks(classes)
    bars.set_xlabel("digit")
    bars.set_ylabel("probability")
    bars.set_title(f"predicted {predicted} ({probabilities[predicted]:.1%})")
    if title:
        figure.suptitle(title)
    return figure


def plot_learning_rate(schedule: float | Callable[[np.ndarray], Any], epochs: int, steps_per_epoch: int) -> Figure:
    """The learning rate Adam uses at every step of training, against epochs."""
    steps = np.arange(epochs * steps_per_epoch)
    if np.isscalar(schedule):
        rates = np.full(len(steps), schedule, dtype=float)
    else:
        try:
            rates = np.asarray(schedule(steps))
        except ValueError:  # a warm-up's schedule branches on its step, so it takes one at a time
            rates = np.array([float(schedule(step)) for step in steps])
    figure = Figure(figsize=(6, 2.6), layout="constrained")
    axes = figure.subplots()
    axes.plot(steps / steps_per_epoch, rates)
    axes.set_xlabel("epoch")
    axes.set_ylabel("learning rate")
    axes.set_xlim(0, epochs)
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    return figure


# --- What the network sees: its filters and the maps they compute on a digit.

FEATURE_LAYERS = ("c1", "s2", "c3", "s4")


def layer_outputs(model: Any, images: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The outputs float32 (N, height, width, channels) of the named layers for uint8 images (N, 28, 28).

    The images go through a Sequential model's layers in order, the path `model(images)` takes,
    so these are the model's own activations, not a re-implementation of them.
    """
    outputs, wanted = {}, set(names)
    x = np.asarray(images)[..., np.newaxis]
    for layer in model.layers:
        x = layer(x, training=False)
        if layer.name in wanted:
            outputs[layer.name] = np.asarray(x, dtype=np.float32)
        if wanted <= outputs.keys():
            break
    return outputs


def plot_filters(model: Any, layer: str = "c1") -> Figure:
    """A convolution's 5x5 kernels, one panel each (C1: 6), blue negative, red positive.

    C1 is the one layer that sees raw pixels, so its kernels can be drawn as pictures of the
    pattern each filter responds to.
    """
    kernels = model.get_layer(layer).get_weights()[0]  # (height, width, 1, filters)
    count = kernels.shape[-1]
    limit = float(np.abs(kernels).max()) or 1.0  # one symmetric scale, so panels compare
    figure = Figure(figsize=(1.3 * count, 1.6), layout="constrained")
    for index, axes in enumerate(np.atleast_1d(figure.subplots(1, count))):
        axes.imshow(kernels[:, :, 0, index], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes.set_title(f"{layer.upper()} filter {index + 1}", fontsize=9)
        axes.set_axis_off()
    return figure


def plot_feature_maps(model: Any, image: np.ndarray, layers: Sequence[str] = FEATURE_LAYERS) -> Figure:
    """One uint8 digit (28, 28), then one row per layer of the maps it produces (C1, S2: 6; C3, S4: 16).

    Bright is a strong response. Each row is drawn on its own scale, since deeper layers
    respond on other magnitudes.
    """
    outputs = layer_outputs(model, image[np.newaxis], layers)
    columns = max(outputs[name].shape[-1] for name in layers)
    figure = Figure(figsize=(columns * 0.8 + 1.2, len(layers) * 0.95), layout="constrained")
    grid = figure.subplots(len(layers), columns + 1, squeeze=False)
    for axes in grid.ravel():
        axes.set_axis_off()
    grid[0, 0].imshow(image, cmap="gray_r", vmin=0, vmax=255)
    grid[0, 0].set_title("input", fontsize=9)
    for row, name in enumerate(layers):
        maps = outputs[name][0]
        for channel in range(maps.shape[-1]):
            axes = grid[row, channel + 1]
            axes.imshow(maps[..., channel], cmap="magma", vmin=0, vmax=float(maps.max()) or 1.0)
        height, width, channels = maps.shape
        grid[row, 1].set_title(f"{name.upper()}: {channels} maps {height}x{width}", fontsize=9, loc="left")
    return figure


def plot_top_activations(
    model: Any, images: np.ndarray, layer: str = "c5", units: Sequence[int] | None = None, count: int = 6
) -> Figure:
    """For each unit of `layer`, the `count` images (uint8 (N, 28, 28)) that excite it most.

    C5's units see the whole digit; what their favourite digits share is what a unit detects.
    By default the first four units that respond to any of the images: a ReLU unit can be
    dead (zero for every digit), and its row would show arbitrary digits.
    """
    batches = [
        layer_outputs(model, images[start : start + 1024], [layer])[layer] for start in range(0, len(images), 1024)
    ]
    activations = np.concatenate(batches)
    if activations.ndim == 4:  # a map per unit (C5's are 1x1): its strongest response anywhere
        activations = activations.max(axis=(1, 2))
    if units is None:
        units = [unit for unit in range(activations.shape[1]) if activations[:, unit].max() > 0][:4]
    figure = Figure(figsize=(count * 1.0 + 0.6, len(units) * 1.1), layout="constrained")
    grid = figure.subplots(len(units), count, squeeze=False)
    for row, unit in enumerate(units):
        strongest = np.argsort(-activations[:, unit], kind="stable")[:count]
        for axes, index in zip(grid[row], strongest, strict=True):
            axes.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
            axes.set_xticks([])
            axes.set_yticks([])
            axes.set_title(f"{activations[index, unit]:.1f}", fontsize=8)
        grid[row, 0].set_ylabel(f"{layer.upper()} unit {unit}", fontsize=9)
    return figure
