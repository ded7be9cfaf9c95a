"""The IDX format in which MNIST, Fashion-MNIST, KMNIST and EMNIST are distributed.

A file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in C order. We read only unsigned-byte
files (type 0x08), which is what every MNIST-style image and label file is; a `.gz` file is
decompressed on the way.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from lenet.errors import IdxError

UNSIGNED_BYTE = 0x08


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (plain or .gz), uint8 with the file's dimensions."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            content = stream.read()
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise IdxError(f"{path}: cannot read ({error})") from None
    if len(content) < 4:
        raise IdxError(f"{path}: too short for an IDX header ({len(content)} bytes)")
    zero, type_code, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or type_code != UNSIGNED_BYTE or ndim == 0:
        raise IdxError(
            f"{path}: bad magic number 0x{content[:4].hex()}, expected 0x000008NN (unsigned bytes, NN dimensions)"
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise IdxError(f"{path}: truncated header ({len(content)} bytes, {ndim} dimensions need {header})")
    shape = struct.unpack(f">{ndim}I", content[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    if len(content) - header != expected:
        raise IdxError(f"{path}: holds {len(content) - header} data bytes, its header {shape} says {expected}")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file, gzip-compressed if the name ends in .gz."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    content = struct.pack(f">HBB{array.ndim}I", 0, UNSIGNED_BYTE, array.ndim, *array.shape) + array.tobytes()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as stream:
        stream.write(content)
    return path
