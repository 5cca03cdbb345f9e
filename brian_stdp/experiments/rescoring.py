"""How much the vote leaves on the table: a finished run's accuracy with fewer labelling
images, and a supervised linear readout of the same spike counts
(``python -m brian_stdp.readout RUN_DIR ...``).

The network's accuracy is that of its vote: each neuron takes the class it answered most
on the labelling images (:func:`~brian_stdp.training.evaluation.assign_labels`) and
votes for it. This module re-scores a finished run from the spike counts its checkpoint
recorded, without simulating anything:

- **vote with the first n labelling images**, n in ``--sizes``: does labelling on more
  images still pay?
- **linear readout**: multinomial logistic regression on log(1 + count), fitted on the
  labelling images' counts and scored on the scored images' counts. It is supervised, so
  it is not a result of the unsupervised network; it measures how much class information
  the spike counts hold beyond what one label per neuron can use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brian_stdp.errors import ConfigError
from brian_stdp.training import evaluation, rundir
from brian_stdp.training.checkpoint import load_checkpoint
from brian_stdp.training.config import read_run_config
from brian_stdp.training.selection import select_images

#: Labelling images of the vote's rows by default.
DEFAULT_SIZES = (2500, 5000, 10000)


def vote_accuracy(label_counts, label_labels, scored_counts, scored_labels,
                  n_classes: int) -> tuple:
    """(all activity, proportion weighting) accuracy of the vote, as the trainer scores
    a run (:func:`~brian_stdp.training.evaluation.evaluate`).

    Parameters
    ----------
    label_counts : ndarray, shape (n_label, n_neurons), int
        Spike counts of the labelling images.
    label_labels : ndarray, shape (n_label,), int
    scored_counts : ndarray, shape (n_scored, n_neurons), int
    scored_labels : ndarray, shape (n_scored,), int
    n_classes : int
    """
    assignment = evaluation.assign_labels(label_counts, label_labels, n_classes)
    result = evaluation.evaluate(scored_counts, scored_labels, assignment, n_classes)
    return result["accuracy_all_activity"], result["accuracy_proportion_weighting"]


def linear_readout_accuracy(label_counts, label_labels, scored_counts, scored_labels) -> float:
    """Accuracy of a multinomial logistic regression (scikit-learn, C = 1) on
    log(1 + count), fitted on the labelling images and scored on the scored images.
    Shapes as in :func:`vote_accuracy`."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=2000)
    model.fit(np.log1p(label_counts), label_labels)
    return float(model.score(np.log1p(scored_counts), scored_labels))


def readout_report(run_dir, sizes=DEFAULT_SIZES) -> dict:
    """The vote with the first n labelling images (n in ``sizes``, those the run has)
    and the linear readout, for the finished run in ``run_dir`` (its last epoch).

    Returns
    -------
    dict
        ``run``, ``scored_on``, ``label_images``, ``scored_images``, ``vote`` (a list of
        ``{label_images, all_activity, proportion_weighting}``) and ``linear``.

    Raises
    ------
    ConfigError
        ``run_dir`` is not a finished run, or its records do not match its settings.
    """
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    progress, _, records = load_checkpoint(run_dir / rundir.CHECKPOINT)
    if not progress.done or "label" not in records or "test" not in records:
        raise ConfigError(f"{run_dir}: the run has not finished (no label and test records "
                          f"in its checkpoint); finish it with --resume {run_dir}")
    images = select_images(config)
    label_counts, scored_counts = records["label"]["counts"], records["test"]["counts"]
    label_labels = images.train_set.labels[images.label_idx]
    scored_labels = images.test_set.labels[images.test_idx]
    if (len(label_counts), len(scored_counts)) != (len(label_labels), len(scored_labels)):
        raise ConfigError(f"{run_dir}: the checkpoint's records ({len(label_counts)} label, "
                          f"{len(scored_counts)} scored images) do not match config.json's "
                          f"selection ({len(label_labels)}, {len(scored_labels)})")
    n_classes = images.train_set.n_classes
    vote = []
    for n in sorted({min(n, len(label_counts)) for n in sizes}):
        both = vote_accuracy(label_counts[:n], label_labels[:n], scored_counts, scored_labels,
                             n_classes)
        vote.append({"label_images": n, "all_activity": both[0],
                     "proportion_weighting": both[1]})
    return {"run": str(run_dir), "scored_on": images.scored_on,
            "label_images": len(label_labels), "scored_images": len(scored_labels),
            "vote": vote,
            "linear": linear_readout_accuracy(label_counts, label_labels, scored_counts,
                                              scored_labels)}


def format_table(reports: list) -> str:
    """A Markdown table: one row per run, the vote per number of labelling images
    (all activity / proportion weighting) and the linear readout, in %."""
    sizes = sorted({v["label_images"] for r in reports for v in r["vote"]})
    head = ["run", "scored on", *[f"vote, {n} label images" for n in sizes],
            "linear readout (supervised)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in reports:
        votes = {v["label_images"]: v for v in r["vote"]}
        cells = [f"{100 * votes[n]['all_activity']:.2f} / "
                 f"{100 * votes[n]['proportion_weighting']:.2f}" if n in votes else "-"
                 for n in sizes]
        lines.append(f"| {Path(r['run']).name} | {r['scored_on']} | " + " | ".join(cells)
                     + f" | {100 * r['linear']:.2f} |")
    return "\n".join(lines)
