"""Image datasets as uint8 arrays: MNIST, Fashion-MNIST and scikit-learn's digits.

MNIST and Fashion-MNIST are read from the four standard idx files
(``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each gzipped or raw);
MNIST is also read from a Keras ``mnist.npz`` cache file and, when allowed,
downloaded into :func:`default_cache_dir`. The digits come with scikit-learn.

Where a dataset is looked for (first folder holding it wins):

- an explicit ``data_dir`` is the only place looked at; it must hold the dataset;
- MNIST: ``$BRIAN_STDP_DATA``, ``default_cache_dir()/mnist``, ``~/.keras/datasets``;
- Fashion-MNIST: ``$BRIAN_STDP_DATA/../fashion-mnist``,
  ``$BRIAN_STDP_DATA/fashion-mnist``, ``/usr/share/datasets/fashion-mnist``
  (Debian package ``dataset-fashion-mnist``), ``default_cache_dir()/fashion-mnist``,
  ``~/.keras/datasets/fashion-mnist``.

Setting ``BRIAN_STDP_NO_DOWNLOAD`` to a true value (``1``, ``yes``, ...) forbids
downloading. Every problem with a file raises :class:`~brian_stdp.errors.DataError`
naming the file, the problem and what to do.

The index helpers (:func:`select_indices`, :func:`split_validation`,
:func:`iter_chunks`) choose and stream images by index; they build no spike trains.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import math
import os
import shutil
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from brian_stdp.cli import check_positive
from brian_stdp.errors import ConfigError, DataError

DATASETS = ("mnist", "fashion-mnist", "digits")
SPLITS = ("train", "test")
N_CLASSES = 10

DATA_ENV = "BRIAN_STDP_DATA"
NO_DOWNLOAD_ENV = "BRIAN_STDP_NO_DOWNLOAD"

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IMAGE_SIDE = 28
_IDX_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"

_KERAS_FILE = "mnist.npz"
_KERAS_KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}

_MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
# sha256 of the uncompressed idx files, keyed by file name without ".gz".
_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_DOWNLOAD_TIMEOUT_S = 60

_DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

_DIGITS_N_TRAIN = 1347

#: Images in each dataset's training split (what a run trains on when it selects them all).
TRAIN_SIZES = {"mnist": 60_000, "fashion-mnist": 60_000, "digits": _DIGITS_N_TRAIN}

_DIGITS_MAX_VALUE = 16

_REFETCH_HINT = "delete it and download it again, or check --data-dir"
_FORMAT_HINT = "check that --data-dir points at MNIST-format idx files"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of an image dataset.

    Attributes
    ----------
    name : str
        One of :data:`DATASETS`.
    split : str
        ``"train"`` or ``"test"``.
    images : numpy.ndarray
        Shape ``(n, height, width)``, dtype uint8, values 0..255.
    labels : numpy.ndarray
        Shape ``(n,)``, dtype int64, values ``0 .. n_classes - 1``.
    source : str
        Where the data came from: a folder, a file, or ``"scikit-learn digits"``.
    """

    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    source: str

    @property
    def n_classes(self) -> int:
        """Number of classes (10 for every dataset here)."""
        return N_CLASSES

    @property
    def shape(self) -> tuple[int, int]:
        """Image shape ``(height, width)`` in pixels."""
        height, width = self.images.shape[1:]
        return height, width

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices) -> Dataset:
        """Return the images and labels at `indices`, keeping name, split and source.

        Parameters
        ----------
        indices : array_like of int, shape (k,)
            Positions into this dataset, e.g. from :func:`select_indices`.

        Returns
        -------
        Dataset
            With ``images[indices]`` (k, height, width) and ``labels[indices]`` (k,).
        """
        indices = np.asarray(indices)
        return replace(self, images=self.images[indices], labels=self.labels[indices])


