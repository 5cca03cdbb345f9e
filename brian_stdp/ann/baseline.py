"""Keras dense-network baseline of the study (its Fig. 1), on the SNN's own data selections.

A network is ``n_input`` inputs (pixels scaled to [0, 1]), one or more dense
hidden layers with ReLU, and a dense softmax output of 10 classes, trained with
sparse categorical cross-entropy. The study's settings are the defaults: SGD
with learning rate 0.001, batch 64, 15 epochs; its six configurations are
:data:`PAPER_CONFIGURATIONS`.

Training images are chosen exactly as the SNN trainer chooses them
(:func:`brian_stdp.data.datasets.select_indices` with the same ``train`` / ``per_class``
/ ``seed``), and every epoch shows them in the SNN trainer's order for that
epoch (:func:`epoch_order`), so an ANN run and an SNN run with the same flags
see the same images. After every epoch the run records the accuracy on the
selected training images and on the test images and the wall time of the
epoch, and writes a run directory like the SNN runs (``config.json``,
``provenance.json``, ``log.txt``, ``metrics.json``, ``state.npz`` with the
weights, ``figures/``) that :mod:`brian_stdp.compare` reads.

TensorFlow is imported only when a network is built or trained
(:func:`import_tensorflow`); the rest of the package does not need it. Runs
are seeded and deterministic: the same flags on the same machine and versions
give the same weights and accuracies.

Command line::

    python -m brian_stdp.ann --hidden 64,64 --per-class 80 --seed 1 --out runs/out/ann
    python -m brian_stdp.sweep runs/ann_fig1.toml          # a grid of them, on Dask
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brian_stdp.cli import check_positive, is_positive_count, setting
from brian_stdp.data.datasets import N_CLASSES, check_selection, load_dataset, select_indices
from brian_stdp.errors import ConfigError, DataError
from brian_stdp.training import evaluation, rundir

log = logging.getLogger("brian_stdp")

#: The study's ANN configurations (hidden-layer sizes), in the order of its Fig. 1.
PAPER_CONFIGURATIONS = ((16,), (16, 16), (32, 32), (64, 64), (128, 128), (256, 256))

OPTIMIZERS = ("sgd", "adam")

#: What to install when TensorFlow is missing.
INSTALL_HINT = "pip install -e '.[ann]'"

#: Images per forward pass when measuring accuracy (memory only; results do not depend on it).
EVAL_BATCH = 4096


@dataclass(frozen=True)
class AnnConfig:
    """Everything that defines an ANN run (saved as ``config.json``).

    Attributes
    ----------
    hidden : tuple of int
        Units of each hidden layer, input side first, e.g. ``(64, 64)``.
    optimizer : str
        ``"sgd"`` (plain stochastic gradient descent, no momentum) or ``"adam"``.
    lr : float
        Learning rate.
    batch : int
        Images per gradient step.
    epochs : int
        Passes over the selected training images.
    dataset : str
        One of :data:`brian_stdp.data.sources.DATASETS`.
    train : int or None
        Use the first ``train`` training images (None: all); excludes ``per_class``.
    per_class : int or None
        Use ``per_class`` training images of each class, drawn with ``seed``.
    test : int or None
        Number of test images, from the start of the test split (None: all).
    seed : int
        Seed of the data selection, the image order, the initial weights and
        every other random number.
    threads : int
        TensorFlow intra- and inter-op threads.
    data_dir : str or None
        Folder holding the dataset files (None: the usual search, see
        :func:`brian_stdp.data.datasets.load_dataset`).
    """

    hidden: tuple = setting((16,), "units of each hidden layer, comma-separated, e.g. 16 or "
                                   "64,64 (default: 16)", parse=lambda t: parse_hidden(t),
                            metavar="UNITS")
    optimizer: str = setting("sgd", " or ".join(OPTIMIZERS), parse=str.lower, metavar="NAME")
    lr: float = setting(0.001, "learning rate", metavar="RATE")
    batch: int = setting(64, "images per gradient step", metavar="N")
    epochs: int = setting(15, "passes over the training images", metavar="N")
    dataset: str = setting("mnist", "mnist, fashion-mnist or digits", metavar="NAME")
    train: int | None = setting(None, "first N training images, or 'all' (default: all)",
                                parse=lambda t: count(t, "--train"), metavar="N")
    per_class: int | None = setting(None, "K training images per class instead of --train "
                                          "(chosen with --seed, as the SNN runs choose them)",
                                    parse=int, metavar="K")
    test: int | None = setting(None, "test images, or 'all' (default: all)",
                               parse=lambda t: count(t, "--test"), metavar="N")
    seed: int = setting(0, "seed of the initial weights, the batch order and the --per-class "
                           "choice", metavar="N")
    threads: int = setting(1, "TensorFlow intra- and inter-op threads", metavar="N")
    data_dir: str | None = setting(None, "folder with the dataset's idx files (else "
                                         "$BRIAN_STDP_DATA, the cache)", metavar="DIR")

    def check(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid value."""
        if not isinstance(self.hidden, tuple) or not self.hidden:
            raise ConfigError(f"--hidden must name at least one hidden layer, e.g. '16' or "
                              f"'64,64', not {self.hidden!r}")
        for units in self.hidden:
            if not is_positive_count(units):
                raise ConfigError(f"--hidden {format_hidden(self.hidden)}: every hidden layer "
                                  f"needs a positive whole number of units, not {units!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"--optimizer {self.optimizer}: unknown optimizer (choose from "
                              f"{', '.join(OPTIMIZERS)})")
        if (not isinstance(self.lr, (int, float)) or isinstance(self.lr, bool)
                or not math.isfinite(self.lr) or self.lr <= 0):
            raise ConfigError(f"--lr must be a positive finite learning rate, not {self.lr!r}")
        for key in ("batch", "epochs", "threads"):
            check_positive(getattr(self, key), f"--{key}")
        check_selection(self, ("train", "per_class", "test"))

    @classmethod
    def from_dict(cls, values: dict, source: str) -> "AnnConfig":
        """A config from a dict (e.g. ``config.json``), rejecting unknown keys.

        ``hidden`` may be a list of ints, an int or a string such as ``"64,64"``;
        ``train`` and ``test`` may be ``"all"``.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)} (known: "
                              f"{', '.join(sorted(known))})")
        values = dict(values)
        if "hidden" in values:
            values["hidden"] = hidden_value(values["hidden"], source)
        for key in ("train", "test"):
            if isinstance(values.get(key), str):
                values[key] = count(values[key], f"{source}: {key}")
        return cls(**values)

    def to_dict(self) -> dict:
        """JSON-ready values (``hidden`` as a list)."""
        values = dataclasses.asdict(self)
        values["hidden"] = list(self.hidden)
        return values

    @property
    def data_name(self) -> str:
        """Short name of the training-data selection: ``all``, ``first1000`` or ``pc80``."""
        if self.per_class is not None:
            return f"pc{self.per_class}"
        if self.train is not None:
            return f"first{self.train}"
        return "all"


# -- small helpers ---------------------------------------------------------------------------
def parse_hidden(text: str) -> tuple:
    """Hidden-layer sizes from a flag value: ``"16"`` -> ``(16,)``, ``"64,64"`` -> ``(64, 64)``.

    Raises
    ------
    ConfigError
        Empty, not whole numbers, or a layer of zero or fewer units.
    """
    parts = [part.strip() for part in str(text).split(",")]
    if not parts or any(not part for part in parts):
        raise ConfigError(f"--hidden {text!r}: give the units of each hidden layer separated "
                          f"by commas, e.g. '16' or '64,64'")
    try:
        sizes = tuple(int(part) for part in parts)
    except ValueError:
        raise ConfigError(f"--hidden {text!r}: layer sizes must be whole numbers, e.g. "
                          f"'64,64'") from None
    for units in sizes:
        if units <= 0:
            raise ConfigError(f"--hidden {text}: a hidden layer of {units} units; every layer "
                              f"needs at least one unit")
    return sizes


def format_hidden(hidden) -> str:
    """``(64, 64)`` -> ``"64,64"``."""
    return ",".join(str(units) for units in hidden)


def count(text: str, what: str = "--train") -> int | None:
    """A whole number of images, or ``all`` (None)."""
    if str(text).lower() == "all":
        return None
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{what} {text!r}: give a whole number of images or 'all'") from None


def hidden_value(value, source: str) -> tuple:
    """Hidden-layer sizes from a config file: ``"64,64"``, ``64`` or ``[64, 64]`` -> a tuple."""
    if isinstance(value, str):
        try:
            return parse_hidden(value)
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}") from None
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise ConfigError(f"{source}: hidden = {value!r}: give a list of layer sizes such as "
                      f"[64, 64] or a string such as \"64,64\"")


def layer_sizes(n_input: int, hidden, n_classes: int = N_CLASSES) -> list:
    """Sizes of every layer, input to output: ``[n_input, *hidden, n_classes]``."""
    return [int(n_input), *(int(units) for units in hidden), int(n_classes)]


def count_parameters(n_input: int, hidden, n_classes: int = N_CLASSES) -> int:
    """Trainable parameters of the dense network: weights plus biases of every layer.

    Examples
    --------
    >>> count_parameters(784, (16,))  # 784*16 + 16 + 16*10 + 10
    12730
    """
    sizes = layer_sizes(n_input, hidden, n_classes)
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def macs_per_image(n_input: int, hidden, n_classes: int = N_CLASSES) -> int:
    """Multiply-accumulates of one forward pass (one image, inference), biases not counted.

    Training costs about three times as much per image (forward pass, and the
    gradients with respect to activations and to weights).
    """
    sizes = layer_sizes(n_input, hidden, n_classes)
    return sum(fan_in * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def epoch_order(train_indices, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch ``epoch`` (1-based) shows the selected training images.

    The same permutation as the SNN trainer's (``Trainer.stream``), so both kinds
    of network see the same images in the same order.

    Parameters
    ----------
    train_indices : array_like of int, shape (n,)
        Indices into the training split, from :func:`brian_stdp.data.datasets.select_indices`.

    Returns
    -------
    numpy.ndarray, shape (n,), int64
    """
    return np.random.default_rng([seed, 2, epoch]).permutation(np.asarray(train_indices))


@dataclass
class AnnData:
    """The images of a run, flattened and scaled.

    Attributes
    ----------
    train_images : numpy.ndarray, shape (n_train_split, n_input), float32
        The whole training split, pixel values in [0, 1].
    train_labels : numpy.ndarray, shape (n_train_split,), int64
    train_indices : numpy.ndarray, shape (n,), int64
        The selected training images (positions in the split).
    test_images : numpy.ndarray, shape (n_test, n_input), float32
    test_labels : numpy.ndarray, shape (n_test,), int64
    image_shape : tuple of int
        ``(height, width)``.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    train_indices: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    image_shape: tuple

    @property
    def n_input(self) -> int:
        """Pixels per image."""
        return int(self.train_images.shape[1])


def load_data(config: AnnConfig) -> AnnData:
    """Load the dataset and select the training and test images as the SNN trainer does.

    Raises
    ------
    ConfigError
        The selection asks for more images than the split has.
    DataError
        The dataset's files are missing or broken.
    """
    train_set = load_dataset(config.dataset, "train", data_dir=config.data_dir)
    test_set = load_dataset(config.dataset, "test", data_dir=config.data_dir)
    try:
        train_indices = select_indices(train_set.labels, n=config.train,
                                       per_class=config.per_class, seed=config.seed)
    except DataError as err:
        flag = (f"--per-class {config.per_class}" if config.per_class
                else f"--train {config.train}")
        raise ConfigError(f"{flag}: {err} in the {config.dataset} training split") from None
    n_test = len(test_set) if config.test is None else config.test
    if n_test > len(test_set):
        raise ConfigError(f"--test {n_test}: the {config.dataset} test split has only "
                          f"{len(test_set)} images")
    return AnnData(train_images=_scaled(train_set.images), train_labels=train_set.labels,
                   train_indices=train_indices, test_images=_scaled(test_set.images[:n_test]),
                   test_labels=test_set.labels[:n_test], image_shape=train_set.shape)


def _scaled(images: np.ndarray) -> np.ndarray:
    """uint8 images (n, height, width) -> float32 (n, height*width) in [0, 1]."""
    return (images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0))


# -- TensorFlow ------------------------------------------------------------------------------
def import_tensorflow(threads: int = 1):
    """Import TensorFlow quietly, fix its thread counts, and return ``(tf, keras)``.

    Before the first import this sets, unless already set,
    ``TF_CPP_MIN_LOG_LEVEL=3`` and ``TF_ENABLE_ONEDNN_OPTS=0``. The first
    silences TensorFlow's C++ log (messages about CUDA, missing GPUs, CPU
    instructions, and a harmless "NodeDef mentions attribute
    use_unbounded_threadpool" error line that ``fit`` prints with Keras
    3.15 on TensorFlow 2.21); real failures still raise Python exceptions. Set
    it to 0 to see everything. The second turns off oneDNN's rewrites, whose
    results depend on the CPU, and the message about them.

    Parameters
    ----------
    threads : int
        Intra- and inter-op threads. TensorFlow fixes them at its first
        operation; a later call with another number logs a warning and keeps
        the first.

    Raises
    ------
    ConfigError
        TensorFlow is not installed (with the install command).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        import keras
        import tensorflow as tf
    except ImportError as err:
        raise ConfigError(f"the ANN baseline needs TensorFlow ({err}); install it with "
                          f"{INSTALL_HINT}") from None
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    threading = tf.config.threading
    if (threading.get_intra_op_parallelism_threads() != threads
            or threading.get_inter_op_parallelism_threads() != threads):
        try:
            threading.set_intra_op_parallelism_threads(threads)
            threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            log.warning("TensorFlow is already running with %d/%d threads; --threads %d "
                        "takes effect in a new process",
                        threading.get_intra_op_parallelism_threads(),
                        threading.get_inter_op_parallelism_threads(), threads)
    return tf, keras


