"""Image datasets as uint8 arrays, and which training images a run uses.

:func:`load_dataset` gives one split of MNIST, Fashion-MNIST or scikit-learn's digits as
a :class:`Dataset`: images (n, height, width) uint8 and labels (n,) int64, checked
(image size, matching counts, labels 0..9). Where the files are found, and MNIST's
download, is :mod:`~brian_stdp.data.sources`; reading them is :mod:`~brian_stdp.data.formats`.
Every problem with a file raises :class:`~brian_stdp.errors.DataError` naming the file,
the problem and what to do.

The selection helpers (:func:`check_selection`, :func:`select_indices`,
:func:`split_validation`, :func:`iter_chunks`, :func:`selection_name`,
:func:`describe_selection`) choose and stream images by index and name the choice; they
build no spike trains.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from brian_stdp.cli import check_positive, check_seed
from brian_stdp.data.formats import (FORMAT_HINT, IDX_FILES, KERAS_FILE, REFETCH_HINT, read_idx,
                                     read_keras)
from brian_stdp.data.sources import DATASETS, check_choice, find_or_download, idx_path
from brian_stdp.errors import ConfigError, DataError

SPLITS = ("train", "test")
N_CLASSES = 10

_IMAGE_SIDE = 28

_DIGITS_N_TRAIN = 1347

#: Images in each dataset's training split (what a run trains on when it selects them all).
TRAIN_SIZES = {"mnist": 60_000, "fashion-mnist": 60_000, "digits": _DIGITS_N_TRAIN}

_DIGITS_MAX_VALUE = 16


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of an image dataset.

    Attributes
    ----------
    name : str
        One of :data:`~brian_stdp.data.sources.DATASETS`.
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
        One of :data:`~brian_stdp.data.sources.DATASETS`.
    split : str
        ``"train"`` or ``"test"``.
    data_dir : str or os.PathLike, optional
        Folder holding the dataset's files; when given, no other place is searched.
        Ignored for ``"digits"``.
    download : bool
        Whether MNIST may be downloaded into
        :func:`~brian_stdp.data.sources.default_cache_dir` when it is found nowhere;
        the environment variable ``BRIAN_STDP_NO_DOWNLOAD`` overrides this.
        Fashion-MNIST is never downloaded.

    Returns
    -------
    Dataset
        Images (n, height, width) uint8 and labels (n,) int64.

    Raises
    ------
    DataError
        Unknown name or split, dataset not found, or a missing or malformed file.
    """
    check_choice("dataset", name, DATASETS)
    check_choice("split", split, SPLITS)
    if name == "digits":
        return _load_digits(split)
    return _load_from_folder(name, split, find_or_download(name, data_dir, download))


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
    check_seed(config.seed)


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


def _load_from_folder(name: str, split: str, folder: Path) -> Dataset:
    image_stem, label_stem = IDX_FILES[split]
    image_path = idx_path(folder, image_stem)
    label_path = idx_path(folder, label_stem)
    if image_path is not None and label_path is not None:
        images = read_idx(image_path, ndim=3)
        labels = read_idx(label_path, ndim=1)
        source = str(folder)
    else:
        image_path = label_path = folder / KERAS_FILE
        images, labels = read_keras(image_path, split)
        source = str(image_path)
    _check_arrays(name, images, labels, image_path, label_path)
    return Dataset(name, split, images, labels.astype(np.int64), source)


def _check_arrays(
    name: str, images: np.ndarray, labels: np.ndarray, image_path: Path, label_path: Path
) -> None:
    """Check image size, matching counts and label range of a loaded split."""
    height, width = images.shape[1:]
    if (height, width) != (_IMAGE_SIDE, _IMAGE_SIDE):
        raise DataError(
            f"{image_path}: wrong image size {height}x{width}; {name} images are "
            f"{_IMAGE_SIDE}x{_IMAGE_SIDE}; {FORMAT_HINT}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"image and label counts disagree: {image_path} holds {len(images)} images "
            f"but {label_path} holds {len(labels)} labels; {REFETCH_HINT}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        bad = labels[(labels < 0) | (labels >= N_CLASSES)][0]
        raise DataError(
            f"{label_path}: label {bad} out of range; labels must lie in "
            f"0..{N_CLASSES - 1}; {REFETCH_HINT}"
        )


def _load_digits(split: str) -> Dataset:
    """scikit-learn's 8x8 digits, scaled from 0..16 to 0..255; first 1347 train, rest test."""
    from sklearn.datasets import load_digits  # deferred: importing scikit-learn is slow

    bunch = load_digits()
    images = np.rint(bunch.images * (255 / _DIGITS_MAX_VALUE)).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    part = slice(None, _DIGITS_N_TRAIN) if split == "train" else slice(_DIGITS_N_TRAIN, None)
    return Dataset("digits", split, images[part], labels[part], "scikit-learn digits")


def selection_name(train, per_class) -> str:
    """``all``, ``first<N>`` or ``pc<K>`` from a run's ``train`` and ``per_class``."""
    if per_class is not None:
        return f"pc{per_class}"
    if train is not None:
        return f"first{train}"
    return "all"


def describe_selection(data: str) -> str:
    """Words for a selection name: ``pc80`` -> ``80 images per class``."""
    if data == "all":
        return "the full training set"
    if data.startswith("pc"):
        return f"{data[2:]} images per class"
    return f"the first {data[5:]} training images"
