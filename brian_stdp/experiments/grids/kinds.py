"""What a point of a grid is, for each kind of run the sweep can run.

A grid file's ``kind`` says which command runs its points:

``snn``
    ``python -m brian_stdp.run`` (a spiking network, :class:`brian_stdp.training.trainer.RunConfig`),
    the default.
``ann``
    ``python -m brian_stdp.ann`` (the Keras dense baseline, :class:`brian_stdp.ann.baseline.AnnConfig`).

A :class:`Kind` knows everything of its runs that :mod:`brian_stdp.sweep`
needs: the settings a grid file may fix (``[base]``) or vary (``[grid]``), how
a value from the file is read, how a point's configuration is made and named,
the command line that runs it, which saved settings must match for a finished
folder to count, whether an unfinished folder can be resumed, and which
numbers of its ``metrics.json`` go into the tables. The sweep itself (Dask,
tables, figures) is the same for every kind.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
from pathlib import Path

from brian_stdp.ann import baseline as ann
from brian_stdp.cli import is_positive_count
from brian_stdp.errors import ConfigError, ModelFileError
from brian_stdp.model.files import model_label
from brian_stdp.training import rundir
from brian_stdp.training.config import RunConfig


def count_value(value, where):
    """An image count from a grid file: a positive int, or "all" (None)."""
    if isinstance(value, str) and value.lower() == "all":
        return None
    if not is_positive_count(value):
        raise ConfigError(f"{where}: {value!r} is not a positive whole number or \"all\"")
    return value


def positive_value(value, where):
    """A positive whole number from a grid file."""
    if not is_positive_count(value):
        raise ConfigError(f"{where}: {value!r} is not a positive whole number")
    return value


def model_value(model, grid_dir: Path, where: str) -> str:
    """A model name as given, or a model path made absolute (relative to the grid file)."""
    if not isinstance(model, str) or not model:
        raise ConfigError(f"{where}: {model!r} is not a model name or a path to a .toml file")
    if model.endswith(".toml") or "/" in model or os.sep in model:
        return str((grid_dir / model).resolve())
    return model


class Kind:
    """A kind of run that a grid's points are (subclassed once per kind).

    Attributes
    ----------
    name : str
        The grid file's ``kind`` value.
    module : str
        The module run as ``python -m MODULE`` for a point.
    config_type : type
        The frozen dataclass of a run's settings.
    axes : tuple of str
        Settings a grid may vary, in the order they appear in tables.
    count_keys : tuple of str
        Settings given as a number of images, where "all" means None.
    not_result_keys : tuple of str
        Settings that do not change a run's result (a finished folder saved
        with other values of these still counts).
    panel_axis : str or None
        Axis whose values get one panel each in the figures.
    """

    name = ""
    module = ""
    config_type = None
    axes = ()
    count_keys = ("train", "test")
    not_result_keys = ("data_dir", "threads")
    panel_axis = None

    # -- grid files ---------------------------------------------------------------------
    def fields(self) -> list:
        """Every setting a grid file may give."""
        return [field.name for field in dataclasses.fields(self.config_type)]

    def read_value(self, key: str, value, grid_dir: Path, where: str):
        """A setting's value as read from a grid file, checked and normalised."""
        if key in self.count_keys:
            return count_value(value, where)
        if key == "per_class":
            return positive_value(value, where)
        if key == "data_dir":
            return str((grid_dir / value).resolve())
        return value

    def make_config(self, settings: dict, given: set):
        """The checked configuration of a point.

        Parameters
        ----------
        settings : dict
            Fixed and chosen values of the point (no defaults filled in).
        given : set of str
            Settings the grid file gives anywhere (fixed or varied).

        Raises
        ------
        BrianSTDPError
            A value the run's own command line would reject.
        """
        config = self.config_type(**{**self.defaults(), **settings})
        config.check()
        return config

    def defaults(self) -> dict:
        return dataclasses.asdict(self.config_type())

    def values(self, config) -> dict:
        """The point's value of every axis (as shown in tables and matched by --select)."""
        return {key: self.display(key, getattr(config, key)) for key in self.axes}

    def display(self, key: str, value):
        """A setting's value as tables, figures and --select show it."""
        return value

    def point_name(self, config) -> str:
        raise NotImplementedError

    # -- running ------------------------------------------------------------------------
    def flag_value(self, key: str, value) -> str:
        return str(value)

    def command(self, config, run_dir: Path, resume: bool) -> list:
        """The command line that runs a point in ``run_dir``.

        Every setting becomes the flag of the same name: a count that is None
        as ``all``, a true flag as itself; ``threads`` None (``auto``) as 1, since a grid
        runs its points side by side; a false flag and any other None are left out.
        """
        command = [sys.executable, "-m", self.module]
        for field in dataclasses.fields(self.config_type):
            value, flag = getattr(config, field.name), "--" + field.name.replace("_", "-")
            if isinstance(value, bool):
                command += [flag] if value else []
            elif value is None and field.name == "threads":
                command += [flag, "1"]
            elif value is None:
                command += [flag, "all"] if field.name in self.count_keys else []
            else:
                command += [flag, self.flag_value(field.name, value)]
        return command + ["--out", str(run_dir), "--quiet"]

    def saved_form(self, config) -> dict:
        """The settings as the run saves them in ``config.json``."""
        return dataclasses.asdict(config)

    def stale_reason(self, config, run_dir: Path, grid_path) -> str | None:
        """Why a folder's run no longer belongs to the point, or None if it does. A setting
        that its ``config.json`` lacks (one added to the project after the run) has its
        default there, as the run's readers take it."""
        saved = {**self.saved_form(self.config_type()),
                 **rundir.load_json(run_dir / rundir.CONFIG)}
        expected = self.saved_form(config)
        differ = [key for key in expected
                  if key not in self.not_result_keys and saved.get(key) != expected[key]]
        if differ:
            return (f"made with other settings than {grid_path} now asks for ("
                    + ", ".join(f"{k}: {saved.get(k)!r} there, {expected[k]!r} now"
                                for k in differ)
                    + "); delete that folder or give the grid another out folder")
        return None

    def resumable(self, run_dir: Path) -> bool:
        """Whether an unfinished run in ``run_dir`` can be continued."""
        return False

    def prepare(self, run_dir: Path) -> None:
        """Make an unfinished folder ready for a fresh (not resumed) run: remove the
        files of the earlier attempt, which the run command would refuse to overwrite."""
        for name in (*rundir.RUN_MARKERS, rundir.PROVENANCE, rundir.MODEL_COPY, rundir.LOG):
            (run_dir / name).unlink(missing_ok=True)

    # -- results ------------------------------------------------------------------------
    def metric_label(self, metric: str, scored_on: str = "test") -> str:
        """Axis label of an accuracy key, e.g. ``accuracy_all_activity``, scored on the
        ``"test"`` set or a ``"validation"`` split."""
        return f"{scored_on} accuracy, {metric.replace('accuracy_', '').replace('_', ' ')} (%)"

    def metrics_row(self, metrics: dict) -> dict:
        """The numbers of a finished run's ``metrics.json`` that go into the tables.

        Every accuracy of the history becomes ``<key>_epoch<k>``.
        """
        row = {}
        for entry in metrics["history"]:
            for key, value in entry.items():
                if key.startswith("accuracy"):
                    row[f"{key}_epoch{entry['epoch']}"] = value
        row["train_images_per_second"] = metrics.get("train_images_per_second")
        return row