def build_model(config: AnnConfig, n_input: int, n_classes: int = N_CLASSES):
    """A compiled Keras model: dense ReLU hidden layers, softmax output.

    Call after seeding (:func:`seed_everything`): the initial weights
    (Glorot uniform, zero biases: Keras' defaults) come from the seed.

    Returns
    -------
    keras.Model
        Compiled with the configured optimizer and learning rate, sparse
        categorical cross-entropy and accuracy.
    """
    _, keras = import_tensorflow(config.threads)
    layers = [keras.Input(shape=(n_input,))]
    layers += [keras.layers.Dense(units, activation="relu") for units in config.hidden]
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    model = keras.Sequential(layers, name="dense_" + "_".join(map(str, config.hidden)))
    optimizer = (keras.optimizers.SGD(learning_rate=config.lr) if config.optimizer == "sgd"
                 else keras.optimizers.Adam(learning_rate=config.lr))
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    return model


def seed_everything(seed: int, threads: int = 1) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's kernels deterministic."""
    tf, keras = import_tensorflow(threads)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def predict_classes(model, images: np.ndarray) -> np.ndarray:
    """Most probable class of every image, shape (n,), int64."""
    probabilities = model.predict(images, batch_size=EVAL_BATCH, verbose=0)
    return np.argmax(probabilities, axis=1).astype(np.int64)


