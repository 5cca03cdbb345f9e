#!/usr/bin/env bash
# Training speed with 1 and 2 threads, the code before the threads of issue 23 (a checkout
# of it in $BEFORE, default ../wt-old at 658915a) and this code, one after the other on
# the same machine: python -m brian_stdp.bench --neurons $NEURONS --images $IMAGES
# --threads T (NEURONS: 400,1600,6400 and IMAGES: 1000 unless set).
# Writes runs/bench/${NAME}_{before,after}_{1,2}.json (NAME: threads unless set). Run it on
# an idle machine: two threads need both cores.
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
