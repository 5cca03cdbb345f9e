"""Command line: train, label and test a spiking network from a model file.

    python -m brian_stdp.run --device cpp_standalone

With no flags it trains the Diehl & Cook (2015) network with 400 neurons on
10,000 MNIST images, labels the neurons on 5,000 of them, tests on 2,000 test
images, and prints the accuracy (about 2.5 minutes on one core).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path

from brian_stdp.backends import devices
from brian_stdp.cli import (HelpFormatter, add_setting_flags, console_log, file_log, guarded,
                            read_toml_file, settings_from_args)
from brian_stdp.errors import ConfigError
from brian_stdp.model.files import available_models
from brian_stdp.training import rundir
from brian_stdp.training.config import read_run_config
from brian_stdp.training.trainer import RunConfig, Trainer, refuse_used_run_dir, resume

DEFAULTS = RunConfig()


def parser() -> argparse.ArgumentParser:
    """The flags: one per :class:`RunConfig` field, then the run-directory flags."""
    p = argparse.ArgumentParser(
        prog="python -m brian_stdp.run", description=__doc__.split("\n\n")[0],
        formatter_class=HelpFormatter)
    p.add_argument("--config", type=Path, default=None, metavar="FILE.toml",
                   help="experiment config: overrides of these flags' defaults (keys as the "
                        "flags, with '_' for '-'); flags given here win")
    add_setting_flags(p, RunConfig, help_extra={
        "model": f": {', '.join(available_models())}", "device": f": {', '.join(devices.names())}"})
    p.add_argument("--out", type=Path, default=None,
                   help="new run directory; one that holds a run is refused (default: "
                        "runs/out/<model>_<neurons>n_<time>)")
    p.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                   help="continue the run in RUN_DIR under its stored settings (no other "
                        "flags but --workers); a finished run only prints its results")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def read_config_file(path: Path) -> dict:
    """The overrides in an experiment config file; unknown keys are rejected."""
    values = read_toml_file(path, f"--config {path}")
    RunConfig.from_dict(values, str(path))  # rejects unknown keys
    return values


#: Flags that go with ``--resume``; every other one would change the stored run.
RESUME_FLAGS = ("resume", "quiet", "help", "workers")


def parse_args(argv=None):
    """Flags, with the defaults of a ``--config`` file when one is given.

    Raises
    ------
    ConfigError
        ``--resume`` was given with a flag that would change the run: a run
        continues only under the settings stored in its folder.
    """
    p = parser()
    args = p.parse_args(argv)
    if args.resume is not None:
        given = [action.option_strings[0] for action in p._actions
                 if action.dest not in RESUME_FLAGS
                 and getattr(args, action.dest) != action.default]
        if given:
            raise ConfigError(f"--resume {args.resume} continues the run under the settings "
                              f"stored there; drop {', '.join(given)} (or start a new run "
                              f"with --out NEW_FOLDER)")
        p.set_defaults(workers=None)
        args.workers = p.parse_args(argv).workers  # None: not given, keep the stored setting
        return args
    if args.config is not None:
        p.set_defaults(**read_config_file(args.config))
        args = p.parse_args(argv)
    return args


def config_from_args(args) -> RunConfig:
    """The run configuration that the flags ask for."""
    values = settings_from_args(args, RunConfig)
    if args.per_class is not None:
        if args.train == DEFAULTS.train:
            values["train"] = None  # --per-class replaces the default --train
        if args.label == DEFAULTS.label:
            values["label"] = None  # with the default --label: label on all selected images
    return RunConfig(**values)


def setup_logging(run_dir: Path, quiet: bool) -> None:
    """Log to RUN_DIR/log.txt and, briefly, to the console."""
    console_log(quiet)
    file_log(run_dir / rundir.LOG)
    logging.getLogger("brian2").setLevel(logging.WARNING)


def summary(metrics: dict, run_dir: Path) -> str:
    """The lines printed at the end of a run."""
    act = metrics["activity"]
    return "\n".join([
        f"{metrics['model']}, {metrics['neurons']} neurons, {metrics['train_images']} "
        f"training images x {metrics['epochs']} epoch(s)"
        + (f" ({metrics['epochs_before']} of them before this run, --init-from)"
           if metrics.get("epochs_before") else "") + f", {metrics['dataset']}",
        f"{metrics.get('scored_on', 'test')} accuracy: "
        f"{100 * metrics['accuracy_all_activity']:.2f}% (all activity), "
        f"{100 * metrics['accuracy_proportion_weighting']:.2f}% (proportion weighting) "
        f"on {metrics['test_images']} images",
        *([f"{metrics.get('scored_on', 'test')} accuracy: "
           f"{100 * metrics['accuracy_last_winner']:.2f}% (last-winner labels, "
           f"most active neuron)"] if "accuracy_last_winner" in metrics else []),
        f"training speed: {metrics['train_images_per_second']:.1f} images/s; spikes per "
        f"image {act['spikes_per_image_first']:.1f} (first {act['window_images']}) -> "
        f"{act['spikes_per_image_last']:.1f} (last {act['window_images']})",
        f"results: {run_dir}",
    ])


def main(argv=None) -> int:
    run_dir = None

    def body():
        nonlocal run_dir
        args = parse_args(argv)
        if args.resume is not None:
            read_run_config(args.resume)  # a bad config.json is refused before the log opens
            run_dir = args.resume
            setup_logging(run_dir, args.quiet)
            metrics = resume(run_dir, progress=not args.quiet, workers=args.workers)
        else:
            config = config_from_args(args)
            config.check()
            out = args.out or Path("runs/out") / (
                f"{Path(config.model).stem}_{config.neurons}n_"
                f"{datetime.now().strftime('%Y%m%d-%H%M%S')}")
            refuse_used_run_dir(out)  # before the log file is opened there
            run_dir = out
            setup_logging(run_dir, args.quiet)
            metrics = Trainer(config, run_dir, progress=not args.quiet).run()
        print(summary(metrics, run_dir))
        return 0

    def hint():
        return f"; continue with: python -m brian_stdp.run --resume {run_dir}" if run_dir else ""

    return guarded(body, hint)


if __name__ == "__main__":
    sys.exit(main())
