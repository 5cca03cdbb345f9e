#!/usr/bin/env bash
# The five programs of runs/microbench/state_update_passes.py at 1,600 neurons, 200 slots:
# as built, with a timed second pass of the excitatory state update, with that update on
# the first thread alone, with the input pathway split by blocks of targets, and that with
# the second thread's share left out. Each runs on one thread, then twice on two, one after
# the other. Prints the network's run time and the cycles of the state updates, the input
# pathway and the second pass, per thread.
# bash runs/microbench/state_update_passes.sh > runs/bench/state_update_passes_1600_run2.txt
# (on the idle machine; BRIAN_STDP_DATA set, the venv of README active; _run1.txt: the
# first four programs, run an hour before the fifth was added). NEURONS=6400 SLOTS=60 for
# the larger network (_6400.txt).
set -e
cd "$(dirname "$0")/../.."
folder=${STATE_UPDATE_PASSES_FOLDER:-/tmp/state_update_passes}
neurons=${NEURONS:-1600}
slots=${SLOTS:-200}
rm -rf "$folder"
for mode in as-built second-pass serial target-split first-block-only; do
  for nt in 1 2 2; do
    echo "== $mode, $nt thread(s)"
    if [ "$mode" = as-built ]; then
      BRIAN_STDP_NT=$nt python runs/microbench/thread_waits.py diehl_cook_2015 "$neurons" "$slots" "$folder/$mode"
    else
      BRIAN_STDP_NT=$nt python runs/microbench/state_update_passes.py "$neurons" "$slots" "$folder/$mode" "$mode"
    fi 2>&1 | grep "network run\|_stateupdater\|inp_exc_pre_code\|^total\|second pass"
  done
done