# -- one run ---------------------------------------------------------------------------------
def train(config: AnnConfig, run_dir, progress: bool = True) -> dict:
    """Train, test after every epoch, and write a run directory; return its metrics.

    Parameters
    ----------
    config : AnnConfig
    run_dir : path
        Created if needed; must not hold a finished run (``metrics.json``).
    progress : bool
        Log every epoch at INFO level (else DEBUG).

    Returns
    -------
    dict
        The contents of ``metrics.json``: ``history`` (one entry per epoch with
        ``epoch``, ``images_seen``, ``accuracy_train``, ``accuracy_test``
        (fractions), ``loss_train``, ``train_seconds``, ``eval_seconds``),
        ``accuracy`` (test accuracy after the last epoch), ``best_accuracy`` and
        ``best_epoch``, the last epoch's ``confusion_matrix`` and
        ``per_class_accuracy``, ``parameters``, ``macs_per_image``, ``timing``.
        The trained weights go to ``state.npz``: ``layer<k>/kernel`` (fan_in,
        fan_out) and ``layer<k>/bias`` (fan_out,) for every dense layer k, input
        side first, and ``image_shape``.
    """
    config.check()
    run_dir = Path(run_dir)
    refuse_used_run_dir(run_dir)
    data = load_data(config)
    tf, keras = import_tensorflow(config.threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    rundir.save_json(run_dir / rundir.CONFIG, config.to_dict())
    provenance = rundir.provenance(config.seed, f"cpu (tensorflow, {config.threads} thread(s))")
    provenance["versions"].update(tensorflow=tf.__version__, keras=keras.__version__)
    rundir.save_json(run_dir / rundir.PROVENANCE, provenance)

    seed_everything(config.seed, config.threads)
    model = build_model(config, data.n_input)
    level = logging.INFO if progress else logging.DEBUG
    n_train = len(data.train_indices)
    log.log(level, "ANN %s, %s optimizer, lr %g, batch %d: %d parameters; %d training images "
            "(%s), %d test images", format_hidden(config.hidden), config.optimizer, config.lr,
            config.batch, model.count_params(), n_train, config.data_name, len(data.test_labels))
    selected_images = data.train_images[data.train_indices]
    selected_labels = data.train_labels[data.train_indices]
    history = []
    for epoch in range(1, config.epochs + 1):
        order = epoch_order(data.train_indices, config.seed, epoch)
        started = time.perf_counter()
        fit = model.fit(data.train_images[order], data.train_labels[order],
                        batch_size=config.batch, epochs=1, shuffle=False, verbose=0)
        train_seconds = time.perf_counter() - started
        started = time.perf_counter()
        train_predictions = predict_classes(model, selected_images)
        test_predictions = predict_classes(model, data.test_images)
        eval_seconds = time.perf_counter() - started
        entry = {
            "epoch": epoch, "images_seen": epoch * n_train,
            "accuracy_train": evaluation.accuracy(train_predictions, selected_labels),
            "accuracy_test": evaluation.accuracy(test_predictions, data.test_labels),
            "loss_train": float(fit.history["loss"][-1]),
            "train_seconds": train_seconds, "eval_seconds": eval_seconds,
        }
        if not math.isfinite(entry["loss_train"]):
            raise ConfigError(f"epoch {epoch}: the training loss is {entry['loss_train']}; "
                              f"the learning rate --lr {config.lr} is too large")
        history.append(entry)
        log.log(level, "epoch %d/%d: train %.2f%%, test %.2f%%, loss %.4f, %.1f s", epoch,
                config.epochs, 100 * entry["accuracy_train"], 100 * entry["accuracy_test"],
                entry["loss_train"], train_seconds)

    best = max(history, key=lambda item: item["accuracy_test"])
    train_times = [item["train_seconds"] for item in history]
    metrics = {
        "kind": "ann", "model": "dense", "hidden": list(config.hidden),
        "neurons": sum(config.hidden), "optimizer": config.optimizer, "lr": config.lr,
        "batch": config.batch, "dataset": config.dataset, "data": config.data_name,
        "train_images": n_train, "epochs": config.epochs,
        "test_images": len(data.test_labels),
        "parameters": int(model.count_params()),
        "macs_per_image": macs_per_image(data.n_input, config.hidden),
        "accuracy": history[-1]["accuracy_test"],
        "best_accuracy": best["accuracy_test"], "best_epoch": best["epoch"],
        "per_class_accuracy": evaluation.per_class_accuracy(test_predictions, data.test_labels,
                                                            N_CLASSES).tolist(),
        "confusion_matrix": evaluation.confusion_matrix(test_predictions, data.test_labels,
                                                        N_CLASSES).tolist(),
        "history": history,
        "timing": {"train_seconds": float(sum(train_times)),
                   "train_seconds_per_epoch_median": float(np.median(train_times)),
                   "eval_seconds": float(sum(item["eval_seconds"] for item in history))},
        "train_images_per_second": n_train * len(train_times) / max(sum(train_times), 1e-9),
    }
    weights = {f"layer{index}/{name}": array
               for index, layer in enumerate(model.layers)
               for name, array in zip(("kernel", "bias"), layer.get_weights())}
    rundir.save_arrays(run_dir / rundir.STATE,
                       {**weights, "image_shape": np.array(data.image_shape)})
    rundir.save_json(run_dir / rundir.METRICS, metrics)
    from brian_stdp.plots.run_figures import make_ann_figures

    make_ann_figures(run_dir / rundir.FIGURES, metrics)
    return metrics


# -- names -----------------------------------------------------------------------------------
def point_name(config: AnnConfig) -> str:
    """Folder name of a run in a grid, e.g. ``all_h64-64_seed1`` or ``pc80_h16_adam_lr0.01_seed0``.

    Data selection, hidden layers and seed are always named; optimizer,
    learning rate, batch, epochs and test images only when they differ from
    the study's settings.
    """
    default = AnnConfig()
    parts = [config.data_name, "h" + "-".join(map(str, config.hidden))]
    if config.optimizer != default.optimizer:
        parts.append(config.optimizer)
    if config.lr != default.lr:
        parts.append(f"lr{config.lr:g}")
    if config.batch != default.batch:
        parts.append(f"b{config.batch}")
    if config.epochs != default.epochs:
        parts.append(f"e{config.epochs}")
    if config.test is not None:
        parts.append(f"test{config.test}")
    if config.dataset != default.dataset:
        parts.insert(0, config.dataset)
    parts.append(f"seed{config.seed}")
    return "_".join(parts)


def refuse_used_run_dir(run_dir) -> None:
    """Raise :class:`ConfigError` if ``run_dir`` already holds a run (an ANN run has
    no checkpoint to continue). Nothing in ``run_dir`` is touched."""
    rundir.refuse_existing_run(run_dir, "an ANN run cannot be continued: give --out a new "
                                        "folder")
