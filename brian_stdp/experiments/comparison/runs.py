"""One finished run folder, ANN or SNN, as a :class:`ComparedRun`: the numbers the comparison
sets side by side.

A run is an ANN run of :mod:`brian_stdp.ann` or an SNN run of :mod:`brian_stdp.run` /
:mod:`brian_stdp.sweep` (``config.json`` + ``metrics.json``). What is compared, for
each architecture:

- **neurons**: ANN hidden units (all hidden layers together), SNN excitatory neurons;
- **accuracy after one epoch** and **at the best epoch** on the run's test images
  (SNN: all-activity voting, and for runs that recorded it the study's
  last-winner labelling as a series of its own; the best epoch is chosen on the
  test images, as in the study, so it is an optimistic figure for both kinds);
- **training time per epoch** (wall seconds; ANN: median epoch, SNN: mean of its
  training phases, compilation excluded);
- **trainable parameters** (ANN: weights and biases; SNN: the plastic
  input-to-excitatory weights plus one adaptive threshold per neuron; the fixed
  excitatory-inhibitory weights are not counted);
- **an energy proxy per test image**: ANN multiply-accumulates of one forward
  pass; SNN synaptic events, ``input spikes x neurons`` (all-to-all input
  synapses) ``+ excitatory spikes x 1`` (one-to-one to the inhibitory layer)
  ``+ inhibitory spikes x (neurons - 1)`` (all-but-self inhibition), from the
  input spikes and excitatory spikes the run recorded in its last test phase.
  Inhibitory spikes are not recorded; each inhibitory neuron is driven only by
  its excitatory partner (one-to-one), so one inhibitory spike per excitatory
  spike is assumed. Excitatory spikes count only each image's last
  presentation; input spikes count every presentation. A model whose output layer has a
  patch layout (``models/lc_snn.toml``; :func:`patch_wiring`) has ``patch x neurons``
  plastic weights; its energy proxy is left out with a note, since a pixel's fan-out
  depends on its place (0 in the crop, up to 9 patches in the middle) and the runs
  record the input spikes of all pixels together.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from brian_stdp.data.datasets import selection_name
from brian_stdp.errors import ConfigError
from brian_stdp.training import rundir
from brian_stdp.training.config import RunConfig, read_run_config


#: Pixels per image of each dataset (the input layer of both kinds of network).
INPUT_SIZE = {"mnist": 784, "fashion-mnist": 784, "digits": 64}

#: Variant name of an SNN run evaluated with the study's labelling.
LAST_WINNER = "last-winner labelling"


@dataclass
class ComparedRun:
    """One finished run, reduced to what the comparison needs.

    Attributes
    ----------
    kind : str
        ``"ann"`` or ``"snn"``.
    run_dir : Path
        The run directory; for a point read from a grid's table,
        ``<grid>/results.json#<point>``.
    architecture : str
        ANN: hidden layers, e.g. ``"64-64"``; SNN: the model name.
    neurons : int
        ANN hidden units in all layers; SNN excitatory neurons.
    layers : int
        ANN hidden layers; 1 for an SNN (one excitatory layer).
    dataset, data : str
        Dataset and training selection (``all``, ``first<N>``, ``pc<K>``).
    seed, epochs, train_images, test_images : int
    accuracy_by_epoch : dict of int to float
        Test accuracy (fraction) after each evaluated epoch.
    train_accuracy_by_epoch : dict of int to float
        ANN only: accuracy on the selected training images after each epoch.
    seconds_per_epoch : float or None
        Wall seconds of one training epoch; for a point read from a grid's
        table derived as ``train_images / train_images_per_second``.
    parameters : int
    energy_per_image : float or None
        ANN: multiply-accumulates; SNN: synaptic events; per test image.
    variant : str
        ANN: training settings when they differ from the study's (SGD, learning
        rate 0.001, batch 64), e.g. ``"adam, lr 0.01, batch 64"``; SNN:
        ``"last-winner labelling"`` for the study's evaluation of a run (see
        :func:`load_points`); else empty.
    notes : list of str
        What could not be read and why.
    """

    kind: str
    run_dir: Path
    architecture: str
    neurons: int
    layers: int
    dataset: str
    data: str
    seed: int
    epochs: int
    train_images: int
    test_images: int
    accuracy_by_epoch: dict
    seconds_per_epoch: float | None
    parameters: int
    energy_per_image: float | None
    train_accuracy_by_epoch: dict = field(default_factory=dict)
    variant: str = ""
    notes: list = field(default_factory=list)

    @property
    def accuracy_epoch1(self) -> float | None:
        """Test accuracy after the first epoch; None when it was not evaluated."""
        return self.accuracy_by_epoch.get(1)

    @property
    def best_epoch(self) -> int:
        """The evaluated epoch with the highest test accuracy (the earliest on ties)."""
        return max(sorted(self.accuracy_by_epoch), key=lambda e: self.accuracy_by_epoch[e])

    @property
    def best_accuracy(self) -> float:
        """Highest test accuracy over the evaluated epochs."""
        return self.accuracy_by_epoch[self.best_epoch]

    @property
    def energy_unit(self) -> str:
        """``"MAC"`` (ANN) or ``"synaptic events"`` (SNN)."""
        return "MAC" if self.kind == "ann" else "synaptic events"

    @property
    def series(self) -> tuple:
        """What a line in the figures joins: kind, layers, architecture family."""
        if self.kind == "ann":
            return ("ann", self.layers, self.variant)
        return ("snn", 1, f"{self.architecture}, {self.variant}" if self.variant
                else self.architecture)


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` holds a finished run (both ``config.json`` and ``metrics.json``)."""
    return (path / rundir.CONFIG).is_file() and (path / rundir.METRICS).is_file()


