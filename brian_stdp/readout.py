"""Command line: re-score finished runs from their recorded spike counts, the vote with
fewer labelling images and a supervised linear readout.

    python -m brian_stdp.readout runs/grid_headline/points/*n400*

The work is done by :mod:`brian_stdp.experiments.rescoring`; this module parses the flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brian_stdp.cli import HelpFormatter, guarded, positive_counts
from brian_stdp.errors import BrianSTDPError, ConfigError
from brian_stdp.experiments.rescoring import DEFAULT_SIZES, format_table, readout_report
from brian_stdp.training import rundir


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m brian_stdp.readout", formatter_class=HelpFormatter,
        description="Re-score finished runs from the spike counts their checkpoints "
                    "recorded, without simulating: the vote with the first n labelling "
                    "images, and a supervised linear readout of the same counts (not a "
                    "result of the unsupervised network: what the counts hold beyond "
                    "one label per neuron).")
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                   help="finished run folders (their checkpoint.npz is read)")
    p.add_argument("--sizes", type=positive_counts, default=list(DEFAULT_SIZES),
                   help="labelling images of the vote's columns, comma-separated")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    return p


def main(argv=None) -> int:
    def body():
        args = parser().parse_args(argv)
        reports, failed = [], []
        for run in args.runs:
            try:
                reports.append(readout_report(run, args.sizes))
            except BrianSTDPError as err:  # the others are still scored
                print(f"error: {err}", file=sys.stderr)
                failed.append(str(run))
        if reports:
            print(format_table(reports))
            if args.json:
                rundir.save_json(args.json, reports)
        if failed:
            raise ConfigError(f"{len(failed)} of {len(args.runs)} runs not scored: "
                              + ", ".join(failed))
        return 0

    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
