"""A user's own digit image, made to look like an MNIST digit before the model sees it.

MNIST digits are white ink on black, scaled so the longer side of the ink fits 20x20
(aspect ratio kept), then centred in 28x28 by their centre of mass. A photo or a drawing
goes through the same steps, or the model sees something it was never trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from lenet.config import first_line

SIZE = 28  # MNIST's image side
BOX = 20  # the side the ink's longer side is scaled to
# Finding the digit's bounding box, ink fainter than this fraction of the image's darkest
# stroke is ignored (blur halos, JPEG noise, paper texture); 0.3 kept the predictions on
# re-rendered sample digits closest to those on the originals. An image whose strongest
# ink is under NO_INK (of full intensity, after the background is removed) is blank.
INK_THRESHOLD = 0.3
NO_INK = 0.1
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class ImageError(ValueError):
    """An input that cannot be read as a digit image; the message names the file and the problem."""


def mnist_style(array: np.ndarray) -> np.ndarray:
    """MNIST-style uint8 (28, 28), white ink on black, from any 2-D or 3-D (H, W, C) image array.

    An image without ink (all one colour) gives a blank 28x28 rather than an error.
    """
    ink = _ink(_unit_gray(np.asarray(array)))
    digit = np.zeros((SIZE, SIZE), dtype=np.uint8)
    peak = float(ink.max())
    if peak < NO_INK:
        return digit
    rows, columns = np.nonzero(ink >= INK_THRESHOLD * peak)
    # Stretched so the strongest stroke is full white, as in MNIST: pencil looks like ink.
    cropped = ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1] / peak
    scaled = _scale_to_box(np.round(cropped * 255).astype(np.uint8))
    top, left = _centre_of_mass_offset(scaled)
    digit[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    return digit


def _unit_gray(array: np.ndarray) -> np.ndarray:
    """Grayscale float64 (H, W) in 0-1 (1 is white); colour and alpha composited on white."""
    if array.size == 0:
        raise ImageError(f"empty image (shape {array.shape})")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        return _unit(array)
    if array.ndim != 3 or array.shape[2] not in (2, 3, 4):
        raise ImageError(f"not an image array: shape {array.shape}, expected (H, W) or (H, W, 1-4)")
    channels = _unit(array)
    has_alpha = array.shape[2] in (2, 4)
    colour = channels[..., :-1] if has_alpha else channels
    # ITU-R 601 luma, what Pillow's convert("L") uses.
    gray = colour[..., 0] if colour.shape[2] == 1 else colour @ np.array([0.299, 0.587, 0.114])
    if has_alpha:
        alpha = channels[..., -1]
        gray = gray * alpha + (1.0 - alpha)  # composite on white paper
    return gray


def _unit(array: np.ndarray) -> np.ndarray:
    """Pixel values scaled to 0-1 by what the dtype (or, for wide integers, the data) implies."""
    if array.dtype == bool:
        return array.astype(np.float64)
    values = array.astype(np.float64)
    if np.issubdtype(array.dtype, np.floating):
        values = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0)
        top = 1.0 if values.max() <= 1.0 else 255.0
    elif array.dtype == np.uint8:
        top = 255.0
    elif array.dtype == np.uint16:
        top = 65535.0
    else:  # e.g. Pillow's 32-bit "I" mode: 8-bit or 16-bit data in int32
        largest = values.max()
        top = 255.0 if largest <= 255 else 65535.0 if largest <= 65535 else float(largest)
    return np.clip(values / top, 0.0, 1.0)


def _ink(gray: np.ndarray) -> np.ndarray:
    """Ink intensity 0-1 on a 0 background: inverted when the background is light.

    The background is the median of the border pixels; its level is subtracted, so grey
    paper becomes black like MNIST's background.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        gray, background = 1.0 - gray, 1.0 - background
    if background >= 1.0:
        return np.zeros_like(gray)
    return np.clip((gray - background) / (1.0 - background), 0.0, 1.0)


def _scale_to_box(ink: np.ndarray) -> np.ndarray:
    """Scale uint8 ink so its longer side is BOX pixels, keeping the aspect ratio."""
    height, width = ink.shape
    factor = BOX / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.LANCZOS))


def _centre_of_mass_offset(patch: np.ndarray) -> tuple[int, int]:
    """Top-left corner that puts the patch's centre of mass at the centre of 28x28, inside it."""
    weights = patch.astype(np.float64)
    total = weights.sum()
    height, width = patch.shape
    if total == 0:
        centre_row, centre_column = (height - 1) / 2, (width - 1) / 2
    else:
        centre_row = (weights.sum(axis=1) @ np.arange(height)) / total
        centre_column = (weights.sum(axis=0) @ np.arange(width)) / total
    middle = SIZE / 2  # MNIST's digits have their centre of mass at pixel (14, 14), measured
    top = int(np.clip(round(middle - centre_row), 0, SIZE - height))
    left = int(np.clip(round(middle - centre_column), 0, SIZE - width))
    return top, left


def read_image(path: str | Path) -> np.ndarray:
    """The image file as a 2-D grayscale array (uint8, or wider for 16/32-bit files), alpha on white.

    Reads PNG, JPEG, BMP (and whatever else Pillow reads) in any mode.
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a directory, not an image")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: empty image (0 bytes)")
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)  # phone photos store their rotation in EXIF
            image.load()
            array = _grayscale(image)
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise ImageError(f"{path}: not an image ({first_line(error)})") from None
    except Exception as error:  # truncated or corrupt data: Pillow raises OSError, SyntaxError, struct.error...
        raise ImageError(f"{path}: not a readable image ({first_line(error)})") from None
    if array.size == 0:
        raise ImageError(f"{path}: empty image ({array.shape[1]}x{array.shape[0]} pixels)")
    return array


def _grayscale(image: Image.Image) -> np.ndarray:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return np.asarray(image)  # high bit depth: keep the values, mnist_style scales them
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        # Composited on white as an array's alpha is (_unit_gray), back in 8 bits.
        rgba = np.asarray(image.convert("RGBA"))
        return np.round(_unit_gray(rgba) * 255).astype(np.uint8) if rgba.size else rgba[..., 0]
    return np.asarray(image.convert("L"))


def load_digit(path: str | Path) -> np.ndarray:
    """The image file at `path` as the model expects it: uint8 (28, 28), MNIST style."""
    return mnist_style(read_image(path))


def image_files(path: str | Path) -> list[Path]:
    """The image files directly in a directory, sorted by name (recognised by suffix)."""
    return sorted(entry for entry in Path(path).iterdir() if entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES)
