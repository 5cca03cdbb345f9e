"""Which images a run shows, phase by phase: the phases of a run and its image selection.

A run is a list of phases (:func:`phases`): ``train`` (plastic) for every epoch, then
``label`` and ``test``. :func:`select_images` picks the training images from the
run's settings (``train``, ``per_class``, ``seed``), keeps the first ``label`` of them for
labelling, holds out the last ``validation`` of them as the scored images if asked, and
otherwise scores the first ``test`` test images. :meth:`RunImages.stream` gives each
phase its images in the order they are shown.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from brian_stdp.data.datasets import Dataset, load_dataset, select_indices
from brian_stdp.errors import ConfigError, DataError
from brian_stdp.training.config import RunConfig


@dataclass(frozen=True)
class Phase:
    """One pass of images through the network."""

    kind: str  # "train", "label" or "test"
    epoch: int

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.epoch}"


def phases(config: RunConfig) -> list:
    """The phases of a run, in order."""
    out = []
    for epoch in range(1, config.epochs + 1):
        out.append(Phase("train", epoch))
        if config.eval_every_epoch or epoch == config.epochs:
            out += [Phase("label", epoch), Phase("test", epoch)]
    return out


def draw_indices(config: RunConfig, epochs_before: int = 0) -> list:
    """For each phase of :func:`phases` (``config``), the index its random draws are keyed
    by: its index among the phases of one run of ``epochs_before`` more epochs, where it
    is the same phase of epoch ``epochs_before + epoch`` (a run that continues another,
    :mod:`brian_stdp.training.continuation`, draws what that longer run would). For
    ``epochs_before`` 0, ``0, 1, 2, ...``."""
    longer = phases(dataclasses.replace(config, epochs=epochs_before + config.epochs))
    where = {(p.kind, p.epoch): k for k, p in enumerate(longer)}
    return [where[(p.kind, p.epoch + epochs_before)] for p in phases(config)]


@dataclass
class RunImages:
    """The images of one run.

    Attributes
    ----------
    train_set, test_set : Dataset
        ``test_set`` is ``train_set`` when the run scores held-out training images.
    train_idx : ndarray, shape (n_train,), int
        Training images (rows of ``train_set``), in selection order.
    label_idx : ndarray, shape (n_label,), int
        The first ``n_label`` of ``train_idx``.
    test_idx : ndarray, shape (n_test,), int
        Scored images (rows of ``test_set``).
    scored_on : str
        ``"test"`` (the test split) or ``"validation"`` (held-out training images).
    seed : int
        The run's seed (it orders every epoch's training images).
    epochs_before : int
        Epochs that the network was trained for before this run (``--init-from``): epoch
        ``e`` of this run shows the images in the order of epoch ``epochs_before + e``.
    """

    train_set: Dataset
    test_set: Dataset
    train_idx: np.ndarray
    label_idx: np.ndarray
    test_idx: np.ndarray
    scored_on: str
    seed: int
    epochs_before: int = 0

    @property
    def n_input(self) -> int:
        """Pixels per image."""
        return int(np.prod(self.train_set.shape))

    def stream(self, phase: Phase) -> tuple:
        """(dataset, indices) of the images a phase shows, in order."""
        if phase.kind == "train":
            rng = np.random.default_rng([self.seed, 2, self.epochs_before + phase.epoch])
            return self.train_set, rng.permutation(self.train_idx)
        if phase.kind == "label":
            return self.train_set, self.label_idx
        return self.test_set, self.test_idx


def select_images(c: RunConfig) -> RunImages:
    """The images of a run with settings ``c`` (of a fresh network: a run that continues
    another sets :attr:`RunImages.epochs_before`).

    Raises
    ------
    ConfigError
        Naming the flag, when the selection asks for more images than there are.
    """
    train_set = load_dataset(c.dataset, "train", data_dir=c.data_dir)
    try:
        train_idx = select_indices(train_set.labels, n=c.train, per_class=c.per_class,
                                   seed=c.seed)
    except DataError as err:
        flag = f"--per-class {c.per_class}" if c.per_class else f"--train {c.train}"
        raise ConfigError(f"{flag}: {err} in the {c.dataset} training split") from None
    if c.validation is not None:
        if c.validation >= len(train_idx):
            raise ConfigError(f"--validation {c.validation}: only {len(train_idx)} "
                              f"training images are selected; hold out fewer")
        train_idx, held_out = np.split(train_idx, [-c.validation])
    n_label = len(train_idx) if c.label is None else c.label
    if n_label > len(train_idx):
        raise ConfigError(f"--label {n_label}: only {len(train_idx)} training images "
                          f"are selected; label with at most that many")
    if c.validation is not None:  # the test phase scores the held-out training images
        test_set, test_idx, scored_on = train_set, held_out, "validation"
    else:
        test_set = load_dataset(c.dataset, "test", data_dir=c.data_dir)
        n_test = len(test_set) if c.test is None else c.test
        if n_test > len(test_set):
            raise ConfigError(f"--test {n_test}: the {c.dataset} test split has only "
                              f"{len(test_set)} images")
        test_idx, scored_on = np.arange(n_test), "test"
    return RunImages(train_set=train_set, test_set=test_set, train_idx=train_idx,
                     label_idx=train_idx[:n_label], test_idx=test_idx, scored_on=scored_on,
                     seed=c.seed)
