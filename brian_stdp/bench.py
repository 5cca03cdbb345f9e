"""Command line: measure compile time, training speed and memory on this machine.

    python -m brian_stdp.bench --neurons 100,400,1600 --images 2000

The work is done by :mod:`brian_stdp.experiments.bench`; this module parses the flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brian_stdp.backends.devices import DEVICES, device_problem, genn_problem_elsewhere
from brian_stdp.backends.registry import session_class
from brian_stdp.cli import HelpFormatter, check_positive, guarded, positive_counts
from brian_stdp.data.datasets import load_dataset
from brian_stdp.errors import BrianSTDPError, ConfigError
from brian_stdp.experiments.bench import (DEFAULT_CHUNK, DEFAULT_IMAGES, DEFAULT_NEURONS,
                                          bench_size, format_profile, format_summary, format_table,
                                          machine_info, row_elsewhere)
from brian_stdp.model.files import available_models
from brian_stdp.model.spec import load_model
from brian_stdp.training import rundir


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m brian_stdp.bench", description=__doc__.split("\n\n")[0],
        formatter_class=HelpFormatter)
    p.add_argument("--neurons", type=positive_counts, default=list(DEFAULT_NEURONS),
                   metavar="N,N,...", help="network sizes (excitatory neurons)")
    p.add_argument("--images", type=int, default=DEFAULT_IMAGES, metavar="N",
                   help="training images per size")
    p.add_argument("--chunk", type=int, default=DEFAULT_CHUNK,
                   help="presentation slots per compiled run")
    p.add_argument("--threads", type=int, default=1, help="OpenMP threads (cpp_standalone)")
    p.add_argument("--profile", action="store_true",
                   help="time every code object (cpp_standalone; Brian2's profiler) and print "
                        "where the time goes")
    p.add_argument("--model", default="diehl_cook_2015",
                   help=f"model file path, or one of: {', '.join(available_models())}")
    p.add_argument("--device", "--devices", dest="devices", default="cpp_standalone",
                   metavar="DEVICE[,DEVICE...]",
                   help=f"device, or comma-separated devices ({', '.join(DEVICES)})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None,
                   help="folder with MNIST's idx files (else $BRIAN_STDP_DATA, the cache)")
    p.add_argument("--out", type=Path, default=Path("bench.json"), help="JSON file to write")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def run_bench(args, log=None) -> dict:
    """Measure every device and size the flags ask for; return the JSON document."""
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    if not devices:
        raise ConfigError("--device: give at least one device")
    unavailable, elsewhere = {}, {}
    for device in devices:
        problem = device_problem(device)
        if problem and device not in DEVICES:
            raise ConfigError(problem)
        python = session_class(device).python_elsewhere() if problem else None
        if python is not None:  # another environment (.venv-genn) runs it
            elsewhere[device] = python
            problem = genn_problem_elsewhere(python)
        if problem:
            unavailable[device] = problem
    if args.profile and not all(session_class(d).can_profile for d in devices):
        raise ConfigError("--profile times the code objects of cpp_standalone only: "
                          "leave it out or use --device cpp_standalone")
    for flag in ("images", "chunk", "threads"):
        check_positive(getattr(args, flag), f"--{flag}")
    if not 0 <= args.seed < 2**32:
        raise ConfigError(f"--seed must be a whole number in [0, 2**32), not {args.seed}")
    spec = load_model(args.model)
    dataset = load_dataset("mnist", "train", data_dir=args.data_dir)
    if args.images > len(dataset):
        raise ConfigError(f"--images {args.images}: the MNIST training split has only "
                          f"{len(dataset)} images")
    rows = []
    for device in devices:
        for neurons in args.neurons:
            if device in unavailable:
                rows.append({"device": device, "neurons": neurons,
                             "unavailable": unavailable[device]})
                continue
            if log is not None:
                log(f"{device}, {neurons} neurons: compiling")
            try:
                if device in elsewhere:
                    row = row_elsewhere(elsewhere[device], device, args, neurons)
                else:
                    row = bench_size(spec, dataset, neurons, args.images, chunk=args.chunk,
                                     device=device, threads=args.threads, seed=args.seed,
                                     log=log, profile=args.profile)
            except BrianSTDPError:
                raise
            except Exception as err:  # an optional device's failure keeps the others' figures
                if not session_class(device).optional:
                    raise
                row = {"device": device, "neurons": neurons,
                       "failed": f"{type(err).__name__}: {err}".strip()}
            rows.append(row)
    measured = [row for row in rows if "unavailable" not in row and "failed" not in row]
    return {"machine": machine_info(args.seed, devices),
            "settings": {"model": spec.name, "images": args.images, "chunk": args.chunk,
                         "threads": args.threads, "seed": args.seed, "devices": devices,
                         "profile": args.profile,
                         "neurons": args.neurons},
            "table": format_table(measured).splitlines(),
            "summary": format_summary(rows).splitlines(),
            "rows": rows}


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import logging

    logging.getLogger("brian2").setLevel(logging.WARNING)
    log = None if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))

    def body():
        result = run_bench(args, log=log)
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
