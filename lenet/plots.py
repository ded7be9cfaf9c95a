"""Figures. Each function returns a matplotlib Figure and touches no global pyplot state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lenet.config import EVALUATION_BATCH_SIZE


def plot_history(history: dict[str, Sequence[float]]) -> Figure:
    """Accuracy and loss side by side, train vs validation (train alone for a run without a validation set),
    epochs numbered from 1."""
    figure = Figure(figsize=(11, 4), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    titles = {"accuracy": "Accuracy", "loss": "Loss (cross-entropy)"}
    validated = all(f"val_{metric}" in history for metric in titles)
    for axes, metric in zip(figure.subplots(1, 2), titles, strict=True):
        axes.plot(epochs, history[metric], marker="o", label="train" if validated else "train (no validation set)")
        if validated:
            axes.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        axes.set(title=titles[metric], xlabel="epoch", ylabel=metric, xticks=epochs)
        axes.grid(alpha=0.3)
        axes.legend()
    return figure


def _digit(axes: Any, image: np.ndarray, title: str = "", fontsize: float = 9) -> None:
    """A uint8 digit in dark ink on white, without axes."""
    axes.imshow(image, cmap="gray_r", vmin=0, vmax=255)
    axes.set_title(title, fontsize=fontsize)
    axes.set_axis_off()


def _label_classes(axes: Any, class_names: Sequence[str] | None, count: int, rows: bool = False) -> str:
    """Class names as x (and, with `rows`, y) tick labels unless they are the digits plain ticks show; the axis noun."""
    if class_names is None or list(class_names) == [str(label) for label in range(count)]:
        return "digit"
    axes.set_xticks(np.arange(count), list(class_names), rotation=45, ha="right")
    if rows:
        axes.set_yticks(np.arange(count), list(class_names))
    return "class"


def plot_digits(
    images: np.ndarray,
    labels: Sequence[int],
    count: int = 24,
    columns: int = 8,
    titles: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """A grid of the first `count` uint8 images (N, 28, 28), titled by their labels (or `class_names[label]`)."""
    if titles is None:
        titles = [str(label) if class_names is None else class_names[label] for label in labels[:count]]
    count = min(count, len(images))
    rows = max(1, -(-count // columns))
    figure = Figure(figsize=(columns * 1.2, rows * 1.35), layout="constrained")
    for index, axes in enumerate(figure.subplots(rows, columns, squeeze=False).ravel()):
        axes.set_axis_off()
        if index < count:  # Fashion-MNIST's "T-shirt/top→Ankle boot 99%" must fit a 1.2-inch column
            length = len(titles[index])
            _digit(axes, images[index], titles[index], 9 if length <= 12 else 7 if length <= 16 else 5.5)
    return figure


def plot_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str] | None = None) -> Figure:
    """Counts of true (rows) vs predicted (columns) classes, coloured by the errors only (the diagonal drowns them)."""
    axes = Figure(figsize=(6.5, 5.5), layout="constrained").subplots()
    errors = np.where(np.eye(len(matrix), dtype=bool), 0, matrix)
    axes.figure.colorbar(axes.imshow(errors, cmap="Reds"), ax=axes, label="misclassified test images")
    for (row, column), count in np.ndenumerate(matrix):
        colour = "black" if row == column or count < errors.max() / 2 else "white"
        weight = "bold" if row == column else "normal"
        axes.text(column, row, str(count), ha="center", va="center", fontweight=weight, color=colour, fontsize=8)
    axes.set(xticks=np.arange(len(matrix)), yticks=np.arange(len(matrix)), title="Confusion matrix (test set)")
    noun = _label_classes(axes, class_names, len(matrix), rows=True)
    axes.set(xlabel=f"predicted {noun}", ylabel=f"true {noun}")
    return axes.figure


def plot_per_class_accuracy(accuracy: np.ndarray, class_names: Sequence[str] | None = None) -> Figure:
    """One bar per class, the axis zoomed to where the differences are."""
    axes = Figure(figsize=(7, 3.2), layout="constrained").subplots()
    classes = np.arange(len(accuracy))
    axes.bar_label(axes.bar(classes, accuracy * 100), fmt="%.1f", fontsize=8)
    axes.set(ylim=(max(0.0, np.nanmin(accuracy) * 100 - 2), 100.5), xticks=classes, ylabel="accuracy (%)")
    axes.set(xlabel=_label_classes(axes, class_names, len(accuracy)), title="Per-class test accuracy")
    return axes.figure


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
    names = class_names or [str(label) for label in range(probabilities.shape[1])]
    titles = [f"{names[labels[i]]}→{names[predicted[i]]} {probabilities[i, predicted[i]]:.0%}" for i in chosen]
    return plot_digits(images[chosen], labels[chosen], len(chosen), columns, titles)


def plot_prediction(image: np.ndarray, seen: np.ndarray, probabilities: np.ndarray, title: str = "") -> Figure:
    """The input image, what the model saw (uint8 28x28, MNIST style) and its probabilities."""
    figure = Figure(figsize=(10, 3.2), layout="constrained")
    original, model_input, bars = figure.subplots(1, 3, width_ratios=[1, 1, 1.6])
    # uint8 on its true scale (grey paper shows grey); wider types scaled to their range.
    original.imshow(image, cmap="gray", **({"vmin": 0, "vmax": 255} if image.dtype == np.uint8 else {}))
    model_input.imshow(seen, cmap="gray", vmin=0, vmax=255)
    original.set(title="input", xticks=[], yticks=[])
    model_input.set(title="what the model saw (28x28)", xticks=[], yticks=[])
    classes, predicted = np.arange(len(probabilities)), int(np.argmax(probabilities))
    drawn = bars.bar(classes, probabilities, color=["tab:orange" if c == predicted else "tab:blue" for c in classes])
    bars.bar_label(drawn, labels=[f"{p:.0%}" if p >= 0.01 else "" for p in probabilities], fontsize=8)
    bars.set(ylim=(0, 1.1), xticks=classes, xlabel="digit", ylabel="probability")
    bars.set_title(f"predicted {predicted} ({probabilities[predicted]:.1%})")
    if title:
        figure.suptitle(title)
    return figure


def plot_learning_rate(schedule: float | Callable[[np.ndarray], Any], epochs: int, steps_per_epoch: int) -> Figure:
    """The learning rate Adam uses at every step of training, against epochs."""
    steps = np.arange(epochs * steps_per_epoch)
    try:  # a constant, or a schedule's rates at every step at once
        rates = np.broadcast_to(schedule(steps) if callable(schedule) else schedule, steps.shape)
    except ValueError:  # a warm-up's schedule branches on its step, so it takes one at a time
        rates = np.array([float(schedule(step)) for step in steps])
    axes = Figure(figsize=(6, 2.6), layout="constrained").subplots()
    axes.plot(steps / steps_per_epoch, rates)
    axes.set(xlabel="epoch", ylabel="learning rate", xlim=(0, epochs), ylim=(0, None))
    axes.grid(alpha=0.3)
    return axes.figure


def layer_outputs(model: Any, images: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The named layers' outputs float32 (N, H, W, C) for uint8 images (N, 28, 28), in evaluation batches."""
    import keras

    extractor = keras.Model(model.inputs[0], {name: model.get_layer(name).output for name in names})
    size = EVALUATION_BATCH_SIZE
    batches = [extractor(images[i : i + size, ..., np.newaxis], training=False) for i in range(0, len(images), size)]
    return {name: np.concatenate([np.asarray(batch[name], np.float32) for batch in batches]) for name in names}


