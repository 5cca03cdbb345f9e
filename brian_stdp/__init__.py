"""brian_stdp: unsupervised STDP-trained spiking networks on images, built on Brian2.

The layers, bottom up:

- :mod:`brian_stdp.model`: model files (the equations, the STDP rule, the protocol) as data.
- :mod:`brian_stdp.data`: datasets, image files, input encoding.
- :mod:`brian_stdp.backends`: the Brian2 network of a model and the session per device.
- :mod:`brian_stdp.training`: train, label, test, classify; run directories.
- :mod:`brian_stdp.experiments`: grids, SNN-ANN comparison, benchmarks.
- :mod:`brian_stdp.ann`: the Keras baseline.
- :mod:`brian_stdp.plots`: every figure, in one style (runs, grids, the comparison).

The command lines are the top-level modules ``run``, ``predict``, ``sweep``, ``compare``,
``bench``, ``pretrained``, ``genn`` and the package ``ann`` (``python -m brian_stdp.<name>``);
:mod:`brian_stdp.cli` and :mod:`brian_stdp.errors` serve them all.
"""

__version__ = "0.1.0"