def load_dataset(
    name: str, split: str = "train", data_dir=None, download: bool = True
) -> Dataset:
    """Load one split of a dataset.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    split : str
        ``"train"`` or ``"test"``.
    data_dir : str or os.PathLike, optional
        Folder holding the dataset's files; when given, no other place is searched.
        Ignored for ``"digits"``.
    download : bool
        Whether MNIST may be downloaded into :func:`default_cache_dir` when it is
        found nowhere; the environment variable ``BRIAN_STDP_NO_DOWNLOAD`` overrides
        this. Fashion-MNIST is never downloaded.

    Returns
    -------
    Dataset
        Images (n, height, width) uint8 and labels (n,) int64.

    Raises
    ------
    DataError
        Unknown name or split, dataset not found, or a missing or malformed file.
    """
    _check_choice("dataset", name, DATASETS)
    _check_choice("split", split, SPLITS)
    if name == "digits":
        return _load_digits(split)
    folder = find_data_dir(name, data_dir)
    if folder is None:
        if name == "mnist" and _download_allowed(download):
            folder = _download_mnist(default_cache_dir() / "mnist")
        else:
            raise DataError(_not_found_message(name, download))
    return _load_from_folder(name, split, folder)


def find_data_dir(name: str, data_dir=None) -> Path | None:
    """Return the first folder that holds the dataset `name`, or None.

    A folder holds MNIST or Fashion-MNIST when it contains all four idx files
    (gzipped or raw); a folder holding a Keras ``mnist.npz`` also holds MNIST.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`; ``"digits"`` needs no folder and gives None.
    data_dir : str or os.PathLike, optional
        Explicit folder; when given it is the only candidate.

    Returns
    -------
    pathlib.Path or None
        The folder, or None when no searched folder holds the dataset.

    Raises
    ------
    DataError
        Unknown name, or an explicit `data_dir` that is missing or lacks the files.
    """
    _check_choice("dataset", name, DATASETS)
    if name == "digits":
        return None
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            raise DataError(f"data folder {folder} does not exist; check --data-dir")
        if not _holds_dataset(name, folder):
            missing = ", ".join(f"{stem}[.gz]" for stem in _missing_idx_files(folder))
            alternative = f" (nor a Keras {_KERAS_FILE})" if name == "mnist" else ""
            raise DataError(
                f"data folder {folder} does not hold {name}: missing {missing}"
                f"{alternative}; check --data-dir"
            )
        return folder
    for folder in _search_dirs(name):
        if _holds_dataset(name, folder):
            return folder
    return None


def default_cache_dir() -> Path:
    """Return ``$XDG_CACHE_HOME/brian_stdp``, or ``~/.cache/brian_stdp`` when unset."""
    cache_home = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache_home) if cache_home else Path.home() / ".cache"
    return base / "brian_stdp"


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
                f"{path}: corrupt or truncated gzip data ({err}); {_REFETCH_HINT}"
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
    tmp = _temp_path(path)
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_selection(config, optional_counts: tuple) -> None:
    """Check the data-selection settings shared by the SNN and ANN run configs.

    Parameters
    ----------
    config : object
        Has ``train``, ``per_class``, ``dataset`` and ``seed`` attributes, and
        every name in ``optional_counts``.
    optional_counts : tuple of str
        Attributes that are a positive whole number or None (left out).

    Raises
    ------
    ConfigError
        Naming the first invalid flag.
    """
    for key in optional_counts:
        check_positive(getattr(config, key), f"--{key.replace('_', '-')}", optional=True)
    if config.train is not None and config.per_class is not None:
        raise ConfigError("--train and --per-class exclude each other: give one")
    if config.dataset not in DATASETS:
        raise ConfigError(f"--dataset {config.dataset}: unknown dataset (choose from "
                          f"{', '.join(DATASETS)})")
    if not isinstance(config.seed, int) or not 0 <= config.seed < 2**32:
        raise ConfigError(f"--seed must be a whole number in [0, 2**32), not {config.seed!r}")