def plot_filters(model: Any, layer: str = "c1") -> Figure:
    """A convolution's 5x5 kernels on one scale, blue negative, red positive (C1's picture what each filter seeks)."""
    kernels = model.get_layer(layer).get_weights()[0]  # (height, width, 1, filters)
    limit = float(np.abs(kernels).max()) or 1.0
    figure = Figure(figsize=(1.3 * kernels.shape[-1], 1.6), layout="constrained")
    for index, axes in enumerate(np.atleast_1d(figure.subplots(1, kernels.shape[-1]))):
        axes.imshow(kernels[:, :, 0, index], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes.set_title(f"{layer.upper()} filter {index + 1}", fontsize=9)
        axes.set_axis_off()
    return figure


def plot_feature_maps(model: Any, image: np.ndarray, layers: Sequence[str] = ("c1", "s2", "c3", "s4")) -> Figure:
    """A uint8 digit (28, 28), then a row per layer of the maps it produces (bright: strong), each on its own scale."""
    outputs = layer_outputs(model, image[np.newaxis], layers)
    columns = max(outputs[name].shape[-1] for name in layers)
    figure = Figure(figsize=(columns * 0.8 + 1.2, len(layers) * 0.95), layout="constrained")
    grid = figure.subplots(len(layers), columns + 1, squeeze=False)
    for axes in grid.ravel():
        axes.set_axis_off()
    _digit(grid[0, 0], image, "input")
    for row, name in enumerate(layers):
        maps = outputs[name][0]
        low = min(0.0, float(maps.min()))  # 0 for ReLU maps; the 1998 network's (scaled tanh) are signed
        for channel in range(maps.shape[-1]):
            grid[row, channel + 1].imshow(maps[..., channel], cmap="magma", vmin=low, vmax=float(maps.max()) or 1.0)
        height, width, channels = maps.shape
        grid[row, 1].set_title(f"{name.upper()}: {channels} maps {height}x{width}", fontsize=9, loc="left")
    return figure


def plot_top_activations(
    model: Any, images: np.ndarray, layer: str = "c5", units: Sequence[int] | None = None, count: int = 6
) -> Figure:
    """For each unit of `layer`, the `count` images (uint8 (N, 28, 28)) that excite it most: what they share is
    what it detects. By default the first four units that respond at all (a dead unit's would be arbitrary)."""
    activations = layer_outputs(model, images, [layer])[layer]
    if activations.ndim == 4:  # a map per unit (C5's are 1x1): its strongest response anywhere
        activations = activations.max(axis=(1, 2))
    if units is None:
        units = [unit for unit in range(activations.shape[1]) if activations[:, unit].max() > 0][:4]
    figure = Figure(figsize=(count * 1.0 + 0.6, len(units) * 1.1), layout="constrained")
    grid = figure.subplots(len(units), count, squeeze=False)
    for row, unit in enumerate(units):
        strongest = np.argsort(-activations[:, unit], kind="stable")[:count]
        for axes, index in zip(grid[row], strongest, strict=True):
            _digit(axes, images[index], f"{activations[index, unit]:.1f}", fontsize=8)
            axes.set_axis_on()  # a frame for the row's y label, no ticks
            axes.set(xticks=[], yticks=[])
        grid[row, 0].set_ylabel(f"{layer.upper()} unit {unit}", fontsize=9)
    return figure
