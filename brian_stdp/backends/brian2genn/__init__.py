"""GeNN through brian2genn: the model check, the patched device, the built program and the
session that builds once per formulation (plastic, frozen) and re-runs it per chunk.

- :mod:`~brian_stdp.backends.brian2genn.check`: what a model file must change for GeNN (one
  function per kind of rule), and whether a generated project is complete. The network
  GeNN runs is :mod:`brian_stdp.backends.single_run`.
- :mod:`~brian_stdp.backends.brian2genn.device`: brian2genn's device, fixed for this runner.
- :mod:`~brian_stdp.backends.brian2genn.program`: a built program re-run with new values
  (its input files and build key).
- :mod:`~brian_stdp.backends.brian2genn.session`: :class:`GennSession`.
"""
