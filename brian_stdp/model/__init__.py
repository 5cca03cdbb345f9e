"""Model files: where they are, what they hold, and the integration method they may name.

- :mod:`~brian_stdp.model.files`: shipped models by name, paths, the ``extends`` chain.
- :mod:`~brian_stdp.model.spec`: load and validate a model file into a :class:`ModelSpec`.
- :mod:`~brian_stdp.model.integration`: the ``semi_implicit`` integration method.
- :mod:`~brian_stdp.model.wiring`: how a synapse group connects (all-to-all, patch
  layouts, conditions) and the pairs it makes.
"""
