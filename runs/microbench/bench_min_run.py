"""``python runs/microbench/bench_min_run.py MIN_RUN BENCH_ARGS...``: ``python -m
brian_stdp.bench BENCH_ARGS...`` with ``brian_stdp.backends.streamed_stores.MIN_RUN`` set
to MIN_RUN, to measure a network's speed with and without the arrival times streamed
past the cache (runs/NOTES.md, "Arrival times written past the cache"). For example, at
400 neurons (runs of about 19 synapses), streamed and not:

    python runs/microbench/bench_min_run.py 1 --neurons 400 --images 3000 --threads 1
    python runs/microbench/bench_min_run.py 32 --neurons 400 --images 3000 --threads 1
"""

import runpy
import sys

if len(sys.argv) < 2:
    sys.exit(__doc__)

import brian_stdp.backends.streamed_stores as streamed_stores  # noqa: E402

streamed_stores.MIN_RUN = float(sys.argv[1])
sys.argv = ["brian_stdp.bench", *sys.argv[2:]]
runpy.run_module("brian_stdp.bench", run_name="__main__")
