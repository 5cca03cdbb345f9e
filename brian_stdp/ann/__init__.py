"""The Keras dense-network baseline (``python -m brian_stdp.ann``).

- :mod:`~brian_stdp.ann.baseline`: configuration, data, model, training, figures.
- :mod:`~brian_stdp.ann.cli`: the command line.
"""