def select_indices(labels, n=None, per_class=None, seed=0) -> np.ndarray:
    """Choose which images of a split to use.

    Parameters
    ----------
    labels : array_like of int, shape (n_images,)
        Class labels 0..9 of the whole split.
    n : int, optional
        Take the first `n` images.
    per_class : int, optional
        Take `per_class` images of every class, drawn at random without
        replacement using ``numpy.random.default_rng(seed)``.
    seed : int
        Seed for `per_class` sampling; the same seed gives the same indices.

    Returns
    -------
    numpy.ndarray
        Shape (k,), dtype int64, sorted ascending. All images when neither `n`
        nor `per_class` is given.

    Raises
    ------
    DataError
        Both `n` and `per_class` given, a non-positive count, more images asked
        for than available, or a class with fewer than `per_class` images.
    """
    labels = np.asarray(labels)
    if n is not None and per_class is not None:
        raise DataError(
            "n and per_class exclude each other: give n for the first n images "
            "or per_class for a balanced random sample, not both"
        )
    if n is not None:
        if not 0 < n <= len(labels):
            raise DataError(
                f"n={n} images asked for, but between 1 and {len(labels)} are available"
            )
        return np.arange(n, dtype=np.int64)
    if per_class is None:
        return np.arange(len(labels), dtype=np.int64)
    if per_class <= 0:
        raise DataError(f"per_class={per_class} must be a positive number of images per class")
    rng = np.random.default_rng(seed)
    chosen = []
    for label, count in enumerate(np.bincount(labels, minlength=N_CLASSES)):
        if count < per_class:
            raise DataError(
                f"class {label} has only {count} images, fewer than per_class={per_class}"
            )
        members = np.flatnonzero(labels == label)
        chosen.append(rng.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def split_validation(indices, n_validation: int, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Hold out `n_validation` of `indices`, chosen at random, for validation.

    Parameters
    ----------
    indices : array_like of int, shape (k,)
        Distinct image indices, e.g. from :func:`select_indices`.
    n_validation : int
        How many to hold out, 0 <= n_validation < k.
    seed : int
        Seed for ``numpy.random.default_rng``; the same seed gives the same split.

    Returns
    -------
    train, validation : numpy.ndarray
        Shapes (k - n_validation,) and (n_validation,), dtype int64, each sorted
        ascending; disjoint, and together exactly `indices`.

    Raises
    ------
    DataError
        Repeated indices, or `n_validation` out of range.
    """
    indices = np.asarray(indices, dtype=np.int64)
    if len(np.unique(indices)) != len(indices):
        raise DataError("cannot split indices for validation: some indices are repeated")
    if not 0 <= n_validation < len(indices):
        raise DataError(
            f"n_validation={n_validation} must be at least 0 and less than the "
            f"{len(indices)} images selected, so some remain for training"
        )
    order = np.random.default_rng(seed).permutation(len(indices))
    validation = np.sort(indices[order[:n_validation]])
    train = np.sort(indices[order[n_validation:]])
    return train, validation


def iter_chunks(indices, chunk_size: int) -> Iterator[np.ndarray]:
    """Iterate over consecutive slices of `indices`.

    Parameters
    ----------
    indices : array_like of int, shape (k,)
        Image indices in the order they are to be presented.
    chunk_size : int
        Length of each slice; the last one may be shorter.

    Returns
    -------
    Iterator[numpy.ndarray]
        Slices of shape (chunk_size,), the last of shape (k % chunk_size,) when
        that is not zero.

    Raises
    ------
    DataError
        `chunk_size` is not positive (raised at the call, not on iteration).
    """
    if chunk_size <= 0:
        raise DataError(f"chunk_size={chunk_size} must be a positive number of images")
    indices = np.asarray(indices)
    return (indices[start : start + chunk_size] for start in range(0, len(indices), chunk_size))


def _check_choice(kind: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise DataError(f"unknown {kind} {value!r}; choose one of: {', '.join(choices)}")


def _env_flag(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() not in ("", "0", "false", "no", "off")


def _download_allowed(download: bool) -> bool:
    return download and not _env_flag(NO_DOWNLOAD_ENV)


def _keras_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _search_dirs(name: str) -> list[Path]:
    """Folders searched for `name` when no data_dir is given, in order."""
    env_dir = os.environ.get(DATA_ENV)
    if name == "mnist":
        env_dirs = [Path(env_dir)] if env_dir else []
        return [*env_dirs, default_cache_dir() / "mnist", _keras_dir()]
    env_dirs = (
        [Path(env_dir).resolve().parent / "fashion-mnist", Path(env_dir) / "fashion-mnist"]
        if env_dir
        else []
    )
    return [
        *env_dirs,
        _DEBIAN_FASHION_DIR,
        default_cache_dir() / "fashion-mnist",
        _keras_dir() / "fashion-mnist",
    ]


def _idx_path(folder: Path, stem: str) -> Path | None:
    """The gzipped or raw idx file `stem` in `folder`, or None."""
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _missing_idx_files(folder: Path) -> list[str]:
    stems = [stem for pair in _IDX_FILES.values() for stem in pair]
    return [stem for stem in stems if _idx_path(folder, stem) is None]


def _holds_dataset(name: str, folder: Path) -> bool:
    if not _missing_idx_files(folder):
        return True
    return name == "mnist" and (folder / _KERAS_FILE).is_file()


def _not_found_message(name: str, download: bool) -> str:
    searched = "\n".join(f"  {folder}" for folder in _search_dirs(name))
    if name == "mnist":
        if download:
            reason, allow = f"{NO_DOWNLOAD_ENV} is set", f"unset {NO_DOWNLOAD_ENV}"
        else:
            reason, allow = "download=False", "download=True"
        why = f"downloading is off ({reason})"
        fix = (
            "pass --data-dir FOLDER holding the four idx files (or mnist.npz), "
            f"set {DATA_ENV}=FOLDER, or allow downloading ({allow})"
        )
    else:
        why = "Fashion-MNIST is never downloaded"
        fix = (
            "install the Debian package dataset-fashion-mnist "
            "(apt-get install dataset-fashion-mnist) or pass --data-dir FOLDER "
            "holding the four Fashion-MNIST idx files"
        )
    return f"{name} not found; looked in:\n{searched}\n{why}. To fix: {fix}."


def _load_from_folder(name: str, split: str, folder: Path) -> Dataset:
    image_stem, label_stem = _IDX_FILES[split]
    image_path = _idx_path(folder, image_stem)
    label_path = _idx_path(folder, label_stem)
    if image_path is not None and label_path is not None:
        images = read_idx(image_path, ndim=3)
        labels = read_idx(label_path, ndim=1)
        source = str(folder)
    else:
        image_path = label_path = folder / _KERAS_FILE
        images, labels = _read_keras(image_path, split)
        source = str(image_path)
    _check_arrays(name, images, labels, image_path, label_path)
    return Dataset(name, split, images, labels.astype(np.int64), source)


def _read_keras(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 28, 28) uint8 and labels (n,) of `split` from a Keras mnist.npz."""
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a valid npz archive (corrupt or truncated); {_REFETCH_HINT}")
    keys = _KERAS_KEYS[split]
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in keys if key not in archive.files]
            if missing:
                raise DataError(
                    f"{path}: missing array {', '.join(missing)}; a Keras {_KERAS_FILE} "
                    f"holds x_train, y_train, x_test, y_test; {_REFETCH_HINT}"
                )
            images, labels = (archive[key] for key in keys)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise DataError(f"{path}: corrupt npz archive ({err}); {_REFETCH_HINT}") from None
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataError(
            f"{path}: {keys[0]} must be a 3-d uint8 array of images, found "
            f"{images.ndim}-d {images.dtype}; {_REFETCH_HINT}"
        )
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"{path}: {keys[1]} must be a 1-d integer array of labels, found "
            f"{labels.ndim}-d {labels.dtype}; {_REFETCH_HINT}"
        )
    return images, labels


