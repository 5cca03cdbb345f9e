"""Published MNIST accuracies of STDP-trained networks (the anchors), and this comparison's
measured figures beside each.

:data:`ANCHORS` holds each published figure once; :func:`anchor_rows` matches it with the
compared SNN groups of the same family and size trained on the full training set (all of
them: the test set chooses none), after one epoch and, where the published network was
trained for more, after every later epoch evaluated on all the group's seeds too (no epoch
picked by its test accuracy); :func:`anchor_table` writes the report's Markdown table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Anchor:
    """One published figure: MNIST test accuracy (fraction) of a network of ``neurons``
    excitatory neurons, of the model family whose file names start with ``family``, trained
    for ``epochs`` epochs (None: as published, more than one; runs here are then shown after
    every epoch they were evaluated after)."""

    source: str
    family: str
    network: str
    neurons: int
    accuracy: float
    epochs: int | None = None

    @property
    def training(self) -> str:
        """How the published network was trained, as the report's table says it."""
        return "as published" if self.epochs is None else \
            f"{self.epochs} epoch{'s' if self.epochs > 1 else ''}"

    def compared_epochs(self, group) -> list:
        """The epochs of ``group`` (one model's seeds) to set beside this figure, in order:
        those evaluated on every seed and allowed by :attr:`epochs` (all of them, so that
        none is picked by its test accuracy)."""
        evaluated = set.intersection(*(set(point.accuracy_by_epoch) for point in group.points))
        return sorted(epoch for epoch in evaluated if self.epochs in (None, epoch))


ANCHORS = (
    Anchor("Diehl & Cook (2015)", "diehl_cook_2015", "Diehl & Cook", 100, 0.829),
    Anchor("Diehl & Cook (2015)", "diehl_cook_2015", "Diehl & Cook", 400, 0.870),
    Anchor("Diehl & Cook (2015)", "diehl_cook_2015", "Diehl & Cook", 1600, 0.919),
    Anchor("Diehl & Cook (2015)", "diehl_cook_2015", "Diehl & Cook", 6400, 0.950),
    Anchor("BindsNET (Hazan et al. 2018)", "diehl_cook_2015", "Diehl & Cook", 400, 0.9183, 1),
    Anchor("Saunders et al. (2019)", "lc_snn", "LC-SNN, 100 filters", 900, 0.9168, 1),
    Anchor("Saunders et al. (2019)", "lc_snn", "LC-SNN, 250 filters", 2250, 0.9371, 1),
    Anchor("Saunders et al. (2019)", "lc_snn", "LC-SNN, 500 filters", 4500, 0.9459, 1),
)


def anchor_rows(selection: dict, anchors=ANCHORS) -> list:
    """``(anchor, groups)`` for each anchor: every SNN group of ``selection`` (the groups
    of one dataset trained on the full set, :func:`~.groups.group_points`) of the anchor's
    family and size with an accuracy to compare (:meth:`Anchor.compared_epochs`), by model
    name; none picked out by its test accuracy."""
    rows = []
    for anchor in anchors:
        matches = sorted((group for (kind, architecture, neurons, *_), group in selection.items()
                          if kind == "snn" and architecture.startswith(anchor.family)
                          and neurons == anchor.neurons and not group.first.variant
                          and anchor.compared_epochs(group)),
                         key=lambda group: group.first.architecture)
        rows.append((anchor, matches))
    return rows


def anchor_table(selection: dict, anchors=ANCHORS) -> list:
    """Markdown lines: each anchor beside every compared run of its family and size (mean
    ± s.d. over the seeds, in percent), one line per model and compared epoch, and the
    difference."""
    lines = ["| published | network | neurons | published accuracy (%) | trained | "
             "model here (seeds) | epochs here | measured here (%) | measured − published "
             "(points) |",
             "| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: |"]
    for anchor, groups in anchor_rows(selection, anchors):
        published = (f"| {anchor.source} | {anchor.network} | {anchor.neurons:,} | "
                     f"{100 * anchor.accuracy:.2f} | {anchor.training} |")
        if not groups:
            lines.append(f"{published} not run | | | |")
        for group in groups:
            for epoch in anchor.compared_epochs(group):
                mean = group.mean(lambda p: p.accuracy_by_epoch[epoch])
                std = group.std(lambda p: p.accuracy_by_epoch[epoch])
                measured = f"{100 * mean:.2f}" + (f" ± {100 * std:.2f}" if std is not None
                                                  else "")
                lines.append(f"{published} `{group.first.architecture}` "
                             f"({','.join(map(str, group.seeds))}) | {epoch} | {measured} | "
                             f"{100 * (mean - anchor.accuracy):+.2f} |")
    return lines
