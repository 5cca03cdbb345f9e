#!/usr/bin/env bash
# What a second core can give this workload on this machine: the training speed of one
# one-thread simulation alone, of two independent one-thread simulations side by side
# (their summed speed over one alone is the most any split of one simulation over two
# threads could reach here: the same work with no barrier), and of one two-thread
# simulation: python -m brian_stdp.bench --neurons N --images $IMAGES --threads T
# (N = 1600, 6400; IMAGES: 1000 unless set). Writes $OUT/ceiling_N_{alone,pair_a,
# pair_b,threads2}.json (OUT: runs/bench unless set) and prints the table. Run it on an
# idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(pwd)/${PY:-.venv/bin/python}
IMAGES=${IMAGES:-1000}
OUT=${OUT:-runs/bench}
mkdir -p "$OUT"
bench() {  # NEURONS THREADS NAME
    "$PY" -m brian_stdp.bench --neurons "$1" --images "$IMAGES" --threads "$2" \
        --out "$OUT/ceiling_$1_$3.json" --quiet > /dev/null
}
for n in 1600 6400; do
    bench "$n" 1 alone
    bench "$n" 1 pair_a & bench "$n" 1 pair_b & wait
    bench "$n" 2 threads2
done
"$PY" - "$OUT" <<'PY'
import json, sys
from pathlib import Path

out = Path(sys.argv[1])
speed = lambda n, name: json.loads((out / f"ceiling_{n}_{name}.json").read_text())[
    "rows"][0]["full_chunk_images_per_second"]
print("| neurons | 1 thread alone | two 1-thread runs side by side (each) | their sum / alone "
      "| 1 run on 2 threads | 2 threads / alone |")
print("| --- | --- | --- | --- | --- | --- |")
for n in (1600, 6400):
    alone, a, b, two = (speed(n, k) for k in ("alone", "pair_a", "pair_b", "threads2"))
    print(f"| {n:,} | {alone:.2f} | {a:.2f}, {b:.2f} | {(a + b) / alone:.2f} | {two:.2f} "
          f"| {two / alone:.2f} |")
PY
