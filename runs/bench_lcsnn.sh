#!/usr/bin/env bash
# Training speed of the LC-SNN against Diehl & Cook's network, one core each, the three
# benchmarks back to back on one machine (runs/README.md, "LC-SNN"):
#   bash runs/bench_lcsnn.sh            # PYTHON, IMAGES and OUT_DIR can be set
set -euo pipefail
PYTHON=${PYTHON:-python}
IMAGES=${IMAGES:-3000}
OUT_DIR=${OUT_DIR:-runs/bench}
for spec in "lc_snn 900,2250" "lc_snn_k16 900,2250" "diehl_cook_2015 400,1600"; do
    set -- $spec
    "$PYTHON" -m brian_stdp.bench --model "$1" --neurons "$2" --images "$IMAGES" \
        --threads 1 --out "$OUT_DIR/lcsnn_speed_$1.json"
done
