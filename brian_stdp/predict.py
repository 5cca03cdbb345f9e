"""Command line: classify images with a trained run.

    python -m brian_stdp.predict RUN_DIR digit.png other.png
    python -m brian_stdp.predict RUN_DIR --test 100

Every image is shown to the trained network (plasticity off) with the same
presentation protocol as in testing, re-presentations included, and is
classified by the vote of the labelled neurons, with both rules of the paper's
code: all activity and proportion weighting.

Image files are read with Pillow, turned to grayscale and resized to the run's
image shape; an image that looks like dark ink on a light background (mean
pixel > 127) is inverted, so that digits are bright on dark as in MNIST.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import evaluation, rundir
from .data import load_dataset
from .devices import DEVICES, STANDALONE_DEVICES, check_device
from .encoding import encode
from .cli import HelpFormatter, guarded
from .errors import ConfigError
from .model import ModelSpec, load_model
from .network import fixed_keys
from .pretrained import expand_state, is_compact
from .backends import session_class
from .session import ControllerState
from .trainer import RunConfig, _record_chunk, chunk_seed, phases

#: Most presentation slots compiled into one chunk.
MAX_SLOTS = 1000

#: Choices of ``invert``: decide from the mean pixel, always, never.
INVERT_CHOICES = ("auto", "yes", "no")


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
    """

    run_dir: Path
    config: RunConfig
    spec: ModelSpec
    state: dict
    assignment: evaluation.Assignment
    image_shape: tuple
    compact: dict | None = None

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
    config_path = run_dir / rundir.CONFIG
    values = rundir.load_json(config_path)
    if not isinstance(values, dict):
        raise ConfigError(f"{config_path}: expected a JSON object of run settings")
    try:
        config = RunConfig.from_dict(values, str(config_path))
    except TypeError as err:
        raise ConfigError(f"{config_path}: {err}") from None
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
                          f"{config_path} says {config.neurons}")
    shape = tuple(int(v) for v in np.ravel(arrays["image_shape"]))
    if len(shape) != 2 or min(shape) <= 0:
        raise ConfigError(f"{state_path}: image_shape {shape} is not (height, width)")
    return TrainedRun(run_dir=run_dir, config=config, spec=spec, state=state,
                      assignment=assignment, image_shape=shape, compact=compact)


# -- images ------------------------------------------------------------------------------
def to_network_input(gray: np.ndarray, shape, invert: str = "auto") -> np.ndarray:
    """A grayscale image as the network sees it.

    Parameters
    ----------
    gray : ndarray, shape (height, width)
        Intensities 0..255 (any real dtype).
    shape : (int, int)
        Target (height, width); resized with Lanczos resampling if different.
    invert : str
        ``"auto"``: invert when the mean pixel is above 127 (dark ink on a light
        background); ``"yes"``: always; ``"no"``: never.

    Returns
    -------
    ndarray, shape ``shape``, uint8
    """
    from PIL import Image

    if invert not in INVERT_CHOICES:
        raise ConfigError(f"invert must be one of {', '.join(INVERT_CHOICES)}, not {invert!r}")
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2:
        raise ValueError(f"a grayscale image has 2 dimensions, not shape {gray.shape}")
    image = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    height, width = shape
    if image.shape != (height, width):
        resized = Image.fromarray(image, mode="L").resize((width, height),
                                                          Image.Resampling.LANCZOS)
        image = np.asarray(resized, dtype=np.uint8)
    if invert == "yes" or (invert == "auto" and image.mean() > 127):
        image = 255 - image
    return np.ascontiguousarray(image, dtype=np.uint8)