def load_points(run_dir) -> list:
    """A run directory as the points it gives: one, plus, for an SNN run that
    also recorded the study's evaluation (label of each neuron's last won
    training image, ``accuracy_last_winner`` after every evaluated epoch), a
    second point with that accuracy and ``variant`` :data:`LAST_WINNER`.

    Raises
    ------
    ConfigError
        As :func:`load_point`.
    """
    point = load_point(run_dir)
    metrics = rundir.load_json(Path(run_dir) / rundir.METRICS)
    history = metrics.get("history") or []
    if point.kind != "snn" or any("accuracy_last_winner" not in entry for entry in history):
        return [point]
    return [point, _snn_point(Path(run_dir), read_run_config(run_dir), metrics,
                              "accuracy_last_winner", LAST_WINNER)]


def load_point(run_dir) -> ComparedRun:
    """Read one run directory as a :class:`ComparedRun`.

    An SNN run's settings are read by
    :func:`brian_stdp.training.config.read_run_config`, with its checks; an ANN
    run's ``config.json`` (a :class:`brian_stdp.ann.baseline.AnnConfig`) is read as
    the dict it is, for the few fields the comparison shows.

    Raises
    ------
    ConfigError
        The folder is neither an ANN nor an SNN run, its SNN settings are invalid,
        or its metrics lack accuracies.
    """
    run_dir = Path(run_dir)
    config = rundir.load_json(run_dir / rundir.CONFIG)
    metrics = rundir.load_json(run_dir / rundir.METRICS)
    is_object = isinstance(config, dict)
    if is_object and "hidden" not in config and not ("neurons" in config and "model" in config):
        raise ConfigError(f"{run_dir / rundir.CONFIG}: neither an ANN run (no 'hidden') nor "
                          f"an SNN run (no 'model' and 'neurons')")
    if not is_object or "hidden" not in config:
        config = read_run_config(run_dir)  # an SNN run (the reader refuses a non-object)
    try:
        if isinstance(config, dict):
            return _ann_point(run_dir, config, metrics)
        return _snn_point(run_dir, config, metrics)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ConfigError(f"{run_dir / rundir.METRICS}: lacks or garbles {err}; is the run "
                          f"finished?") from None


def _ann_point(run_dir, config, metrics) -> ComparedRun:
    hidden = [int(units) for units in config["hidden"]]
    history = metrics["history"]
    train_seconds = [entry["train_seconds"] for entry in history]
    settings = (config["optimizer"], float(config["lr"]), int(config["batch"]))
    variant = ("" if settings == ("sgd", 0.001, 64)
               else f"{settings[0]}, lr {settings[1]:g}, batch {settings[2]}")
    return ComparedRun(
        kind="ann", run_dir=run_dir, architecture="-".join(map(str, hidden)),
        neurons=sum(hidden), layers=len(hidden), dataset=config["dataset"],
        data=selection_name(config.get("train"), config.get("per_class")),
        seed=int(config["seed"]), epochs=int(metrics["epochs"]),
        train_images=int(metrics["train_images"]), test_images=int(metrics["test_images"]),
        accuracy_by_epoch={int(e["epoch"]): float(e["accuracy_test"]) for e in history},
        train_accuracy_by_epoch={int(e["epoch"]): float(e["accuracy_train"]) for e in history},
        seconds_per_epoch=float(statistics.median(train_seconds)) if train_seconds else None,
        parameters=int(metrics["parameters"]),
        energy_per_image=float(metrics["macs_per_image"]), variant=variant)


