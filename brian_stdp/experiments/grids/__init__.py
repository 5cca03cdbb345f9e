"""Grids of runs (model x neurons x training size x epochs x seed x device) on Dask
(``python -m brian_stdp.sweep``).

A grid file lists values of a run's settings; every combination is one point,
one ordinary run of ``python -m brian_stdp.run`` (or ``brian_stdp.ann``) in
its own run directory. The modules, each importing only those above it:

- :mod:`~brian_stdp.experiments.grids.kinds`: what a point is (an SNN or an ANN run).
- :mod:`~brian_stdp.experiments.grids.files`: grid files, their points, the names of
  the files in a grid's folder.
- :mod:`~brian_stdp.experiments.grids.points`: one point: its state, its command, its
  run as a process of its own, its failure record.
- :mod:`~brian_stdp.experiments.grids.results`: the tables ``results.csv``,
  ``summary.csv`` and ``results.json``.
- :mod:`~brian_stdp.experiments.grids.runner`: the Dask client and the run of a grid.
"""
