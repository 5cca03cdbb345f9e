"""Training, labelling, testing and classifying, and the run directories they write.

- :mod:`~brian_stdp.training.config`: :class:`RunConfig`, the settings of one run.
- :mod:`~brian_stdp.training.trainer`: train, label and test chunk by chunk, resumably.
- :mod:`~brian_stdp.training.evaluation`: labels, votes and scores, as plain NumPy functions.
- :mod:`~brian_stdp.training.rundir`: run-directory layout, atomic writes, provenance.
- :mod:`~brian_stdp.training.classify`: classify images with a finished run.
- :mod:`~brian_stdp.training.pretrained`: a finished run in compact, shippable form.
"""
