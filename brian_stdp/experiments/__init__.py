"""Experiments made of many runs: grids on Dask, SNN-ANN comparisons, benchmarks.

- :mod:`~brian_stdp.experiments.sweep`: grid files, their points, results tables.
- :mod:`~brian_stdp.experiments.grids.kinds`: what a point is (an SNN or an ANN run).
- :mod:`~brian_stdp.experiments.compare`: SNN against ANN on equal data, and its report.
- :mod:`~brian_stdp.experiments.readout`: a finished run re-scored from its spike counts.
- :mod:`~brian_stdp.experiments.bench`: compile time, speed and memory per device and size.
"""