def _check_arrays(
    name: str, images: np.ndarray, labels: np.ndarray, image_path: Path, label_path: Path
) -> None:
    """Check image size, matching counts and label range of a loaded split."""
    height, width = images.shape[1:]
    if (height, width) != (_IMAGE_SIDE, _IMAGE_SIDE):
        raise DataError(
            f"{image_path}: wrong image size {height}x{width}; {name} images are "
            f"{_IMAGE_SIDE}x{_IMAGE_SIDE}; {_FORMAT_HINT}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"image and label counts disagree: {image_path} holds {len(images)} images "
            f"but {label_path} holds {len(labels)} labels; {_REFETCH_HINT}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        bad = labels[(labels < 0) | (labels >= N_CLASSES)][0]
        raise DataError(
            f"{label_path}: label {bad} out of range; labels must lie in "
            f"0..{N_CLASSES - 1}; {_REFETCH_HINT}"
        )


def _parse_idx(content: bytes, path: Path, ndim: int | None) -> np.ndarray:
    """Decode the bytes of an uncompressed idx file."""
    if len(content) < 4:
        raise DataError(
            f"{path}: truncated: {len(content)} bytes is too short for an idx header; "
            f"{_REFETCH_HINT}"
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
            f"{path}: wrong magic number 0x{magic:08x}, expected {expected}; {_FORMAT_HINT}"
        )
    header_size = 4 + 4 * file_ndim
    if len(content) < header_size:
        raise DataError(
            f"{path}: truncated: the header of a {file_ndim}-d idx file needs "
            f"{header_size} bytes, the file has {len(content)}; {_REFETCH_HINT}"
        )
    dims = tuple(int(d) for d in np.frombuffer(content, ">u4", count=file_ndim, offset=4))
    expected_size = math.prod(dims)
    actual_size = len(content) - header_size
    if actual_size < expected_size:
        raise DataError(
            f"{path}: truncated: the header promises shape {dims} ({expected_size} bytes "
            f"of data) but only {actual_size} bytes follow; {_REFETCH_HINT}"
        )
    if actual_size > expected_size:
        raise DataError(
            f"{path}: too long: {actual_size - expected_size} extra bytes after the "
            f"data of shape {dims} the header describes; {_REFETCH_HINT}"
        )
    data = np.frombuffer(content, np.uint8, count=expected_size, offset=header_size)
    return data.reshape(dims).copy()


def _load_digits(split: str) -> Dataset:
    """scikit-learn's 8x8 digits, scaled from 0..16 to 0..255; first 1347 train, rest test."""
    from sklearn.datasets import load_digits  # deferred: importing scikit-learn is slow

    bunch = load_digits()
    images = np.rint(bunch.images * (255 / _DIGITS_MAX_VALUE)).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    part = slice(None, _DIGITS_N_TRAIN) if split == "train" else slice(_DIGITS_N_TRAIN, None)
    return Dataset("digits", split, images[part], labels[part], "scikit-learn digits")


def _temp_path(path: Path) -> Path:
    """A temporary name next to `path`, for writing before an atomic rename."""
    return path.with_name(f".{path.name}.{os.getpid()}.part")


def _fetch(url: str, dest_path: Path) -> None:
    """Copy the resource at `url` into the file `dest_path`."""
    with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:
        with open(dest_path, "wb") as out:
            shutil.copyfileobj(response, out)


def _download_mnist(folder: Path) -> Path:
    """Download the MNIST idx files missing from `folder`; return `folder`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot create the download folder {folder} ({err.strerror}); "
            f"set XDG_CACHE_HOME, or {DATA_ENV} to a folder holding MNIST"
        ) from None
    for stem, sha256 in _MNIST_SHA256.items():
        if _idx_path(folder, stem) is None:
            _download_verified(folder / f"{stem}.gz", sha256)
    return folder


def _download_verified(target: Path, sha256: str) -> None:
    """Fetch `target` from the first mirror whose file's uncompressed sha256 matches."""
    tmp = _temp_path(target)
    problems = []
    try:
        for mirror in _MNIST_MIRRORS:
            url = mirror + target.name
            _log.info("downloading %s", url)
            try:
                _fetch(url, tmp)
                actual = _gunzipped_sha256(tmp)
            except (OSError, EOFError, zlib.error, http.client.HTTPException) as err:
                problems.append(f"{url}: {err}")
                continue
            if actual == sha256:
                os.replace(tmp, target)
                return
            problems.append(f"{url}: checksum mismatch (sha256 {actual}, expected {sha256})")
    finally:
        tmp.unlink(missing_ok=True)
    raise DataError(
        f"could not download {target.name}:\n  " + "\n  ".join(problems) + "\n"
        f"Download the four MNIST idx files yourself into {target.parent}, or pass "
        f"--data-dir / set {DATA_ENV} to a folder that holds them."
    )


def _gunzipped_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with gzip.open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
