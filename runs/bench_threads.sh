#!/usr/bin/env bash
# Training speed with 1 and 2 threads, the code before the threads of issue 23 (a checkout
# of it in $BEFORE, default ../wt-old at 658915a) and this code, one after the other on
# the same machine: python -m brian_stdp.bench --neurons $NEURONS --images $IMAGES
# --threads T (NEURONS: 400,1600,6400 and IMAGES: 1000 unless set).
# Writes runs/bench/${NAME}_{before,after}_{1,2}.json (NAME: threads unless set) and prints
# one table of the four. Run it on an idle machine: two threads need both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=$(cd "${BEFORE:-../wt-old}" && pwd)
PY=$(pwd)/${PY:-.venv/bin/python}
IMAGES=${IMAGES:-1000}
NEURONS=${NEURONS:-400,1600,6400}
OUT=$(pwd)/runs/bench
NAME=${NAME:-threads}
for threads in 1 2; do
    (cd "$BEFORE" && "$PY" -m brian_stdp.bench --neurons "$NEURONS" --images "$IMAGES" \
        --threads "$threads" --out "$OUT/${NAME}_before_$threads.json")
    "$PY" -m brian_stdp.bench --neurons "$NEURONS" --images "$IMAGES" --threads "$threads" \
        --out "$OUT/${NAME}_after_$threads.json"
done
# One table of the four runs: training images/s over full chunks, the ratios, and memory
# (the simulation's peak, per input synapse of the 784-input layer, and the peaks of the
# Python process and the simulation added: a bound on what the two hold together).
"$PY" - "$OUT" "$NAME" <<'PY'
import json, sys
from pathlib import Path

out, name = Path(sys.argv[1]), sys.argv[2]
runs = {(code, threads): {r["neurons"]: r for r in json.loads(
            (out / f"{name}_{code}_{threads}.json").read_text())["rows"]}
        for code in ("before", "after") for threads in (1, 2)}
total = lambda row: row["peak_python_mib"] + row["peak_sim_mib"]
print("| neurons | before, 1 thread | before, 2 threads | after, 1 thread | after, 2 threads "
      "| after / before, 1 thread | after / before, 2 threads | 2 threads / 1, after "
      "| simulation peak MiB, before / after (1 thread) | bytes per input synapse, after "
      "| Python + simulation peaks, MiB before / after (1 thread) |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |")
for n in sorted(runs["after", 1]):
    speed = {key: rows[n]["full_chunk_images_per_second"] for key, rows in runs.items()}
    b1, a1 = runs["before", 1][n], runs["after", 1][n]
    per_synapse = a1["peak_sim_mib"] * 2**20 / (784 * n)
    print(f"| {n:,} | {speed['before', 1]:.2f} | {speed['before', 2]:.2f} "
          f"| {speed['after', 1]:.2f} | {speed['after', 2]:.2f} "
          f"| {speed['after', 1] / speed['before', 1]:.2f} "
          f"| {speed['after', 2] / speed['before', 2]:.2f} "
          f"| {speed['after', 2] / speed['after', 1]:.2f} "
          f"| {b1['peak_sim_mib']:,.0f} / {a1['peak_sim_mib']:,.0f} | {per_synapse:.0f} "
          f"| {total(b1):,.0f} / {total(a1):,.0f} |")
PY