#: ``[model]`` keys that describe a model without changing what it simulates.
DESCRIPTIVE_MODEL_KEYS = ("title", "deviations")


def simulated_tables(path: Path) -> dict | None:
    """A model file's tables without comments and :data:`DESCRIPTIVE_MODEL_KEYS`: what
    decides its runs. None for a file that is not valid TOML (it differs from any
    valid one)."""
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    model = {key: value for key, value in tables.get("model", {}).items()
             if key not in DESCRIPTIVE_MODEL_KEYS}
    return {**tables, "model": model}


def point_python(device: str) -> str:
    """The Python that runs a point on ``device``: this one, or the device's own environment
    where this one cannot run it (``genn``: ``.venv-genn``, see
    :func:`brian_stdp.backends.devices.genn.genn_python`)."""
    from brian_stdp.backends import devices

    if device in devices.names():
        other = devices.get(device).python_elsewhere()
        if other is not None:
            return str(other)
    return sys.executable


class SnnKind(Kind):
    """Spiking networks: ``python -m brian_stdp.run``."""

    name = "snn"
    module = "brian_stdp.run"
    config_type = RunConfig
    axes = ("model", "neurons", "train", "per_class", "epochs", "seed", "device")
    count_keys = ("train", "label", "test")
    not_result_keys = ("model", "data_dir", "threads", "keep_build", "workers")
    panel_axis = "model"

    def read_value(self, key, value, grid_dir, where):
        if key == "model":
            return model_value(value, grid_dir, where)
        return super().read_value(key, value, grid_dir, where)

    def make_config(self, settings, given):
        settings = dict(settings)
        if "workers" not in given:  # the grid runs its points in parallel already
            settings["workers"] = 1
        if "per_class" in given:
            settings["train"] = None  # per_class replaces the default train count
            if "label" not in settings:  # as run.py: label on all the selected images
                settings["label"] = None
        config = self.config_type(**{**self.defaults(), **settings})
        if point_python(config.device) == sys.executable:
            config.check()
        else:  # the device's own environment runs the point, and checks the device there
            config.check_values()
        return config

    def point_name(self, config) -> str:
        """E.g. ``diehl_cook_2015_n400_pc80_e5_s0_cpp_standalone``; ``_silence5`` before the
        device for ``--silence-below 5``."""
        size = (f"pc{config.per_class}" if config.per_class is not None
                else f"t{config.train if config.train is not None else 'all'}")
        silence = [f"silence{config.silence_below}"] if config.silence_below else []
        return "_".join([model_label(config.model), f"n{config.neurons}", size, f"e{config.epochs}",
                         f"s{config.seed}", *silence, config.device])

    def command(self, config, run_dir, resume):
        if resume:
            command = [sys.executable, "-m", self.module, "--resume", str(run_dir), "--quiet"]
        else:
            command = super().command(config, run_dir, resume)
        return [point_python(config.device), *command[1:]]

    def stale_reason(self, config, run_dir, grid_path):
        reason = super().stale_reason(config, run_dir, grid_path)
        if reason is None and self._model_changed(config, run_dir):
            reason = (f"made with another version of the model file {config.model} (its copy "
                      f"{rundir.MODEL_COPY} there differs); delete that folder to run the "
                      f"point with the model as it is now")
        return reason

    @staticmethod
    def _model_changed(config, run_dir: Path) -> bool:
        """Whether the folder's copies of its model file (and of the files it extends)
        simulate differently from those files now (:func:`simulated_tables`: comments and
        the descriptive ``[model]`` keys may change).

        False when a file is missing (a model that does not exist makes the point
        fail when it runs, which is recorded there).
        """
        from brian_stdp.model.files import base_copy_name, model_chain, resolve_model_path

        name = rundir.MODEL_COPY
        try:
            current = model_chain(resolve_model_path(config.model))
        except ModelFileError:
            return False
        for path in current:
            copy = run_dir / name
            if not copy.exists():
                return False
            if simulated_tables(copy) != simulated_tables(path):
                return True
            name = base_copy_name(name)
        return False

    def resumable(self, run_dir):
        return (run_dir / rundir.CONFIG).exists() and (run_dir / rundir.CHECKPOINT).exists()

    def metrics_row(self, metrics):
        row = {"label_images": metrics["label_images"], "test_images": metrics["test_images"],
               "scored_on": metrics.get("scored_on", "test")}
        row.update({key: value for key, value in metrics.items() if key.startswith("accuracy")})
        row.update(super().metrics_row(metrics))
        row["compile_seconds"] = metrics.get("timing", {}).get("compile_seconds")
        return row


