"""Command line: run a grid of runs (model x neurons x training size x epochs x seed x device) on Dask.

    python -m brian_stdp.sweep runs/grid_fig3.toml                 # one worker per core
    python -m brian_stdp.sweep runs/grid_fig3.toml --workers 2
    python -m brian_stdp.sweep runs/grid_fig3.toml --scheduler tcp://HOST:8786
    python -m brian_stdp.sweep runs/grid_fig3.toml --select model=diehl_cook_2015
    python -m brian_stdp.sweep runs/grid_fig3.toml --list          # every point and its state
    python -m brian_stdp.sweep runs/grid_fig3.toml --report        # tables and figures only
    python -m brian_stdp.sweep runs/ann_fig1.toml                  # a grid of Keras ANNs

The work is done by :mod:`brian_stdp.experiments.grids`, the figures by
:mod:`brian_stdp.plots.grid_figures`; this module parses the flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brian_stdp.cli import guarded
from brian_stdp.experiments.grids.files import RESULTS_CSV, SUMMARY_CSV, load_grid, select_points
from brian_stdp.experiments.grids.points import point_state
from brian_stdp.experiments.grids.results import write_results
from brian_stdp.experiments.grids.runner import make_client, run_grid


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m brian_stdp.sweep",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("grid", type=Path, help="grid file (TOML), e.g. runs/grid_fig3.toml")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes of the LocalCluster (default: one per core)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="use an existing Dask cluster, e.g. tcp://HOST:8786")
    p.add_argument("--select", action="append", default=[], metavar="AXIS=VALUE",
                   help="run only the points with this value; repeated, a point must "
                        "have one of the values given for each axis (--select seed=1 "
                        "--select seed=2: both seeds); others are kept in the tables as "
                        "they are")
    p.add_argument("--list", action="store_true", help="list the points and their state")
    p.add_argument("--report", action="store_true",
                   help="only rewrite the tables and figures from the point folders")
    return p


def main(argv=None) -> int:
    def body():
        args = parser().parse_args(argv)
        grid = load_grid(args.grid)
        if args.list:
            chosen = {p.name for p in select_points(grid, args.select)}
            for point in grid.points:
                if point.name in chosen:
                    print(f"{point_state(grid, point):12s} {grid.run_dir(point)}")
            return 0
        if args.report:
            from brian_stdp.plots.grid_figures import make_grid_figures

            results = write_results(grid)
            make_grid_figures(grid, results)
            print(f"{grid.out}: {results['status_counts']}")
            return 0
        client = make_client(args.workers, args.scheduler)
        try:
            results = run_grid(grid, client, args.select)
        finally:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
        print(f"{grid.out}: {results['status_counts']}; this run took "
              f"{results['sessions'][-1]['wall_seconds']:.0f} s; tables in "
              f"{grid.out / RESULTS_CSV}, {grid.out / SUMMARY_CSV}")
        return 0

    return guarded(body, lambda: "; run the same command again to continue (finished points "
                                 "are skipped, interrupted runs resume from their checkpoint)")


if __name__ == "__main__":
    sys.exit(main())
