#!/bin/bash
# Keep a copy of RUN_DIR/checkpoint.npz each time its first training phase passes a multiple
# of EVERY images (default 5,000), as RUN_DIR/snapshots/train_<images>.npz, until the run
# writes metrics.json. Start it beside a run (runs/NOTES.md, "Twice the learning rates at
# 6,400 neurons"):   bash runs/diagnose/keep_snapshots.sh RUN_DIR [EVERY]
# The checkpoint is replaced atomically, so a copy is always a whole one; it is named by
# its own progress.
run=$1; every=${2:-5000}
python=${PYTHON:-$(dirname "$0")/../../.venv/bin/python}
mkdir -p "$run/snapshots"

progress() {  # phase index and images done of a checkpoint
  "$python" - "$1" <<'PY'
import json, sys
import numpy as np
with np.load(sys.argv[1]) as arrays:
    progress = json.loads(str(arrays["progress"]))
print(progress["phase_index"], progress["position"])
PY
}

last=0
until [ -f "$run/metrics.json" ]; do
  if [ -f "$run/checkpoint.npz" ]; then
    read -r phase position < <(progress "$run/checkpoint.npz")
    if [ "$phase" = 0 ] && [ $((position / every)) -gt "$last" ]; then
      cp "$run/checkpoint.npz" "$run/snapshots/copy.tmp"
      read -r phase position < <(progress "$run/snapshots/copy.tmp")  # the copy's own
      mv "$run/snapshots/copy.tmp" "$run/snapshots/train_$position.npz"
      last=$((position / every))
      echo "$(date +%T) kept train_$position.npz"
    fi
  fi
  sleep 20
done
