"""Classify images with a trained run (``python -m brian_stdp.predict``).

Every image is shown to the trained network (plasticity off) with the same
presentation protocol as in testing (``[protocol] t_present_eval`` included),
re-presentations included, and is
classified by the vote of the labelled neurons, with both rules of the paper's
code: all activity and proportion weighting. Image files become network input in
:mod:`brian_stdp.data.images`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brian_stdp.backends.devices import DEFAULT_DEVICE, check_device, session_class
from brian_stdp.backends.network import fixed_keys
from brian_stdp.cli import check_positive
from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.images import prepare_images
from brian_stdp.errors import ConfigError
from brian_stdp.model.spec import ModelSpec, load_model
from brian_stdp.training import evaluation, rundir
from brian_stdp.training.chunks import blocks
from brian_stdp.training.compact import expand_state, is_compact
from brian_stdp.training.config import (RunConfig, available_cores, read_run_config,
                                       resolve_threads)
from brian_stdp.training.parallel import BlockPool, SessionRecipe, evaluate_blocks
from brian_stdp.training.scoring import silence
from brian_stdp.training.selection import phases

#: Most presentation slots compiled into one chunk.
MAX_SLOTS = 1000



@dataclass
class TrainedRun:
    """What a finished run directory holds for classification.

    Attributes
    ----------
    config : RunConfig
    spec : ModelSpec
        The run's own copy of the model (``model.toml``).
    state : dict of str to ndarray
        Network state saved at the end of the run (``state/`` keys of ``state.npz``);
        empty for a compact run.
    assignment : evaluation.Assignment
    image_shape : tuple of int
        (height, width) of the images the network was trained on.
    compact : dict of str to ndarray or None
        The arrays of a compact ``state.npz`` (:mod:`brian_stdp.pretrained`), else None.
    silenced : ndarray, shape (n_neurons,), bool, or None
        The neurons that the run's label and test phases kept silent (``--silence-below``),
        kept silent here too; None: none.
    """

    run_dir: Path
    config: RunConfig
    spec: ModelSpec
    state: dict
    assignment: evaluation.Assignment
    image_shape: tuple
    compact: dict | None = None
    silenced: np.ndarray | None = None

    @property
    def n_input(self) -> int:
        return int(np.prod(self.image_shape))


def load_run(run_dir) -> TrainedRun:
    """Read config, model and trained state of a finished run.

    Raises
    ------
    ConfigError
        A file is missing or damaged, or the files disagree with each other.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: no such run directory")
    config = read_run_config(run_dir)
    model_path = run_dir / rundir.MODEL_COPY
    if not model_path.is_file():
        raise ConfigError(f"{model_path}: not found; is {run_dir} a run directory?")
    spec = load_model(model_path)
    state_path = run_dir / rundir.STATE
    arrays = rundir.load_arrays(state_path)
    missing = [key for key in ("assignment", "rates", "proportions", "image_shape")
               if key not in arrays]
    if missing:
        raise ConfigError(f"{state_path}: lacks {', '.join(missing)}; the run did not finish "
                          f"or the file is damaged")
    state = {key[len("state/"):]: value for key, value in arrays.items()
             if key.startswith("state/")}
    compact = arrays if is_compact(arrays) else None
    if not state and compact is None:
        raise ConfigError(f"{state_path}: holds no network state (no 'state/...' arrays, "
                          f"no compact 'weights')")
    try:
        assignment = evaluation.Assignment(labels=arrays["assignment"], rates=arrays["rates"],
                                           proportions=arrays["proportions"])
    except ValueError as err:
        raise ConfigError(f"{state_path}: inconsistent neuron labels ({err})") from None
    if assignment.n_neurons != config.neurons:
        raise ConfigError(f"{state_path}: labels for {assignment.n_neurons} neurons, but "
                          f"{run_dir / rundir.CONFIG} says {config.neurons}")
    shape = tuple(int(v) for v in np.ravel(arrays["image_shape"]))
    if len(shape) != 2 or min(shape) <= 0:
        raise ConfigError(f"{state_path}: image_shape {shape} is not (height, width)")
    silenced = arrays.get("silenced")
    if silenced is not None and (silenced.dtype != bool or silenced.shape != (config.neurons,)):
        raise ConfigError(f"{state_path}: 'silenced' is not one bool per neuron "
                          f"({config.neurons}) but {silenced.dtype} of shape {silenced.shape}")
    return TrainedRun(run_dir=run_dir, config=config, spec=spec, state=state,
                      assignment=assignment, image_shape=shape, compact=compact,
                      silenced=silenced)


