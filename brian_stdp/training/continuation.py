"""Training a finished run's network further (``--init-from RUN_DIR``).

A run started with ``--init-from SOURCE`` begins from the network that the finished run in
``SOURCE`` trained (its final state: weights, thresholds, every carried variable) instead of
a fresh one, and trains it for ``--epochs`` more. Its draws go on where the source's
stopped: the image order of each epoch, the input spikes of each chunk and the label and
test blocks are those of one run of the source's epochs plus this run's, so with the same
``--seed`` and ``--eval-every-epoch`` it ends with that longer run's network and test
counts, to the bit (``tests/training/test_continuation.py``). The neurons silenced by
``--silence-below`` count the source's training wins too. The last-winner labels
(``--labelling last-winner``) come from this run's training images only.

What the run takes from its source is recorded in its ``provenance.json``
(``init_from``: :class:`Continuation`), so that ``--resume`` needs only the source's
network if the run has no checkpoint yet.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brian_stdp.errors import ConfigError
from brian_stdp.training import rundir
from brian_stdp.training.checkpoint import Progress, load_checkpoint
from brian_stdp.training.config import read_run_config
from brian_stdp.training.scoring import EARLIER_TRAINING

#: The key of :class:`Continuation` in ``provenance.json``.
PROVENANCE_KEY = "init_from"


@dataclass(frozen=True)
class Continuation:
    """What a run that continues a finished one takes from it.

    Attributes
    ----------
    source : str
        The finished run's folder, as given to ``--init-from``.
    epochs_before : int
        Epochs its network was trained for (its own source's included).
    chunk_index : int
        Training chunks it ran (all of them, its own source's included): the first chunk
        of this run draws with the next seed.
    seed : int
        Its ``--seed``.
    """

    source: str
    epochs_before: int
    chunk_index: int
    seed: int

    @classmethod
    def from_dict(cls, values: dict, where: str) -> "Continuation":
        """The record ``values`` (as :func:`dataclasses.asdict` wrote it), read from
        ``where`` (named in the error)."""
        try:
            return cls(**values)
        except TypeError:
            raise ConfigError(f"{where}: {PROVENANCE_KEY} is not a record of the run this one "
                              f"continues ({values!r}); the file is damaged: restore it, or "
                              f"start the run again in a new folder") from None


def describe(source, neurons: int, image_shape: tuple) -> Continuation:
    """What a run of ``neurons`` output neurons on images of ``image_shape`` (pixels)
    started with ``--init-from source`` takes from it, read without loading its network.

    Raises
    ------
    ConfigError
        Naming ``--init-from`` and the folder: not a run, not finished, or a network of
        another size or trained on images of another shape.
    """
    flag = f"--init-from {source}"
    try:
        config = read_run_config(source)
    except ConfigError as err:
        raise ConfigError(f"{flag}: {err}") from None
    progress = _member(Path(source) / rundir.CHECKPOINT, "progress", _read_progress)
    if progress is None or not progress.done:
        why = (f"its {rundir.CHECKPOINT} stands before the end" if progress is not None
               else f"no readable {rundir.CHECKPOINT}")
        raise ConfigError(f"{flag}: the run there has not finished ({why}); finish it first "
                          f"with python -m brian_stdp.run --resume {source}")
    if config.neurons != neurons:
        raise ConfigError(f"{flag}: that network has {config.neurons} neurons, not "
                          f"{neurons}; give --neurons {config.neurons}")
    shape = _member(Path(source) / rundir.STATE, "image_shape",
                    lambda saved: tuple(int(n) for n in saved))
    if shape != tuple(image_shape):
        raise ConfigError(f"{flag}: that network was trained on images of shape {shape}, "
                          f"not {tuple(image_shape)}; give the --dataset it was trained on "
                          f"({config.dataset})")
    earlier = recorded(source)
    before = earlier.epochs_before if earlier is not None else 0
    return Continuation(source=str(source), epochs_before=before + config.epochs,
                        chunk_index=progress.chunk_index, seed=config.seed)


def _member(npz_file: Path, key: str, read):
    """``read`` of the array ``key`` of an ``.npz`` file, loaded alone (None: the file or
    the array is missing or unreadable)."""
    try:
        with np.load(npz_file) as arrays:
            return read(arrays[key])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_progress(saved) -> Progress:
    return Progress.from_json(str(saved))


def recorded(run_dir, required: bool = False) -> Continuation | None:
    """The :class:`Continuation` that ``run_dir``'s ``provenance.json`` records (None: the
    run started from a fresh network).

    Raises
    ------
    ConfigError
        With ``required``, where the record is missing: the file is damaged.
    """
    path = Path(run_dir) / rundir.PROVENANCE
    values = rundir.load_json(path) if path.is_file() else None
    if isinstance(values, dict) and values.get(PROVENANCE_KEY) is not None:
        return Continuation.from_dict(values[PROVENANCE_KEY], str(path))
    if required:
        raise ConfigError(f"{path}: no record of the run this one continues (its config.json "
                          f"sets init_from); the file is damaged: restore it, or start the "
                          f"run again in a new folder")
    return None


def same_model(source, spec) -> bool:
    """Whether ``spec`` is the model the run in ``source`` was trained with: the same text
    of its file and of each file it extends (the run's copies, ``model.toml`` ...)."""
    files = spec.copy_files(rundir.MODEL_COPY)
    return all((Path(source) / name).is_file()
               and (Path(source) / name).read_text(encoding="utf-8") == text
               for name, text in files.items())


def trained_network(continuation: Continuation) -> tuple:
    """``(state, winners)`` of the source: its final network state (``"object.variable"``
    to array) and the neuron that won each of its training images, all its epochs (its
    own source's first) in a row, shape (epochs_before * n_train,), int32."""
    path = Path(continuation.source) / rundir.CHECKPOINT
    try:
        _, state, records = load_checkpoint(path)
    except (OSError, ValueError, KeyError) as err:
        raise ConfigError(f"--init-from {continuation.source}: cannot read {path} ({err}); "
                          f"the file is damaged: run the source again") from None
    parts = [records.get(kind, {}).get("winner") for kind in (EARLIER_TRAINING, "train")]
    winners = np.concatenate([p for p in parts if p is not None] or [np.empty(0)])
    return state, winners.astype(np.int32)


def adopt(fresh: dict, trained: dict, source, whole: bool = True) -> dict:
    """The values of ``trained`` in place of the ``fresh`` ones a new run would start
    from (the network state, or with ``whole`` false a part of it such as the build-time
    values), after checking that they describe the same network: the same variables
    (``whole``: and no others), each of the same shape.

    Raises
    ------
    ConfigError
        Naming ``--init-from``, the first variables that differ and what to do.
    """
    missing = sorted(set(fresh) - set(trained))
    extra = sorted(set(trained) - set(fresh)) if whole else []
    shapes = sorted(key for key in set(fresh) & set(trained)
                    if np.shape(fresh[key]) != np.shape(trained[key]))
    problems = ([f"missing {', '.join(missing[:3])}"] if missing else []) + \
        ([f"not in this model: {', '.join(extra[:3])}"] if extra else []) + \
        [f"{key} of shape {np.shape(trained[key])}, not {np.shape(fresh[key])}"
         for key in shapes[:3]]
    if problems:
        raise ConfigError(f"--init-from {source}: its network is not this run's ("
                          f"{'; '.join(problems)}); continue it with its own model "
                          f"(its model.toml), neurons and dataset")
    return {key: np.array(trained[key], dtype=np.asarray(fresh[key]).dtype) for key in fresh}


def summary(continuation: Continuation) -> str:
    """One line for the log."""
    return (f"starting from the network of {continuation.source} "
            f"({continuation.epochs_before} epoch(s) trained, seed {continuation.seed}): "
            f"this run's epochs are its epochs {continuation.epochs_before + 1} on")

