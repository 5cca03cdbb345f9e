"""Command line: train the Keras dense-network baseline on the SNN's own data selections.

    python -m brian_stdp.ann --hidden 64,64 --per-class 80 --seed 1 --out runs/out/ann
    python -m brian_stdp.sweep runs/ann_fig1.toml          # a grid of them, on Dask

The work is done by :mod:`brian_stdp.ann.baseline`; this module parses the flags.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from brian_stdp.ann.baseline import AnnConfig, format_hidden, refuse_used_run_dir, train
from brian_stdp.cli import (HelpFormatter, add_setting_flags, console_log, file_log, guarded,
                            settings_from_args)
from brian_stdp.errors import ConfigError
from brian_stdp.training import rundir


def parser() -> argparse.ArgumentParser:
    """The flags: one per :class:`AnnConfig` field, then ``--out`` and ``--quiet``."""
    p = argparse.ArgumentParser(
        prog="python -m brian_stdp.ann", formatter_class=HelpFormatter,
        description="Train the study's dense ANN baseline on the SNN's data selections.")
    add_setting_flags(p, AnnConfig)
    p.add_argument("--out", type=Path, default=None,
                   help="run directory (default: runs/out/ann_<hidden>_<data>_<time>)")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    return p


def config_from_args(args) -> AnnConfig:
    """The configuration that the flags ask for."""
    values = settings_from_args(args, AnnConfig)
    if values["per_class"] is not None and values["train"] is not None:
        raise ConfigError("--train and --per-class exclude each other: give one")
    return AnnConfig(**values)


def summary(metrics: dict, run_dir) -> str:
    """The lines printed at the end of a run."""
    return "\n".join([
        f"dense ANN {format_hidden(metrics['hidden'])} ({metrics['parameters']} parameters), "
        f"{metrics['optimizer']} lr {metrics['lr']:g}, {metrics['train_images']} training "
        f"images x {metrics['epochs']} epoch(s), {metrics['dataset']}",
        f"test accuracy: {100 * metrics['accuracy']:.2f}% after the last epoch, best "
        f"{100 * metrics['best_accuracy']:.2f}% after epoch {metrics['best_epoch']}, on "
        f"{metrics['test_images']} images",
        f"training time: {metrics['timing']['train_seconds_per_epoch_median']:.2f} s per epoch "
        f"(median)",
        f"results: {run_dir}",
    ])


def main(argv=None) -> int:
    def body():
        args = parser().parse_args(argv)
        console_log(args.quiet)
        config = config_from_args(args)
        config.check()
        run_dir = args.out or Path("runs/out") / (
            f"ann_{'-'.join(map(str, config.hidden))}_{config.data_name}_"
            f"{time.strftime('%Y%m%d-%H%M%S')}")
        refuse_used_run_dir(run_dir)  # before the log file is opened there
        handler = file_log(Path(run_dir) / rundir.LOG)
        try:
            metrics = train(config, run_dir)
        finally:
            logging.getLogger("brian_stdp").removeHandler(handler)
            handler.close()
        print(summary(metrics, run_dir))
        return 0

    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
