#!/usr/bin/env bash
# Two cores, three ways, 6,400 neurons, 60 slots (runs/microbench/thread_waits.py), three
# times in turn: one 1-thread run alone, one 2-thread run, two 1-thread runs side by side.
# Prints the network's run time and the cycles of the excitatory state update (code split
# by blocks of neurons, no barrier inside), of the input pathway and in total.
# bash runs/microbench/thread_waits_pairs.sh > runs/bench/thread_waits_pairs_6400.txt
# (on the idle machine; BRIAN_STDP_DATA set, the venv of README active)
set -e
cd "$(dirname "$0")/../.."
folder=${THREAD_WAITS_FOLDER:-/tmp/thread_waits}
tw() {
  BRIAN_STDP_NT=$1 python runs/microbench/thread_waits.py diehl_cook_2015 6400 60 "$folder/$2" 2>&1 |
    grep "network run\|exc_stateupdater\|inp_exc_pre_code\|^total" | tr '\n' ' '
  echo
}
for f in a b; do  # build both programs first
  [ -d "$folder/$f/build" ] || BRIAN_STDP_NT=1 python runs/microbench/thread_waits.py \
    diehl_cook_2015 6400 60 "$folder/$f" > /dev/null
done
for rep in 1 2 3; do
  echo "rep $rep alone NT1:   $(tw 1 a)"
  echo "rep $rep alone NT2:   $(tw 2 a)"
  tw 1 a > "$folder/pair_a.txt" & tw 1 b > "$folder/pair_b.txt"; wait
  echo "rep $rep pair NT1 a:  $(cat "$folder/pair_a.txt")"
  echo "rep $rep pair NT1 b:  $(cat "$folder/pair_b.txt")"
done
