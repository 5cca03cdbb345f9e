"""GeNN through brian2genn: the model check, the patched device, and the session that builds
one program per chunk.

- :mod:`~brian_stdp.backends.brian2genn.check`: what a model file must change for GeNN (one
  function per kind of rule), and whether a generated project is complete. The network
  GeNN runs is :mod:`brian_stdp.backends.single_run`.
- :mod:`~brian_stdp.backends.brian2genn.device`: brian2genn's device, fixed for this runner.
- :mod:`~brian_stdp.backends.brian2genn.session`: :class:`GennSession`.
"""
