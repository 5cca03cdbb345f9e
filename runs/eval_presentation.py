"""Label and score a finished run again with the images shown for another time
(``[protocol] t_present_eval``), without training it again (runs/NOTES.md, "Longer
presentations in label and test"):

    BRIAN_STDP_DATA=DIR python runs/eval_presentation.py RUN_DIR MS [WORKERS]

The run's own labelling images assign the labels and its own scored images (validation or
test) are scored, as in its last label and test phases; only the input spike trains
differ (they are drawn after the run's phases, see brian_stdp.predict). Prints one JSON
line: accuracies and spikes per scored image.
"""

import dataclasses
import json
import sys
import time

import brian2

from brian_stdp.training import evaluation
from brian_stdp.training.classify import load_run, spike_counts
from brian_stdp.training.selection import select_images


def main():
    run_dir, milliseconds = sys.argv[1], float(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    run = load_run(run_dir)
    protocol = dataclasses.replace(run.spec.protocol, t_present_eval=milliseconds * brian2.ms)
    run.spec = dataclasses.replace(run.spec, protocol=protocol)
    images = select_images(run.config)
    started = time.perf_counter()
    label_counts, _ = spike_counts(run, images.train_set.images[images.label_idx], workers=workers)
    scored_counts, _ = spike_counts(run, images.test_set.images[images.test_idx], workers=workers)
    assignment = evaluation.assign_labels(label_counts, images.train_set.labels[images.label_idx],
                                          images.train_set.n_classes)
    result = evaluation.evaluate(scored_counts, images.test_set.labels[images.test_idx], assignment,
                                 images.train_set.n_classes)
    print(json.dumps({"run": run_dir, "t_present_eval_ms": milliseconds,
                      "scored_on": images.scored_on,
                      "all_activity": result["accuracy_all_activity"],
                      "proportion_weighting": result["accuracy_proportion_weighting"],
                      "spikes_per_scored_image": round(float(scored_counts.sum(1).mean()), 2),
                      "seconds": round(time.perf_counter() - started)}))


if __name__ == "__main__":  # worker processes import this file
    main()