# -- classification ----------------------------------------------------------------------
def _saved(run: TrainedRun, key: str) -> np.ndarray:
    """One saved state array, with a clear error when the run's files disagree."""
    if key not in run.state:
        raise ConfigError(f"{run.run_dir / rundir.STATE}: lacks state/{key}, which "
                          f"{run.run_dir / rundir.MODEL_COPY} needs; the files do not "
                          f"belong together")
    return np.asarray(run.state[key])


def _fixed_values(run: TrainedRun) -> dict:
    """The saved build-time values (delays) of the run's network."""
    return {key: _saved(run, key) for key in fixed_keys(run.spec)}


def _session_and_state(run: TrainedRun, slots: int, device: str, build: Path) -> tuple:
    """The compiled-to-be session of a trained run, and the state each chunk starts from.

    A session built before the saved state turns out not to fit is closed again.
    """
    built = []
    spec = session_class(device).evaluation_spec(run.spec, run.config.neurons,
                                                 run.n_input)

    def make_session(fixed):
        built.append(session_class(device)(spec, run.config.neurons, run.n_input, slots,
                                           fixed, directory=build,
                                           threads=resolve_threads(run.config.threads,
                                                                   run.config.neurons)))
        return built[-1]

    try:
        if run.compact is not None:
            session, state = expand_state(run.compact, run.spec, run.config.seed,
                                          run.config.neurons, run.n_input, make_session)
        else:
            session = make_session(_fixed_values(run))
            state = _network_state(run, session)
        if run.silenced is not None:
            state = silence(state, run.silenced)
        return session, state
    except BaseException:
        for session in built:
            session.close()
        raise


def _network_state(run: TrainedRun, session) -> dict:
    """The saved state, checked against the network the model builds."""
    handles = session.handles
    state_path = run.run_dir / rundir.STATE
    state = dict(session.fixed)
    for obj_name, var_name in handles.state_vars:
        key = f"{obj_name}.{var_name}"
        value = _saved(run, key)
        if value.shape != (handles.state_size(key),):
            raise ConfigError(f"{state_path}: state/{key} has shape {value.shape}, the "
                              f"network has {handles.state_size(key)} values there")
        state[key] = value
    return state


def spike_counts(run: TrainedRun, images: np.ndarray, device: str = DEFAULT_DEVICE,
                 progress: bool = False, seed: int | None = None,
                 workers: int | None = None) -> tuple:
    """Spike counts per image and neuron, and presentations per image.

    The images are shown in blocks of up to :data:`MAX_SLOTS`, as in a run's label and
    test phases (:func:`brian_stdp.training.chunks.run_block`): every block starts from
    the saved network state and a fresh controller, and runs chunk after chunk until its
    images are done. Blocks are shared between this process and ``workers - 1`` worker
    processes (:mod:`brian_stdp.training.parallel`); the result does not depend on how.

    Parameters
    ----------
    run : TrainedRun
    images : ndarray, shape (n, height, width), uint8
    device : str
    progress : bool
        Show a progress bar.
    seed : int, optional
        Seed of the input spike trains (default: the run's seed).
    workers : int, optional
        Processes (default: the cores available); no more are started than there are
        blocks.

    Returns
    -------
    counts : ndarray, shape (n, n_neurons), uint16
    presentations : ndarray, shape (n,), uint8
    """
    check_device(device)
    n, n_neurons = len(images), run.config.neurons
    counts = np.zeros((n, n_neurons), dtype=np.uint16)
    presentations = np.zeros(n, dtype=np.uint8)
    if n == 0:
        return counts, presentations
    workers = available_cores() if workers is None else workers
    check_positive(workers, "--workers")
    base_seed = run.config.seed if seed is None else int(seed)
    phase_index = len(phases(run.config))  # after the run's own phases: fresh random numbers
    slots = min(n, MAX_SLOTS)
    spans = blocks(n, slots)
    build = Path(tempfile.mkdtemp(prefix="brian_stdp_predict_"))
    session = bar = None
    try:
        session, state = _session_and_state(run, slots, device, build)
        session.compile()
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=n, desc="predict", unit="img", dynamic_ncols=True)
        if not session.evaluation_workers:
            workers = 1
        with BlockPool(SessionRecipe.of(session, device), min(workers, len(spans)) - 1,
                       build / "workers") as pool:
            for block in evaluate_blocks(session, images, spans, range(len(spans)),
                                         state=state, seed=base_seed,
                                         phase_index=phase_index, where="predict", pool=pool):
                start, stop = spans[block.index]
                counts[start:stop] = block.counts
                presentations[start:stop] = block.presentations
                if bar is not None:
                    bar.update(stop - start)
    finally:
        if bar is not None:
            bar.close()
        if session is not None:
            session.close()
        shutil.rmtree(build, ignore_errors=True)
    return counts, presentations


