#!/usr/bin/env bash
# Two-thread training speed beside another process (issue 23: cores that pay), the code in
# $BEFORE (a checkout; default ../wt-old) and this code, one after the other on the same
# machine: python -m brian_stdp.bench --neurons $NEURONS --images $IMAGES --chunk $CHUNK
# --threads 2, alone, beside a busy loop at `nice -n 19` and beside one at the default
# priority (NEURONS: 1600, IMAGES: 600, CHUNK: 300 unless set), each $REPEAT times
# (default 2). Writes runs/bench/${NAME}_{before,after}_{alone,nice19,nice0}_{k}.json
# (NAME: threads_load unless set). Run it on an otherwise idle 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
AFTER=$(pwd)
BEFORE=$(cd "${BEFORE:-../wt-old}" && pwd)
PY=${PY:-.venv/bin/python}
case $PY in /*) ;; *) PY=$(pwd)/$PY ;; esac
NEURONS=${NEURONS:-1600}
IMAGES=${IMAGES:-600}
CHUNK=${CHUNK:-300}
REPEAT=${REPEAT:-2}
OUT=$(pwd)/runs/bench
NAME=${NAME:-threads_load}
busy=""
stop_load() { if [ -n "$busy" ]; then kill "$busy" 2>/dev/null || true; wait "$busy" 2>/dev/null || true; busy=""; fi; }
trap stop_load EXIT
for k in $(seq "$REPEAT"); do
    for load in alone nice19 nice0; do
        for code in before after; do
            dir=$BEFORE; [ "$code" = after ] && dir=$AFTER
            case $load in
                nice19) nice -n 19 bash -c 'while :; do :; done' & busy=$! ;;
                nice0) bash -c 'while :; do :; done' & busy=$! ;;
            esac
            (cd "$dir" && "$PY" -m brian_stdp.bench --neurons "$NEURONS" --images "$IMAGES" \
                --chunk "$CHUNK" --threads 2 --quiet \
                --out "$OUT/${NAME}_${code}_${load}_$k.json")
            stop_load
        done
    done
done
