"""Training, labelling, testing and classifying, and the run directories they write.

- :mod:`~brian_stdp.training.config`: :class:`RunConfig`, the settings of one run.
- :mod:`~brian_stdp.training.selection`: the phases of a run and the images each shows.
- :mod:`~brian_stdp.training.chunks`: the chunk loop that streams images through a session.
- :mod:`~brian_stdp.training.trainer`: train, label and test, resumably.
- :mod:`~brian_stdp.training.scoring`: a run's scores, state.npz and metrics.json from its records.
- :mod:`~brian_stdp.training.checkpoint`: where a run stands, saved after every chunk.
- :mod:`~brian_stdp.training.continuation`: train a finished run's network further (``--init-from``).
- :mod:`~brian_stdp.training.evaluation`: labels, votes and scores, as plain NumPy functions.
- :mod:`~brian_stdp.training.rundir`: run-directory layout, atomic writes, provenance.
- :mod:`~brian_stdp.training.classify`: classify images with a finished run.
- :mod:`~brian_stdp.training.compact`: a finished run in compact, shippable form.
"""