def _snn_point(run_dir, config: RunConfig, metrics, key="accuracy_all_activity",
               variant="") -> ComparedRun:
    neurons, dataset = config.neurons, config.dataset
    history = metrics["history"]
    epochs = int(metrics.get("epochs", config.epochs))
    accuracy = {}
    for position, entry in enumerate(history):
        # older runs evaluated only after the last epoch and did not always say which
        epoch = int(entry.get("epoch", epochs if len(history) == 1 else position + 1))
        accuracy[epoch] = float(entry[key])
    timing = metrics.get("timing", {})
    train_phases = [value["seconds"] for key, value in timing.items()
                    if key.startswith("train-")]
    notes = []
    seconds = float(np.mean(train_phases)) if train_phases else None
    if seconds is None:
        notes.append("no training time recorded")
    patches = patch_wiring(run_dir)
    if patches is None:
        energy = _snn_events_per_image(neurons, metrics, timing, notes)
        parameters = snn_parameters(run_dir / rundir.CONFIG, dataset, neurons)
    else:
        parameters = patches[0] * neurons + neurons
        energy = None
        notes.append("energy proxy: not computed for a patch layout (input spikes are "
                     "recorded for all pixels together, their fan-outs differ)")
    name = str(metrics.get("model", config.model))
    if config.model != name:  # a model file given by path: name the file too
        name = f"{name} ({Path(config.model).stem})"
    if config.silence_below:  # another evaluation of the network: a series of its own
        name = f"{name}, --silence-below {config.silence_below}"
    return ComparedRun(
        kind="snn", run_dir=run_dir, architecture=name,
        neurons=neurons, layers=1, dataset=dataset,
        data=selection_name(config.train, config.per_class),
        seed=config.seed, epochs=epochs,
        train_images=int(metrics["train_images"]), test_images=int(metrics["test_images"]),
        accuracy_by_epoch=accuracy, seconds_per_epoch=seconds,
        parameters=parameters, energy_per_image=energy, notes=notes,
        variant=variant)


def snn_parameters(source, dataset: str, neurons: int) -> int:
    """Plastic input weights and adaptive thresholds of an SNN; ``source`` names the
    file in the error.

    Raises
    ------
    ConfigError
        The dataset has no known input size.
    """
    n_input = INPUT_SIZE.get(dataset)
    if n_input is None:
        raise ConfigError(f"{source}: dataset {dataset!r} has no known input size (known: "
                          f"{', '.join(INPUT_SIZE)})")
    return n_input * neurons + neurons


def patch_wiring(run_dir):
    """``(fan_in, n_locations, n_pixels)`` of the patch layout of a run's output layer
    (its ``model.toml`` and the files it extends, copied beside it), or None: no patch
    layout, or no model copy."""
    path = Path(run_dir) / rundir.MODEL_COPY
    chain = [path, *sorted(Path(run_dir).glob("model.base*.toml"))]
    if not path.is_file() or not any("patches" in p.read_text(encoding="utf-8")
                                     for p in chain):
        return None  # all-to-all models are read without Brian2
    from brian_stdp.model.spec import load_model

    layout = load_model(path).layouts().get("exc")
    return None if layout is None else (layout.fan_in, layout.n_locations, layout.n_inputs)


def _snn_events_per_image(neurons: int, metrics: dict, timing: dict, notes: list):
    """Synaptic events per test image (see the module docstring), or None with a note."""
    tests = sorted((key for key in timing if key.startswith("test-")),
                   key=lambda key: int(key.split("-")[1]))
    if not tests or "input_spikes" not in timing[tests[-1]] or not timing[tests[-1]]["images"]:
        notes.append("energy proxy: input spikes of the test phase not recorded")
        return None
    last = timing[tests[-1]]
    input_spikes = last["input_spikes"] / last["images"]
    output = metrics["history"][-1].get("mean_spikes_per_image")
    if output is None:
        notes.append("energy proxy: excitatory spikes per test image not recorded")
        return None
    excitatory_to_inhibitory = output * 1
    inhibitory_to_excitatory = output * (neurons - 1)  # one inhibitory spike per exc. spike
    return float(input_spikes * neurons + excitatory_to_inhibitory + inhibitory_to_excitatory)