def predict_images(run_dir, images, device: str = DEFAULT_DEVICE, progress: bool = False,
                   invert: str = "auto", seed: int | None = None,
                   workers: int | None = None) -> dict:
    """Classify images with a trained run.

    Parameters
    ----------
    run_dir : path
        A finished run directory (``config.json``, ``model.toml``, ``state.npz``).
    images : ndarray (n, height, width) or sequence of paths / 2-D arrays
        See :func:`prepare_images`.
    device : str
        Simulation device.
    progress : bool
        Show a progress bar.
    invert : str
        ``"auto"``, ``"yes"`` or ``"no"`` (see :func:`to_network_input`).
    seed : int, optional
        Seed of the input spike trains (default: the run's seed).
    workers : int, optional
        Processes that classify (see :func:`spike_counts`).

    Returns
    -------
    dict
        ``all_activity`` and ``proportion_weighting``: predicted class of each
        image, shape (n,), int64, -1 for an image no labelled neuron spiked for;
        ``spike_counts``: (n, n_neurons); ``presentations``: (n,).
    """
    run = load_run(run_dir)
    prepared = prepare_images(images, run.image_shape, invert)
    counts, presentations = spike_counts(run, prepared, device=device, progress=progress,
                                         seed=seed, workers=workers)
    return {**vote(run, counts), "spike_counts": counts, "presentations": presentations}


def vote(run: TrainedRun, counts: np.ndarray) -> dict:
    """The classes the run's labelled neurons vote for, from their spike counts.

    Parameters
    ----------
    run : TrainedRun
    counts : ndarray, shape (n_images, n_neurons)
        Spike counts (:func:`spike_counts`).

    Returns
    -------
    dict
        ``all_activity`` and ``proportion_weighting``: the predicted class of each image,
        shape (n_images,), int64, -1 for an image no labelled neuron spiked for.
    """
    n_classes = run.assignment.n_classes
    return {
        "all_activity": evaluation.all_activity(counts, run.assignment, n_classes),
        "proportion_weighting": evaluation.proportion_weighting(counts, run.assignment,
                                                                n_classes),
    }


def first_test_images(run: TrainedRun, n: int) -> tuple:
    """The first ``n`` test images of the run's dataset and their labels, shapes
    (n, height, width) uint8 and (n,).

    Raises
    ------
    ConfigError
        For more images than the test split has, or images of another shape than the
        run was trained on (``--test`` is the flag that asks for them).
    """
    test_set = load_dataset(run.config.dataset, "test", data_dir=run.config.data_dir)
    if n > len(test_set):
        raise ConfigError(f"--test {n}: the {run.config.dataset} test split has "
                          f"only {len(test_set)} images")
    if test_set.shape != run.image_shape:
        raise ConfigError(f"the {run.config.dataset} test images are {test_set.shape}, "
                          f"but the run was trained on {run.image_shape}")
    return test_set.images[:n], test_set.labels[:n]
