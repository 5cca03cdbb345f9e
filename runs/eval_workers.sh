#!/usr/bin/env bash
# Label and test over worker processes: the same run with --workers 1 and --workers N,
# and one table: workers, label + test wall seconds, speed-up, both accuracies. The
# accuracies must be equal to the last digit (the blocks do not depend on the workers).
#
#   bash runs/eval_workers.sh [OUT_DIR]      (default OUT_DIR: runs/out/eval_workers_<time>)
#
# Sizes: NEURONS, TRAIN, LABEL, TEST (environment variables; defaults 400, 2000, 2000,
# 2000) and WORKERS (default: the cores available). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/out/eval_workers_$(date +%Y%m%d-%H%M%S)}
NEURONS=${NEURONS:-400}
TRAIN=${TRAIN:-2000}
LABEL=${LABEL:-2000}
TEST=${TEST:-2000}
PYTHON=${PYTHON:-.venv/bin/python}
WORKERS=${WORKERS:-$("$PYTHON" -c "from brian_stdp.training.config import available_cores as a; print(a())")}
if [ -d ../shared/data/mnist ] && [ -z "${BRIAN_STDP_DATA:-}" ]; then
    export BRIAN_STDP_DATA=$(cd ../shared/data/mnist && pwd)
fi
mkdir -p "$OUT"
for w in 1 "$WORKERS"; do
    echo "== --workers $w" >&2
    "$PYTHON" -m brian_stdp.run --neurons "$NEURONS" --train "$TRAIN" --label "$LABEL" \
        --test "$TEST" --workers "$w" --out "$OUT/workers$w" --quiet >/dev/null
done
"$PYTHON" - "$OUT" 1 "$WORKERS" <<'PY'
import json, sys
from pathlib import Path

out, counts = Path(sys.argv[1]), sys.argv[2:]
rows = []
for w in counts:
    m = json.loads((out / f"workers{w}" / "metrics.json").read_text())
    wall = sum(m["timing"][p]["wall_seconds"] for p in ("label-1", "test-1"))
    rows.append((w, wall, m["accuracy_all_activity"], m["accuracy_proportion_weighting"]))
print("| workers | label + test wall s | speed-up | all activity | proportion weighting |")
print("| ---: | ---: | ---: | ---: | ---: |")
for w, wall, a, p in rows:
    print(f"| {w} | {wall:.1f} | {rows[0][1] / wall:.2f}x | {100 * a:.2f} % | {100 * p:.2f} % |")
same = len({(a, p) for _, _, a, p in rows}) == 1
print("accuracies equal:", same)
sys.exit(0 if same else 1)
PY
