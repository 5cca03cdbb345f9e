"""Command line: measure compile time, training speed and memory on this machine.

    python -m brian_stdp.bench --neurons 100,400,1600 --images 2000

The work is done by :mod:`brian_stdp.experiments.benchmark`; this module parses the flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brian_stdp.backends import devices
from brian_stdp.cli import HelpFormatter, guarded, positive_counts
from brian_stdp.errors import ConfigError
from brian_stdp.experiments.benchmark import BenchSettings, format_profile, run_benchmark
from brian_stdp.model.files import available_models
from brian_stdp.training import rundir
from brian_stdp.training.config import AUTO_THREADS_RULE, threads_flag


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m brian_stdp.bench", description=__doc__.split("\n\n")[0],
        formatter_class=HelpFormatter)
    defaults = BenchSettings()
    p.add_argument("--neurons", type=positive_counts, default=list(defaults.neurons),
                   metavar="N,N,...", help="network sizes (excitatory neurons)")
    p.add_argument("--images", type=int, default=defaults.images, metavar="N",
                   help="training images per size")
    p.add_argument("--chunk", type=int, default=defaults.chunk,
                   help="presentation slots per compiled run")
    p.add_argument("--threads", type=threads_flag, default=defaults.threads, metavar="N",
                   help=f"threads of each simulation (cpp_standalone), or 'auto': "
                        f"{AUTO_THREADS_RULE} (default: auto)")
    p.add_argument("--profile", action="store_true",
                   help="time every code object (cpp_standalone, one thread; Brian2's "
                        "profiler) and print where the time goes")
    p.add_argument("--model", default=defaults.model,
                   help=f"model file path, or one of: {', '.join(available_models())}")
    p.add_argument("--device", "--devices", dest="devices", default=",".join(defaults.devices),
                   metavar="DEVICE[,DEVICE...]",
                   help=f"device, or comma-separated devices ({', '.join(devices.names())})")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--data-dir", default=None,
                   help="folder with MNIST's idx files (else $BRIAN_STDP_DATA, the cache)")
    p.add_argument("--out", type=Path, default=Path("bench.json"), help="JSON file to write")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import logging

    logging.getLogger("brian2").setLevel(logging.WARNING)
    log = None if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))

    def body():
        settings = BenchSettings(
            neurons=tuple(args.neurons), images=args.images, chunk=args.chunk,
            threads=args.threads, profile=args.profile, model=args.model,
            devices=tuple(d.strip() for d in args.devices.split(",") if d.strip()),
            seed=args.seed, data_dir=args.data_dir)
        result = run_benchmark(settings, log=log)
        print("\n".join(result["table"]))
        print()
        print("\n".join(result["summary"]))
        for row in result["rows"]:
            if "profile_seconds" in row:
                print()
                print(format_profile(row))
        try:
            rundir.save_json(args.out, result)
        except OSError as err:
            raise ConfigError(f"--out {args.out}: cannot write ({err})") from None
        print(f"machine: {result['machine']['cpu_model']}, {result['machine']['cpu_count']} "
              f"CPUs; results: {args.out}")
        return 0

    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
