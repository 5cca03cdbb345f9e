#!/usr/bin/env bash
# GPU check: train, label and test 400 neurons on cuda_standalone and on genn (GPU backend),
# with cpp_standalone beside them, and print one table: device, builds, compile s, training
# img/s, accuracy. Meant for a machine with an NVIDIA GPU and the CUDA toolkit (nvcc); under
# 10 minutes there once the environments exist (genn builds twice: the plastic network for
# training, the frozen one for labelling and testing).
#
#   bash runs/gpu_check.sh [OUT_DIR]         (default OUT_DIR: runs/out/gpu_check_<time>)
#
# It installs what it needs from the checkout with the Makefile (.venv for cpp_standalone
# and cuda_standalone, .venv-genn with the vendored GeNN for genn) unless they exist.
# Sizes: TRAIN, LABEL, TEST images (environment variables; defaults 3000, 1000, 1000).
# VENV, GENN_VENV: the two environments (defaults .venv, .venv-genn); INSTALL=0 uses them as
# they are instead of running make.
# CPU=1: a dry run without a GPU (cpp_standalone, and genn on GeNN's CPU backend; no
# cuda_standalone), e.g. CPU=1 NEURONS=20 TRAIN=60 LABEL=30 TEST=30 bash runs/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/out/gpu_check_$(date +%Y%m%d-%H%M%S)}
TRAIN=${TRAIN:-3000}
LABEL=${LABEL:-1000}
TEST=${TEST:-1000}
NEURONS=${NEURONS:-400}
CPU=${CPU:-0}
VENV=${VENV:-.venv}
GENN_VENV=${GENN_VENV:-.venv-genn}
mkdir -p "$OUT"
if [ -d ../shared/data/mnist ] && [ -z "${BRIAN_STDP_DATA:-}" ]; then
    export BRIAN_STDP_DATA=$(cd ../shared/data/mnist && pwd)
fi
if [ "$CPU" = 1 ]; then
    DEVICES="cpp_standalone genn"
    GENN_BACKEND=cpu
else
    DEVICES="cpp_standalone cuda_standalone genn"
    GENN_BACKEND=gpu
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || echo "no nvidia-smi"
fi
if [ "${INSTALL:-1}" = 1 ]; then
    make --no-print-directory install "$GENN_VENV/.installed" VENV="$VENV" GENN_VENV="$GENN_VENV"
fi

run() {  # run DEVICE PYTHON [extra env]
    local device=$1 python=$2 start=$SECONDS
    echo "== $device" >&2
    env "${@:3}" "$python" -m brian_stdp.run --device "$device" --neurons "$NEURONS" \
        --train "$TRAIN" --label "$LABEL" --test "$TEST" --out "$OUT/$device" --quiet \
        > "$OUT/$device.out" 2>&1 || echo "$device failed: see $OUT/$device.out" >&2
    echo $((SECONDS - start)) > "$OUT/$device.wall_seconds"
}
for device in $DEVICES; do
    case $device in
        genn) run genn "$GENN_VENV/bin/python" BRIAN_STDP_GENN_BACKEND=$GENN_BACKEND ;;
        *) run "$device" "$VENV/bin/python" ;;
    esac
done

"$VENV/bin/python" - "$OUT" $DEVICES <<'EOF' | tee "$OUT/table.txt"
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
print(f"{'device':<16} {'builds':>6} {'compile s':>9} {'train img/s':>11} {'accuracy %':>10} "
      f"{'wall s':>7}")
for device in sys.argv[2:]:
    metrics = out / device / "metrics.json"
    if not metrics.exists():
        print(f"{device:<16} {'failed: see ' + str(out / (device + '.out'))}")
        continue
    m = json.loads(metrics.read_text())
    wall = (out / f"{device}.wall_seconds").read_text().strip()
    print(f"{device:<16} {m['timing'].get('builds', '-'):>6} "
          f"{m['timing']['compile_seconds']:>9.1f} {m['train_images_per_second']:>11.1f} "
          f"{100 * m['accuracy_all_activity']:>10.2f} {wall:>7}")
EOF
