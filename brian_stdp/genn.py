"""Command line: check a model file for GeNN, write a GeNN project, or train on GeNN.

    python -m brian_stdp.genn --check MODEL
    python -m brian_stdp.genn --generate DIR [--neurons N --images N]
    python -m brian_stdp.genn --train [--neurons N --images N]   (= python -m brian_stdp.run --device genn)

The work is done by :mod:`brian_stdp.backends.brian2genn.check` (the check, the project) and
:mod:`brian_stdp.backends.single_run` (the network); this module parses the flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brian_stdp.backends.brian2genn.check import (GENN_MODEL, check_genn_compatible,
                                                  project_problems)
from brian_stdp.backends.single_run import DEFAULT_SLOTS_PER_IMAGE, train_single_run
from brian_stdp.backends.devices import genn as genn_device
from brian_stdp.errors import ConfigError, DeviceError
from brian_stdp.model.spec import load_model


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m brian_stdp.genn",
                                description=__doc__.split("\n\n")[0])
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", metavar="MODEL",
                        help="list what a model file must change to run on GeNN")
    action.add_argument("--generate", metavar="DIR", type=Path,
                        help="write the GeNN project of a training run to DIR, without "
                             "compiling or running it (needs brian2genn, not GeNN)")
    action.add_argument("--train", action="store_true",
                        help="an alias of python -m brian_stdp.run --device genn --train "
                             "IMAGES --label all: train, label and test into a run directory")
    p.add_argument("--model", default=GENN_MODEL, help="model for --generate/--train")
    p.add_argument("--neurons", type=int, default=100)
    p.add_argument("--images", type=int, default=100, help="training images")
    p.add_argument("--slots", type=int, default=None,
                   help=f"presentation slots (default {DEFAULT_SLOTS_PER_IMAGE} per image)")
    p.add_argument("--data-dir", default=None, help="folder with MNIST's idx files")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> int:
    from brian_stdp.cli import check_positive, guarded

    args = parser().parse_args(argv)

    def body():
        if args.check:
            spec = load_model(args.check)
            check_genn_compatible(spec)
            print(f"{spec.path}: no GeNN restriction found")
            return 0
        for flag in ("neurons", "images"):
            check_positive(getattr(args, flag), f"--{flag}")
        spec = load_model(args.model)
        if args.generate:
            _need_brian2genn()
            images = _images(args, spec)
            train_single_run(spec, images, args.neurons, seed=args.seed, slots=args.slots,
                             device=genn_device.NAME, directory=args.generate, compile=False,
                             run=False)
            problems = project_problems(spec, args.generate)
            if problems:
                raise DeviceError(f"--generate {args.generate}: the GeNN project is "
                                  f"incomplete: {'; '.join(problems)}")
            print(f"GeNN project written to {args.generate}")
            return 0
        from brian_stdp.run import main as run_main

        return run_main(["--device", genn_device.NAME, "--model", args.model, "--neurons",
                         str(args.neurons), "--train", str(args.images), "--label", "all",
                         "--seed", str(args.seed),
                         *(["--data-dir", args.data_dir] if args.data_dir else [])])

    return guarded(body)


def _need_brian2genn():
    import importlib.util

    if importlib.util.find_spec("brian2genn") is None:
        raise DeviceError(f"--generate: {genn_device.INSTALL}")


def _images(args, spec):
    from brian_stdp.data.datasets import load_dataset

    dataset = load_dataset("mnist", "train", data_dir=args.data_dir)
    if args.images > len(dataset):
        raise ConfigError(f"--images {args.images}: the training split has only "
                          f"{len(dataset)}")
    return dataset.images[:args.images]


if __name__ == "__main__":
    sys.exit(main())
