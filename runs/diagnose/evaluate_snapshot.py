"""Label and test a training snapshot of a run, and say which neurons fired the test spikes.

A diagnostic of runs/NOTES.md ("Twice the learning rates at 6,400 neurons"): a snapshot is
a copy of a run's ``checkpoint.npz`` taken during training (``keep_snapshots.sh``). Its
network is labelled on the first N_LABEL training images and scored on the first N_TEST
test images, as a run's label and test phases do (plasticity off, blocks of up to 1,000
images), in one process. The neurons are grouped by the training images they won up to
the snapshot (the runner's record of each image's last spike).

    BRIAN_STDP_DATA=../shared/data/mnist python runs/diagnose/evaluate_snapshot.py \\
        RUN_DIR SNAPSHOT.npz N_LABEL N_TEST [--silence-below K] [--unseen]

``--silence-below K`` keeps silent, for labelling and testing, every neuron that won fewer
than K training images, as the runner's ``--silence-below`` and ``predict`` do
(``exc.theta`` + 1 V; K = 1: the neurons that never won). ``--unseen`` scores, instead of
test images, the N_TEST training images that the run showed next after the snapshot (in
its training order): images the snapshot has not been trained on, a validation set for it.
Prints one JSON object.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from brian_stdp.data.datasets import load_dataset
from brian_stdp.model.spec import load_model
from brian_stdp.training import evaluation, rundir, scoring
from brian_stdp.training.checkpoint import load_checkpoint
from brian_stdp.training.classify import TrainedRun, spike_counts
from brian_stdp.training.config import read_run_config
from brian_stdp.training.selection import Phase, select_images


def load_snapshot(path):
    """(state, winners, images trained) of a checkpoint copy taken during the training of
    a one-epoch run, or after it (its label and test phases leave the state as it was)."""
    progress, state, records = load_checkpoint(path)
    winners = records["train"]["winner"]
    trained = progress.position if progress.phase_index == 0 else len(winners)
    return state, winners[:trained], trained


def groups(wins):
    """Boolean masks of the neurons by training images won."""
    return {"never won": wins == 0, "won 1-4": (wins >= 1) & (wins < 5), "won 5+": wins >= 5}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("snapshot", type=Path)
    p.add_argument("n_label", type=int)
    p.add_argument("n_test", type=int)
    p.add_argument("--silence-below", type=int, default=0, metavar="K")
    p.add_argument("--unseen", action="store_true")
    args = p.parse_args()

    config = read_run_config(args.run_dir)
    state, winners, trained = load_snapshot(args.snapshot)
    theta = state[scoring.THETA_KEY]
    n = theta.size
    wins = np.bincount(winners[winners >= 0], minlength=n)
    train, test = (load_dataset(config.dataset, split, data_dir=config.data_dir)
                   for split in ("train", "test"))
    classes = train.n_classes
    unlabelled = evaluation.Assignment(labels=np.full(n, -1), rates=np.zeros((n, classes)),
                                       proportions=np.zeros((n, classes)))
    run = TrainedRun(run_dir=args.run_dir, config=config,
                     spec=load_model(args.run_dir / rundir.MODEL_COPY), state=state,
                     assignment=unlabelled, image_shape=train.shape,
                     silenced=evaluation.few_wins(winners, n, args.silence_below))
    started = time.perf_counter()
    label_counts, _ = spike_counts(run, train.images[:args.n_label], workers=1)
    if args.unseen:
        order = select_images(config).stream(Phase("train", 1))[1]
        if trained + args.n_test > len(order):
            raise SystemExit(f"{args.snapshot}: fewer than {args.n_test} training images "
                             f"after its {trained}")
        unseen = order[trained:trained + args.n_test]
        images, labels = train.images[unseen], train.labels[unseen]
    else:
        images, labels = test.images[:args.n_test], test.labels[:args.n_test]
    test_counts, _ = spike_counts(run, images, workers=1)
    assignment = evaluation.assign_labels(label_counts, train.labels[:args.n_label], classes)
    result = evaluation.evaluate(test_counts, labels, assignment, classes)
    per_neuron = test_counts.sum(axis=0)
    total = max(per_neuron.sum(), 1)
    theta_mv = 1e3 * theta
    out = {
        "snapshot": str(args.snapshot), "images_trained": trained,
        "silenced_below_wins": args.silence_below,
        "n_label": args.n_label, "n_test": args.n_test,
        "scored_on": "unseen training images" if args.unseen else "test",
        "accuracy_all_activity": result["accuracy_all_activity"],
        "accuracy_proportion_weighting": result["accuracy_proportion_weighting"],
        "test_spikes_per_image": result["mean_spikes_per_image"],
        "neuron_usage": evaluation.neuron_usage(winners, test_counts),
        "seconds": round(time.perf_counter() - started, 1),
        "groups": {name: {"neurons": int(mask.sum()),
                          "theta_mV_min_median_max": [round(float(f(theta_mv[mask])), 3)
                                                      for f in (np.min, np.median, np.max)]
                          if mask.any() else None,
                          "test_spike_share": round(float(per_neuron[mask].sum() / total), 4)}
                   for name, mask in groups(wins).items()},
        "busiest_test_neurons": [
            {"neuron": int(i), "test_spikes": int(per_neuron[i]),
             "images_fired": int(np.sum(test_counts[:, i] > 0)),
             "theta_mV": round(float(theta_mv[i]), 3), "training_wins": int(wins[i]),
             "label": int(assignment.labels[i])}
            for i in np.argsort(per_neuron)[::-1][:10]],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
