"""SNN against ANN on equal data: the study's Fig. 1 and Fig. 4, with cost figures and a report.

    python -m brian_stdp.compare runs/ann_fig1 runs/ann_pc80 runs/grid_fig3 runs/diehl_cook_400 --out runs/compare

Every input is a run directory or a folder holding them (a grid's results). Each
run is read as a :class:`~brian_stdp.experiments.comparison.runs.ComparedRun`; runs
are grouped by dataset and training-data selection (``all``, ``first<N>``,
``pc<K>`` for K per class), and within a selection by architecture; seeds are
averaged. The modules, bottom up (each imports only those before it):

- :mod:`~brian_stdp.experiments.comparison.runs`: one finished run folder as a
  ``ComparedRun``, and what is compared (accuracies, time, parameters, energy proxy).
- :mod:`~brian_stdp.experiments.comparison.grid_rows`: a grid's SNN points whose run
  folders are gone, read from its ``results.json``.
- :mod:`~brian_stdp.experiments.comparison.inputs`: every point at or below the
  given paths.
- :mod:`~brian_stdp.experiments.comparison.groups`: the runs grouped by selection and
  architecture.
- :mod:`~brian_stdp.experiments.comparison.report`: ``report.md``, ``points.csv``,
  ``summary.csv`` and the figures.
"""
