"""The file formats datasets come in: idx files and the Keras ``mnist.npz``.

An idx file holds one array of unsigned bytes behind a header giving its shape; MNIST
and Fashion-MNIST come as four of them (:data:`IDX_FILES`), each gzipped or raw.
:func:`read_idx` recognises gzip by the file's first bytes and checks the header against
the data; :func:`write_idx` writes atomically. :func:`read_keras` reads one split from a
Keras ``mnist.npz`` cache file. Every problem with a file raises
:class:`~brian_stdp.errors.DataError` naming the file, the problem and what to do.
"""

from __future__ import annotations

import gzip
import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from brian_stdp.errors import DataError

#: The standard idx files of each split: (images, labels), without ``.gz``.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"

#: File name of the Keras MNIST cache.
KERAS_FILE = "mnist.npz"
_KERAS_KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}

#: What to do about a corrupt or truncated file (ends an error message).
REFETCH_HINT = "delete it and download it again, or check --data-dir"
#: What to do about a file in the wrong format (ends an error message).
FORMAT_HINT = "check that --data-dir points at MNIST-format idx files"


def read_idx(path, ndim: int | None = None) -> np.ndarray:
    """Read an idx file of unsigned bytes, gzipped or raw.

    Gzip is recognised by the file's first bytes, not its name.

    Parameters
    ----------
    path : str or os.PathLike
        The idx file.
    ndim : int, optional
        Required number of dimensions (1 for labels, 3 for images); any other
        magic number is then an error.

    Returns
    -------
    numpy.ndarray
        dtype uint8, with the shape stored in the file's header.

    Raises
    ------
    DataError
        Missing or unreadable file, corrupt gzip data, wrong magic number, or a
        file shorter or longer than its header says.
    """
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; check --data-dir") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read file ({err.strerror}); check --data-dir") from None
    if content[:2] == _GZIP_MAGIC:
        try:
            content = gzip.decompress(content)
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:
            raise DataError(
                f"{path}: corrupt or truncated gzip data ({err}); {REFETCH_HINT}"
            ) from None
    return _parse_idx(content, path, ndim)


def write_idx(path, array) -> None:
    """Write `array` as an idx file of unsigned bytes, atomically.

    The file is gzipped when `path` ends with ``.gz``. It is written under a
    temporary name in the same folder and then renamed into place, so `path`
    never holds a partial file.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    array : array_like of int, shape (d1, ..., dk), 1 <= k <= 255
        Values 0..255; stored as uint8.

    Raises
    ------
    DataError
        The array is 0-d, or its values are not integers in 0..255.
    """
    path = Path(path)
    array = np.asarray(array)
    if not 1 <= array.ndim <= 255:
        raise DataError(f"{path}: cannot write a {array.ndim}-d array as idx (1 to 255 dims)")
    if array.dtype != np.uint8:
        fits = np.issubdtype(array.dtype, np.integer) and (
            array.size == 0 or (array.min() >= 0 and array.max() <= 255)
        )
        if not fits:
            raise DataError(
                f"{path}: idx files here hold unsigned bytes; the {array.dtype} array "
                "has values outside integers 0..255"
            )
    header = bytes([0, 0, _IDX_UBYTE, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    content = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if path.suffix == ".gz":
        content = gzip.compress(content, mtime=0)
    tmp = temp_path(path)
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_keras(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one split of a Keras ``mnist.npz``.

    Parameters
    ----------
    path : pathlib.Path
        The npz archive, holding ``x_train``, ``y_train``, ``x_test``, ``y_test``.
    split : str
        ``"train"`` or ``"test"``.

    Returns
    -------
    images, labels : numpy.ndarray
        Images (n, height, width) uint8 and labels (n,) of an integer dtype, as stored.

    Raises
    ------
    DataError
        Not a valid or a corrupt archive, a missing array, or arrays of the wrong kind.
    """
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a valid npz archive (corrupt or truncated); {REFETCH_HINT}")
    keys = _KERAS_KEYS[split]
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in keys if key not in archive.files]
            if missing:
                raise DataError(
                    f"{path}: missing array {', '.join(missing)}; a Keras {KERAS_FILE} "
                    f"holds x_train, y_train, x_test, y_test; {REFETCH_HINT}"
                )
            images, labels = (archive[key] for key in keys)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise DataError(f"{path}: corrupt npz archive ({err}); {REFETCH_HINT}") from None
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataError(
            f"{path}: {keys[0]} must be a 3-d uint8 array of images, found "
            f"{images.ndim}-d {images.dtype}; {REFETCH_HINT}"
        )
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"{path}: {keys[1]} must be a 1-d integer array of labels, found "
            f"{labels.ndim}-d {labels.dtype}; {REFETCH_HINT}"
        )
    return images, labels


def _parse_idx(content: bytes, path: Path, ndim: int | None) -> np.ndarray:
    """Decode the bytes of an uncompressed idx file."""
    if len(content) < 4:
        raise DataError(
            f"{path}: truncated: {len(content)} bytes is too short for an idx header; "
            f"{REFETCH_HINT}"
        )
    magic = int.from_bytes(content[:4], "big")
    file_ndim = content[3]
    magic_ok = content[:3] == bytes([0, 0, _IDX_UBYTE]) and file_ndim > 0
    if not magic_ok or (ndim is not None and file_ndim != ndim):
        if ndim is None:
            expected = "0x000008NN (unsigned bytes, NN dimensions)"
        else:
            kind = {1: "label", 3: "image"}.get(ndim, f"{ndim}-d")
            expected = f"0x{(_IDX_UBYTE << 8) + ndim:08x} ({kind} file of unsigned bytes)"
        raise DataError(
            f"{path}: wrong magic number 0x{magic:08x}, expected {expected}; {FORMAT_HINT}"
        )
    header_size = 4 + 4 * file_ndim
    if len(content) < header_size:
        raise DataError(
            f"{path}: truncated: the header of a {file_ndim}-d idx file needs "
            f"{header_size} bytes, the file has {len(content)}; {REFETCH_HINT}"
        )
    dims = tuple(int(d) for d in np.frombuffer(content, ">u4", count=file_ndim, offset=4))
    expected_size = math.prod(dims)
    actual_size = len(content) - header_size
    if actual_size < expected_size:
        raise DataError(
            f"{path}: truncated: the header promises shape {dims} ({expected_size} bytes "
            f"of data) but only {actual_size} bytes follow; {REFETCH_HINT}"
        )
    if actual_size > expected_size:
        raise DataError(
            f"{path}: too long: {actual_size - expected_size} extra bytes after the "
            f"data of shape {dims} the header describes; {REFETCH_HINT}"
        )
    data = np.frombuffer(content, np.uint8, count=expected_size, offset=header_size)
    return data.reshape(dims).copy()


def temp_path(path: Path) -> Path:
    """Return a temporary name next to `path`, for writing before an atomic rename."""
    return path.with_name(f".{path.name}.{os.getpid()}.part")
