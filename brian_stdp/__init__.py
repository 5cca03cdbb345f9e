"""brian_stdp: unsupervised STDP-trained spiking networks on images, built on Brian2.

The layers, bottom up (:data:`LAYERS`); a module imports only from its own layer and the
layers below it (``tests/test_layers.py`` reads every import and checks it):

- :mod:`brian_stdp.data`: datasets, image files, input encoding.
- :mod:`brian_stdp.model`: model files (the equations, the STDP rule, the protocol) as data.
- :mod:`brian_stdp.backends`: the Brian2 network of a model and the session per device.
- :mod:`brian_stdp.plots`: every figure, in one style (runs, grids, the comparison), drawn
  from plain arrays and dicts.
- :mod:`brian_stdp.training`: train, label, test, classify; run directories.
- :mod:`brian_stdp.ann`: the Keras baseline.
- :mod:`brian_stdp.experiments`: grids, SNN-ANN comparison, benchmarks, readouts.

Beneath them all, :mod:`brian_stdp.errors` (the error classes) and :mod:`brian_stdp.cli`
(declared settings, the one error line and exit codes) serve every layer. Above them, the
command lines are the top-level modules ``run``, ``predict``, ``sweep``, ``compare``,
``bench``, ``readout``, ``pretrained``, ``genn`` and the package ``ann``
(``python -m brian_stdp.<name>``): they parse flags and call the layers; no layer imports
a command.
"""

__version__ = "0.1.0"

#: The subpackages, bottom up: each may import from itself and those before it.
LAYERS = ("data", "model", "backends", "plots", "training", "ann", "experiments")

#: Modules beneath every layer, importable from anywhere.
FOUNDATION = ("errors", "cli")
