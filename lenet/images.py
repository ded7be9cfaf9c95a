"""A user's own digit image, made to look like an MNIST digit before the model sees it.

MNIST digits are white ink on black, scaled so the longer side of the ink fits 20x20 (aspect ratio
kept), then centred in 28x28 by their centre of mass; a photo or a drawing goes through the same steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from lenet.errors import ImageError, first_line

SIZE = 28  # MNIST's image side
BOX = 20  # the side the ink's longer side is scaled to
# The digit's bounding box ignores ink fainter than this fraction of its strongest stroke (blur, JPEG
# noise, paper texture): 0.3 kept predictions on re-rendered sample digits closest to the originals'.
# An image whose strongest ink is under NO_INK (of full intensity, background removed) is blank.
INK_THRESHOLD = 0.3
NO_INK = 0.1
# A drawing whose ink spans less than this fraction of the image's shorter side is a dot, not a digit.
DOT_FRACTION = 0.1
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def mnist_style(array: np.ndarray) -> np.ndarray:
    """MNIST-style uint8 (28, 28), white ink on black, from any 2-D or 3-D (H, W, C) image array;
    blank for an image without ink (all one colour). The one preprocessing of `lenet predict` and the DrawPad."""
    ink = _ink(array)
    digit = np.zeros((SIZE, SIZE), dtype=np.uint8)
    peak = float(ink.max())
    if peak < NO_INK:
        return digit
    rows, columns = np.nonzero(ink >= INK_THRESHOLD * peak)
    # Stretched so the strongest stroke is full white, as in MNIST: pencil looks like ink.
    cropped = np.round(ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1] / peak * 255)
    height, width = cropped.shape
    factor = BOX / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    scaled = np.asarray(Image.fromarray(cropped.astype(np.uint8)).resize(size, Image.Resampling.LANCZOS))
    height, width = scaled.shape  # placed with its centre of mass at MNIST's (14, 14), as far as it fits
    weights = scaled.astype(np.float64) if scaled.any() else np.ones(scaled.shape)  # no ink left: the middle
    top = round(SIZE / 2 - weights.sum(axis=1) @ np.arange(height) / weights.sum())
    left = round(SIZE / 2 - weights.sum(axis=0) @ np.arange(width) / weights.sum())
    top, left = int(np.clip(top, 0, SIZE - height)), int(np.clip(left, 0, SIZE - width))
    digit[top : top + height, left : left + width] = scaled
    return digit


def drawing_problem(array: np.ndarray) -> str | None:
    """Why a drawing cannot be read as a digit (nothing drawn, only a dot, ink on every edge), in one sentence for
    the person drawing, or None; judged on the ink mnist_style would scale."""
    ink = _ink(array)
    peak = float(ink.max())
    if peak < NO_INK:
        return "Nothing drawn yet: draw one digit, 0 to 9, in the box."
    marked = ink >= INK_THRESHOLD * peak
    rows, columns = np.nonzero(marked)
    # Scaled to 20x20, ink this small is a blob whose shape the model cannot read (a dot is one pen width).
    if max(np.ptp(rows), np.ptp(columns)) + 1 < min(marked.shape) * DOT_FRACTION:
        return "Only a dot: draw the digit larger, about as tall as the box."
    if marked[0].any() and marked[-1].any() and marked[:, 0].any() and marked[:, -1].any():
        return "The drawing touches every edge of the box: draw one digit, smaller, inside it."
    return None


def _ink(array: np.ndarray) -> np.ndarray:
    """Ink float64 (H, W), 0-1 on a 0 background: inverted when the background (the border's median) is light, and
    its level subtracted, so that grey paper becomes black like MNIST's background."""
    gray = _unit_gray(np.asarray(array))
    background = float(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))
    if background > 0.5:
        gray, background = 1.0 - gray, 1.0 - background
    return np.clip((gray - background) / (1.0 - background), 0.0, 1.0) if background < 1.0 else np.zeros_like(gray)


def _unit_gray(array: np.ndarray) -> np.ndarray:
    """Grayscale float64 (H, W) in 0-1 (1 is white): ITU-R 601 luma, as Pillow's convert("L"),
    alpha (a last channel of 2 or 4) composited on white paper."""
    if array.size == 0:
        raise ImageError(f"empty image (shape {array.shape})")
    channels = array[..., np.newaxis] if array.ndim == 2 else array
    if channels.ndim != 3 or channels.shape[2] > 4:
        raise ImageError(f"not an image array: shape {array.shape}, expected (H, W) or (H, W, 1-4)")
    # Scaled to 0-1 by what the dtype (or, for wide integers, the data) implies.
    values = channels.astype(np.float64)
    if np.issubdtype(channels.dtype, np.floating):
        values = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0)
        top = 1.0 if values.max() <= 1.0 else 255.0
    elif channels.dtype in (bool, np.uint8, np.uint16):
        top = 1.0 if channels.dtype == bool else float(np.iinfo(channels.dtype).max)
    else:  # e.g. Pillow's 32-bit "I" mode: 8-bit or 16-bit data in int32
        largest = values.max()
        top = 255.0 if largest <= 255 else 65535.0 if largest <= 65535 else float(largest)
    channels = np.clip(values / top, 0.0, 1.0)
    colour, alpha = (channels[..., :-1], channels[..., -1]) if channels.shape[2] in (2, 4) else (channels, 1.0)
    gray = colour[..., 0] if colour.shape[2] == 1 else colour @ np.array([0.299, 0.587, 0.114])
    return gray * alpha + (1.0 - alpha)


def read_image(path: str | Path) -> np.ndarray:
    """Any image file Pillow reads, as a 2-D grayscale array (uint8, or wider for 16/32-bit files), alpha on white."""
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a directory, not an image")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: empty image (0 bytes)")
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)  # phone photos store their rotation in EXIF
            if image.mode.startswith(("I", "F")):  # high bit depth: mnist_style scales the values
                array = np.asarray(image)
            elif image.mode in ALPHA_MODES or "transparency" in image.info:
                array = np.round(_unit_gray(np.asarray(image.convert("RGBA"))) * 255).astype(np.uint8)
            else:
                array = np.asarray(image.convert("L"))
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise ImageError(f"{path}: not an image ({first_line(error)})") from None
    except Exception as error:  # truncated or corrupt data: Pillow raises OSError, SyntaxError, struct.error...
        raise ImageError(f"{path}: not a readable image ({first_line(error)})") from None
    if array.size == 0:
        raise ImageError(f"{path}: empty image ({array.shape[1]}x{array.shape[0]} pixels)")
    return array


def load_digit(path: str | Path) -> np.ndarray:
    """The image file at `path` as the model expects it: uint8 (28, 28), MNIST style."""
    return mnist_style(read_image(path))


def image_files(path: str | Path) -> list[Path]:
    """The image files directly in a directory, sorted by name (recognised by suffix)."""
    return sorted(entry for entry in Path(path).iterdir() if entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES)
