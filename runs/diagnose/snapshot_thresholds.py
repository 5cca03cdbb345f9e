"""Thresholds and winners across the training snapshots of a run (no simulation).

For each ``RUN_DIR/snapshots/train_<images>.npz`` (``keep_snapshots.sh``): the neurons that
never won a training image so far, their adaptive threshold theta (min / median, mV), the
median theta of the neurons that won 5 or more, and how many neurons won for the first
time in the images since the previous snapshot.

    python runs/diagnose/snapshot_thresholds.py RUN_DIR
"""

import sys
from pathlib import Path

import numpy as np

from brian_stdp.training.checkpoint import load_checkpoint


def main(run_dir):
    snapshots = sorted(Path(run_dir, "snapshots").glob("train_*.npz"),
                       key=lambda p: int(p.stem.split("_")[1]))
    print("images  never_won  theta_never_won_min/median  theta_won5+_median  new_winners")
    seen_before = None
    for path in snapshots:
        progress, state, records = load_checkpoint(path)
        winners = records["train"]["winner"][:progress.position]
        theta = 1e3 * state["exc.theta"]
        wins = np.bincount(winners[winners >= 0], minlength=theta.size)
        never, often = wins == 0, wins >= 5
        new = int(np.sum(wins > 0)) - (seen_before if seen_before is not None else 0)
        seen_before = int(np.sum(wins > 0))
        print(f"{progress.position:6d}  {never.sum():9d}  {theta[never].min():7.2f} / {np.median(theta[never]):6.2f}"
              f"        {np.median(theta[often]):8.2f}        {new:6d}")


if __name__ == "__main__":
    main(sys.argv[1])