def read_grayscale(path) -> np.ndarray:
    """The first frame of an image file as grayscale 0..255, shape (height, width).

    Transparent pixels are laid over white. Raises :class:`ConfigError`
    naming the file if it cannot be read as an image.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P"
                                                    and "transparency" in img.info):
                rgba = img.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return np.asarray(Image.alpha_composite(background, rgba).convert("L"),
                                  dtype=np.float64)
            if img.mode.startswith("I"):  # 16- or 32-bit integer pixels
                values = np.asarray(img, dtype=np.float64)
                return values / 257 if values.max(initial=0) > 255 else values
            if img.mode == "F":
                values = np.asarray(img, dtype=np.float64)
                return values * 255 if values.max(initial=0) <= 1 else values
            return np.asarray(img.convert("L"), dtype=np.float64)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise ConfigError(f"{path}: cannot be read as an image ({err})") from None


def load_image(path, shape, invert: str = "auto") -> np.ndarray:
    """Read an image file and prepare it for the network (see :func:`to_network_input`)."""
    return to_network_input(read_grayscale(path), shape, invert)


def prepare_images(images, shape, invert: str = "auto") -> np.ndarray:
    """Images as a uint8 array (n, height, width).

    ``images`` is either an array (n, height, width) of the run's image shape,
    used as it is (dataset images), or a sequence whose items are image file
    paths (read, resized and maybe inverted) or 2-D arrays (resized and maybe
    inverted).
    """
    shape = tuple(shape)
    if isinstance(images, np.ndarray) and images.ndim == 3:
        if images.shape[1:] != shape:
            raise ConfigError(f"images have shape {images.shape[1:]}, but the run was trained "
                              f"on {shape}")
        if images.size and (images.min() < 0 or images.max() > 255):
            raise ConfigError("image values must lie in 0..255")
        return np.ascontiguousarray(images, dtype=np.uint8)
    if isinstance(images, (str, Path)) or (isinstance(images, np.ndarray) and images.ndim == 2):
        images = [images]  # one image
    out = []
    for item in images:
        if isinstance(item, (str, Path)):
            out.append(load_image(item, shape, invert))
        else:
            out.append(to_network_input(item, shape, invert))
    return np.stack(out) if out else np.zeros((0, *shape), dtype=np.uint8)


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
    """The compiled-to-be session of a trained run, and the state each chunk starts from."""
    def make_session(fixed):
        return session_class(device)(run.spec, run.config.neurons, run.n_input, slots, fixed,
                                     device=device, directory=build,
                                     threads=run.config.threads)

    if run.compact is not None:
        return expand_state(run.compact, run.spec, run.config.seed, run.config.neurons,
                            run.n_input, make_session)
    session = make_session(_fixed_values(run))
    return session, _network_state(run, session)


def _network_state(run: TrainedRun, session) -> dict:
    """The saved state, checked against the network the model builds."""
    handles = session.handles
    state_path = run.run_dir / rundir.STATE
    state = dict(session.fixed)
    for obj_name, var_name in handles.state_vars:
        key = f"{obj_name}.{var_name}"
        value = _saved(run, key)
        if value.shape != (handles.size(obj_name),):
            raise ConfigError(f"{state_path}: state/{key} has shape {value.shape}, the "
                              f"network has {handles.size(obj_name)} values there")
        state[key] = value
    return state


def spike_counts(run: TrainedRun, images: np.ndarray, device: str = "cpp_standalone",
                 progress: bool = False, seed: int | None = None) -> tuple:
    """Spike counts per image and neuron, and presentations per image.

    Every chunk starts from the saved network state; the protocol controller is
    carried from chunk to chunk, as in the trainer, so an image whose
    re-presentations cross a chunk's end continues in the next one.

    Returns
    -------
    counts : ndarray, shape (n, n_neurons), uint16
    presentations : ndarray, shape (n,), uint8
    """
    check_device(device)
    n, n_neurons = len(images), run.config.neurons
    proto = run.spec.protocol
    rec = {"counts": np.zeros((n, n_neurons), dtype=np.uint16),
           "presentations": np.zeros(n, dtype=np.uint8)}
    if n == 0:
        return rec["counts"], rec["presentations"]
    base_seed = run.config.seed if seed is None else int(seed)
    phase_index = len(phases(run.config))  # after the run's own phases: fresh random numbers
    slots = min(n, MAX_SLOTS)
    build = Path(tempfile.mkdtemp(prefix="brian_stdp_predict_"))
    session = None
    bar = None
    try:
        session, state = _session_and_state(run, slots, device, build)
        session.compile()
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=n, desc="predict", unit="img", dynamic_ncols=True)
        ctrl = ControllerState.fresh(proto.min_spikes)
        position, chunk_index = 0, 0
        while position < n:
            rows = images[position:position + slots]
            stimulus = np.zeros((slots, run.n_input))
            stimulus[:len(rows)] = encode(rows, proto)
            result = session.run_chunk(stimulus, len(rows), state, ctrl, plastic=False,
                                       seed=chunk_seed(base_seed, phase_index, chunk_index))
            consumed, ctrl = _record_chunk(result, rec, 0, position, len(rows), n_neurons,
                                           proto.min_spikes)
            position += consumed
            chunk_index += 1
            if bar is not None:
                bar.update(consumed)
    finally:
        if bar is not None:
            bar.close()
        if session is not None:
            session.close()
        elif device in STANDALONE_DEVICES:
            _reset_device()
        shutil.rmtree(build, ignore_errors=True)
    return rec["counts"], rec["presentations"]


def _reset_device():
    """Return Brian2 to the runtime device after a session failed to build."""
    import brian2

    brian2.device.reinit()
    brian2.device.activate()
    brian2.set_device("runtime")


def predict_images(run_dir, images, device: str = "cpp_standalone", progress: bool = False,
                   invert: str = "auto", seed: int | None = None) -> dict:
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
                                         seed=seed)
    n_classes = run.assignment.n_classes
    return {
        "all_activity": evaluation.all_activity(counts, run.assignment, n_classes),
        "proportion_weighting": evaluation.proportion_weighting(counts, run.assignment,
                                                                n_classes),
        "spike_counts": counts,
        "presentations": presentations,
    }


# -- command line ------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m brian_stdp.predict", description=__doc__.split("\n\n")[0],
        formatter_class=HelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a finished run directory")
    p.add_argument("images", nargs="*", metavar="IMAGE",
                   help="image files (PNG or anything Pillow reads)")
    p.add_argument("--test", type=int, default=None, metavar="N",
                   help="also classify the first N test images of the run's dataset and "
                        "print the accuracy")
    p.add_argument("--device", default="cpp_standalone", help=", ".join(DEVICES))
    p.add_argument("--invert", choices=INVERT_CHOICES, default="auto",
                   help="invert image files (auto: when the mean pixel is above 127)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the input spike trains (default: the run's seed)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _classify(args):
    """Run the classification the flags ask for; return the lines to print."""
    if not args.images and args.test is None:
        raise ConfigError("nothing to classify: give image files and/or --test N")
    if args.test is not None and args.test <= 0:
        raise ConfigError(f"--test must be a positive whole number, not {args.test}")
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise ConfigError(f"--seed must be a whole number in [0, 2**32), not {args.seed}")
    check_device(args.device)
    run = load_run(args.run_dir)
    names = [str(path) for path in args.images]
    parts = [prepare_images(args.images, run.image_shape, args.invert)]
    labels = None
    if args.test is not None:
        test_set = load_dataset(run.config.dataset, "test", data_dir=run.config.data_dir)
        if args.test > len(test_set):
            raise ConfigError(f"--test {args.test}: the {run.config.dataset} test split has "
                              f"only {len(test_set)} images")
        if test_set.shape != run.image_shape:
            raise ConfigError(f"the {run.config.dataset} test images are {test_set.shape}, "
                              f"but the run was trained on {run.image_shape}")
        parts.append(test_set.images[:args.test])
        labels = test_set.labels[:args.test]
        names += [f"test[{i}]" for i in range(args.test)]
    images = np.concatenate(parts)
    counts, presentations = spike_counts(run, images, device=args.device,
                                         progress=not args.quiet, seed=args.seed)
    n_classes = run.assignment.n_classes
    pred_all = evaluation.all_activity(counts, run.assignment, n_classes)
    pred_pw = evaluation.proportion_weighting(counts, run.assignment, n_classes)
    width = max(7, *(len(name) for name in names))
    lines = [f"{'# image':<{width}}  all_activity  proportion_weighting"]
    n_files = len(args.images)
    for k, name in enumerate(names):
        line = (f"{name:<{width}}  {pred_all[k]:>12d}  {pred_pw[k]:>20d}  "
                f"spikes={int(counts[k].sum())}  presentations={int(presentations[k])}")
        if labels is not None and k >= n_files:
            line += f"  label={int(labels[k - n_files])}"
        lines.append(line)
    if labels is not None:
        acc_all = evaluation.accuracy(pred_all[n_files:], labels)
        acc_pw = evaluation.accuracy(pred_pw[n_files:], labels)
        lines.append(f"accuracy on the first {args.test} test images: {100 * acc_all:.2f}% "
                     f"(all activity), {100 * acc_pw:.2f}% (proportion weighting)")
    return lines


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    logging.getLogger("brian2").setLevel(logging.WARNING)

    def body():
        print("\n".join(_classify(args)))
        return 0

    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
