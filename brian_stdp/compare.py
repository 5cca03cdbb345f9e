"""Command line: compare SNN and ANN runs on equal data (the study's Fig. 1 and Fig. 4, costs, a report).

    python -m brian_stdp.compare runs/ann_fig1 runs/ann_pc80 runs/grid_fig3 runs/diehl_cook_400 --out runs/compare

The work is done by :mod:`brian_stdp.experiments.comparison`; this module parses the flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brian_stdp.cli import HelpFormatter, guarded
from brian_stdp.errors import ConfigError
from brian_stdp.experiments.comparison.inputs import collect_points
from brian_stdp.experiments.comparison.report import make_report
from brian_stdp.experiments.comparison.runs import LAST_WINNER


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m brian_stdp.compare",
        formatter_class=HelpFormatter,
        description="Compare SNN and ANN runs on equal data: Fig. 1, Fig. 4, cost figures "
                    "and a Markdown report.")
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN_OR_GRID",
                   help="run directories, or folders holding them (searched recursively); "
                        "a grid's SNN points whose folders are gone are read from its "
                        "results.json")
    p.add_argument("--out", type=Path, default=Path("runs/compare"),
                   help="folder for report.md, the figures and the tables")
    return p


def main(argv=None) -> int:
    def body():
        args = parser().parse_args(argv)
        empty = []
        points = collect_points(args.runs, empty)
        for path in empty:
            print(f"warning: {path}: no finished run yet", file=sys.stderr)
        if not points:
            raise ConfigError("nothing to compare: no finished run in "
                              + ", ".join(map(str, args.runs)))
        command = "python -m brian_stdp.compare " + " ".join(
            str(path) for path in args.runs) + f" --out {args.out}"
        report = make_report(points, args.out, args.runs, command, empty)
        kinds = {kind: sum(point.kind == kind and point.variant != LAST_WINNER
                           for point in points) for kind in ("ann", "snn")}
        print(f"{kinds['ann']} ANN and {kinds['snn']} SNN runs compared: {report}")
        return 0

    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
