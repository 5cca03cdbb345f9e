"""Command line: classify images with a trained run.

    python -m brian_stdp.predict RUN_DIR digit.png other.png
    python -m brian_stdp.predict RUN_DIR --test 100

The work is done by :mod:`brian_stdp.training.classify`; this module parses the flags.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

from brian_stdp.backends import devices
from brian_stdp.backends.devices import DEFAULT_DEVICE, check_device
from brian_stdp.cli import HelpFormatter, check_positive, check_seed, guarded
from brian_stdp.data.images import INVERT_CHOICES, prepare_images
from brian_stdp.errors import ConfigError
from brian_stdp.training import evaluation
from brian_stdp.training.classify import first_test_images, load_run, spike_counts, vote
from brian_stdp.training.config import available_cores


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
    p.add_argument("--device", default=DEFAULT_DEVICE, help=", ".join(devices.names()))
    p.add_argument("--invert", choices=INVERT_CHOICES, default="auto",
                   help="invert image files (auto: when the mean pixel is above 127)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the input spike trains (default: the run's seed)")
    p.add_argument("--workers", type=int, default=available_cores(), metavar="N",
                   help="processes that classify, each with its own compiled network (1: "
                        "only this one); the results do not depend on it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _classify(args):
    """Run the classification the flags ask for; return the lines to print."""
    if not args.images and args.test is None:
        raise ConfigError("nothing to classify: give image files and/or --test N")
    if args.test is not None:
        check_positive(args.test, "--test")
    if args.seed is not None:
        check_seed(args.seed)
    check_positive(args.workers, "--workers")
    check_device(args.device)
    run = load_run(args.run_dir)
    names = [str(path) for path in args.images]
    parts = [prepare_images(args.images, run.image_shape, args.invert)]
    labels = None
    if args.test is not None:
        test_images, labels = first_test_images(run, args.test)
        parts.append(test_images)
        names += [f"test[{i}]" for i in range(args.test)]
    images = np.concatenate(parts)
    counts, presentations = spike_counts(run, images, device=args.device,
                                         progress=not args.quiet, seed=args.seed,
                                         workers=args.workers)
    votes = vote(run, counts)
    pred_all, pred_pw = votes["all_activity"], votes["proportion_weighting"]
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
