"""Experiments made of many runs: grids on Dask, SNN-ANN comparisons, benchmarks.

- :mod:`~brian_stdp.experiments.grids`: grids of runs on Dask: grid files, what a point
  is (an SNN or an ANN run), one point's process, the runner, the results tables.
- :mod:`~brian_stdp.experiments.comparison`: SNN against ANN on equal data, and its report
  (a subpackage: the runs, grid rows without folders, groups, the report).
- :mod:`~brian_stdp.experiments.rescoring`: a finished run re-scored from its spike counts.
- :mod:`~brian_stdp.experiments.benchmark`: compile time, speed and memory per device and size.
"""
