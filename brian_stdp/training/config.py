"""The settings of one spiking-network run (:class:`RunConfig`), saved as ``config.json``,
and the one reader of a run directory's ``config.json`` (:func:`read_run_config`).

Kept apart from :mod:`brian_stdp.training.trainer` so that code which only plans runs
(the grid runner and its Dask workers) never imports Brian2: Brian2 installs
its own Ctrl-C handler when imported.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from brian_stdp.backends.devices import DEFAULT_DEVICE, check_device
from brian_stdp.cli import check_positive, count, setting, whole_number_or
from brian_stdp.data.datasets import check_selection
from brian_stdp.errors import ConfigError
from brian_stdp.training import evaluation, rundir


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


#: ``--threads auto`` (the default) runs 2 threads from this many output neurons on, where
#: they train faster than one; below, one (runs/README.md, Speed and memory).
AUTO_THREADS_FROM = 1600
#: Threads that ``--threads auto`` gives a network of ``AUTO_THREADS_FROM`` neurons or more.
AUTO_THREADS = 2
#: Cores that ``--threads auto`` leaves to the rest of the machine. The threads meet several
#: times per time step, so both stall whenever one loses its core to another process (the
#: run's own Python parent, the system, a neighbour on a shared host): on a 2-core machine
#: two threads ranged from 0.4 to 1.4 times one on different days, and from 1.3 (1,600
#: neurons) to 1.6 (6,400) on an idle one with the input synapses stored by block of
#: targets, guards around the arrays and the serial work beside the split code
#: (runs/README.md, Speed and memory), and ``auto`` gives them one there.
AUTO_SPARE_CORES = 1
#: ``--threads auto`` in words, for the help of every command that takes ``--threads``.
AUTO_THREADS_RULE = (f"{AUTO_THREADS} from {AUTO_THREADS_FROM} neurons on where the process may "
                     f"use {AUTO_THREADS + AUTO_SPARE_CORES} cores or more (one is left to the "
                     f"rest of the machine), else 1")


def threads_flag(text: str):
    """A number of threads, or ``auto`` (None)."""
    return whole_number_or(text, "auto")


def resolve_threads(threads: int | None, neurons: int) -> int:
    """The threads of a simulation: ``threads``, or for None (``auto``)
    :data:`AUTO_THREADS` from :data:`AUTO_THREADS_FROM` output neurons on, at most the cores
    this process may use less :data:`AUTO_SPARE_CORES`; else 1."""
    if threads is not None:
        return threads
    if neurons < AUTO_THREADS_FROM:
        return 1
    return max(1, min(AUTO_THREADS, available_cores() - AUTO_SPARE_CORES))


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run (saved as ``config.json``); every field is also a
    flag of ``python -m brian_stdp.run`` (:func:`brian_stdp.cli.setting`).

    Attributes
    ----------
    train : int or None
        Use the first ``train`` training images (None: all); excludes ``per_class``.
    per_class : int or None
        Use ``per_class`` training images of each class, chosen with ``seed``.
    label : int or None
        Number of training images (from the start of the training selection)
        whose spike counts assign each neuron its class (None: all selected).
    test : int or None
        Number of test images, from the start of the test split (None: all).
    validation : int or None
        Hold out the last ``validation`` selected training images: neither
        trained nor labelled on, they replace the test images in the test phase
        (metrics say ``scored_on: validation``), and the test split is not read.
        None: no validation split.
    chunk : int
        Presentation slots per compiled run.
    threads : int or None
        Threads of each simulation (:mod:`brian_stdp.backends.threads`); None (``auto``):
        :func:`resolve_threads`, which a new run saves as a number.
    workers : int
        Processes that label and test (this one and ``workers - 1`` spawned ones, each
        compiling the network once); the results do not depend on it. Default: the
        cores this process may use.
    eval_every_epoch : bool
        Label and test after every epoch, not only after the last one.
    labelling : str or None
        ``"standard"`` or ``"last-winner"`` (see
        :data:`brian_stdp.training.evaluation.LABELLINGS`); None: the model file's
        ``[protocol] labelling``. The standard evaluation is always made;
        ``last-winner`` adds the paper's (label of each neuron's last won
        training image, prediction by the most active neuron).
    silence_below : int
        In the label and test phases, keep silent the neurons that won fewer than
        ``silence_below`` training images (their adaptive threshold ``exc.theta``
        raised by 1 V; :func:`brian_stdp.training.scoring.silenced_neurons`); 0: none.
        Training is not affected.
    init_from : str or None
        Start from the network of the finished run in this folder and train it for
        ``epochs`` more (:mod:`brian_stdp.training.continuation`); None: a fresh network.
    """

    model: str = setting("diehl_cook_2015", "model file path, or one of the shipped models",
                         metavar="MODEL")
    neurons: int = setting(400, "excitatory (output) neurons", metavar="N")
    dataset: str = setting("mnist", "mnist, fashion-mnist or digits", metavar="NAME")
    train: int | None = setting(10000, "first N training images, or 'all'", parse=count,
                                metavar="N")
    per_class: int | None = setting(None, "K training images per class instead of --train "
                                          "(chosen with --seed)", parse=int, metavar="K")
    epochs: int = setting(1, "passes over the training images", metavar="N")
    label: int | None = setting(5000, "training images used to label the neurons, or 'all'",
                                parse=count, metavar="N")
    test: int | None = setting(2000, "test images, or 'all'", parse=count, metavar="N")
    validation: int | None = setting(
        None, "hold out the last N selected training images (not trained or labelled on) "
              "and score them instead of the test images", parse=int, metavar="N")
    seed: int = setting(0, "seed of everything random: initial weights, image order, input "
                           "spikes, the --per-class choice", metavar="N")
    device: str = setting(DEFAULT_DEVICE, "simulation device", metavar="NAME")
    threads: int | None = setting(
        None, f"threads of each simulation (cpp_standalone), or 'auto': {AUTO_THREADS_RULE} "
              f"(runs/README.md, Threads). Reproducible for a given number; another number "
              f"gives the same result to the bit with Diehl & Cook's models, up to "
              f"floating-point rounding where a pathway adds through per-thread buffers (the "
              f"LC-SNN). Labelling and testing "
              f"run on at most cores/threads --workers processes", parse=threads_flag,
        metavar="N")
    chunk: int = setting(1000, "presentations per compiled run (checkpoint interval)",
                         metavar="N")
    workers: int = setting(available_cores(), "processes that label and test, each with its "
                           "own compiled network (1: only this one); the results do not "
                           "depend on it", metavar="N")
    data_dir: str | None = setting(None, "folder with the dataset's idx files (else "
                                         "$BRIAN_STDP_DATA, the cache)", metavar="DIR")
    eval_every_epoch: bool = setting(False, "label and test after every epoch")
    keep_build: bool = setting(False, "keep the compiled program in RUN_DIR/build")
    labelling: str | None = setting(
        None, "neuron labelling: the standard one is always made; last-winner adds the "
              "paper's (default: the model file's [protocol] labelling)",
        choices=evaluation.LABELLINGS)
    silence_below: int = setting(
        0, "label and test with the neurons that won fewer than K training images kept "
           "silent (adaptive threshold theta raised by 1 V; 1: those that never won; 0: "
           "none). Training is not affected. Needs a model whose exc threshold uses theta "
           "and that does not set theta again per image (not wolff_2022)",
        metavar="K")
    init_from: str | None = setting(
        None, "start from the trained network of the finished run in RUN_DIR and train it "
              "for --epochs more; with its --seed, the result of one run of all the epochs, "
              "to the bit", metavar="RUN_DIR")

    def check(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid value, or
        :class:`~brian_stdp.errors.DeviceError` if the device cannot run here."""
        self.check_values()
        check_device(self.device)

    def check_values(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid value (the device is
        only checked to be a name: whether it can run here is :meth:`check`'s)."""
        for key in ("model", "dataset", "device"):
            if not isinstance(getattr(self, key), str):
                raise ConfigError(f"--{key} must be a name, not {getattr(self, key)!r}")
        for key in ("data_dir", "init_from"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"--{key.replace('_', '-')} must be a folder name, not "
                                  f"{value!r}")
        for key in ("eval_every_epoch", "keep_build"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"--{key.replace('_', '-')} is a switch: true or false, "
                                  f"not {getattr(self, key)!r}")
        for key in ("neurons", "epochs", "chunk", "workers"):
            check_positive(getattr(self, key), f"--{key.replace('_', '-')}")
        check_positive(self.threads, "--threads", optional=True)
        if not (isinstance(self.silence_below, int) and not isinstance(self.silence_below, bool)
                and self.silence_below >= 0):
            raise ConfigError(f"--silence-below must be a whole number of at least 0, not "
                              f"{self.silence_below!r}")
        check_selection(self, ("train", "per_class", "label", "test", "validation"))
        if self.labelling is not None and self.labelling not in evaluation.LABELLINGS:
            raise ConfigError(f"--labelling {self.labelling}: unknown labelling (choose from "
                              f"{', '.join(evaluation.LABELLINGS)})")

    @classmethod
    def from_dict(cls, values: dict, source: str) -> "RunConfig":
        """A config from a dict, rejecting unknown keys (named with ``source``)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)} (known: "
                              f"{', '.join(sorted(known))}); correct or remove them")
        return cls(**values)


def read_run_config(run_dir) -> RunConfig:
    """The settings of the run in ``run_dir``, read from its ``config.json`` and checked.

    Every command that reads a spiking-network run's settings (classify, resume,
    readout, compare) reads them here, so a damaged file gets the same error from each.
    Whether the run's device can run here is not checked (see :meth:`RunConfig.check`).

    Raises
    ------
    ConfigError
        Naming the file: it is missing, not JSON, not a JSON object, has an
        unknown key or an invalid value.
    """
    path = Path(run_dir) / rundir.CONFIG
    if not path.is_file():
        raise ConfigError(f"{run_dir}: no {rundir.CONFIG} there; not a run directory")
    values = rundir.load_json(path)
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: not a JSON object of run settings but a "
                          f"{type(values).__name__}; the file is damaged: restore it, or "
                          f"start the run again in a new folder")
    config = RunConfig.from_dict(values, str(path))
    try:
        config.check_values()
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}; the file is damaged or was edited: correct the "
                          f"value, or start the run again in a new folder") from None
    return config