class AnnKind(Kind):
    """Keras dense networks: ``python -m brian_stdp.ann``."""

    name = "ann"
    module = "brian_stdp.ann"
    config_type = ann.AnnConfig
    axes = ("hidden", "optimizer", "lr", "batch", "epochs", "train", "per_class", "seed")
    panel_axis = "optimizer"

    def read_value(self, key, value, grid_dir, where):
        if key == "hidden":
            return ann.hidden_value(value, where)
        return super().read_value(key, value, grid_dir, where)

    def display(self, key, value):
        return ann.format_hidden(value) if key == "hidden" else value

    def point_name(self, config) -> str:
        """E.g. ``all_h64-64_seed1`` (see :func:`brian_stdp.ann.baseline.point_name`)."""
        return ann.point_name(config)

    def flag_value(self, key, value):
        return ann.format_hidden(value) if key == "hidden" else str(value)

    def saved_form(self, config):
        return config.to_dict()

    def metric_label(self, metric, scored_on="test"):
        return {"accuracy_test": "test accuracy (%)",
                "accuracy_train": "accuracy on the training images (%)"}.get(
                    metric, super().metric_label(metric, scored_on))

    def metrics_row(self, metrics):
        row = {"train_images": metrics["train_images"], "test_images": metrics["test_images"],
               "accuracy_test": metrics["accuracy"],
               "best_accuracy_test": metrics["best_accuracy"],
               "best_epoch": metrics["best_epoch"], "parameters": metrics["parameters"],
               "macs_per_image": metrics["macs_per_image"]}
        row.update(super().metrics_row(metrics))
        row["train_seconds_per_epoch"] = metrics["timing"]["train_seconds_per_epoch_median"]
        return row


#: Every kind, by its grid-file name.
KINDS = {kind.name: kind for kind in (SnnKind(), AnnKind())}

#: The kind of a grid file without ``kind``.
DEFAULT_KIND = "snn"


def get_kind(name, where: str) -> Kind:
    """The kind called ``name``; ConfigError naming ``where`` if there is none."""
    if name not in KINDS:
        raise ConfigError(f"{where}: kind = {name!r} is not a kind of run (choose from "
                          f"{', '.join(KINDS)})")
    return KINDS[name]


