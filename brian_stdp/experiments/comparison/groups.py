"""The compared runs grouped: by dataset and training-data selection, and within a
selection by architecture, the seeds of a group to be averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brian_stdp.experiments.comparison.runs import ComparedRun


@dataclass
class Group:
    """The seeds of one architecture on one dataset and data selection."""

    points: list

    @property
    def first(self) -> ComparedRun:
        return self.points[0]

    def values(self, getter) -> list:
        """``getter(point)`` of every point, None values left out."""
        return [value for value in map(getter, self.points) if value is not None]

    def mean(self, getter):
        values = self.values(getter)
        return float(np.mean(values)) if values else None

    def spread(self, getter) -> tuple:
        """(min, max) of ``getter`` over the seeds, or (None, None)."""
        values = self.values(getter)
        return (min(values), max(values)) if values else (None, None)

    def std(self, getter):
        values = self.values(getter)
        return float(np.std(values, ddof=1)) if len(values) > 1 else None

    @property
    def seeds(self) -> list:
        return sorted(point.seed for point in self.points)


def group_points(points) -> dict:
    """``{(dataset, data): {(kind, architecture, neurons, epochs, test_images, variant):
    Group}}``, each selection's groups sorted by kind, neurons, architecture.

    Runs that differ in epochs, test images or training settings are kept
    apart, so a group's seeds are the only thing that varies.
    """
    groups = {}
    for point in points:
        key = (point.kind, point.architecture, point.neurons, point.epochs, point.test_images,
               point.variant)
        selection = groups.setdefault((point.dataset, point.data), {})
        selection.setdefault(key, Group([])).points.append(point)
    for selection in groups.values():
        for group in selection.values():
            group.points.sort(key=lambda point: point.seed)
    return {key: dict(sorted(value.items(), key=lambda item: (item[0][0], item[0][2],
                                                              item[0][1], item[0][5])))
            for key, value in sorted(groups.items())}
