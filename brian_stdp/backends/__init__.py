"""Simulation backends: the Brian2 network of a model file and the sessions that run it.

- :mod:`~brian_stdp.backends.devices`: one module per device, registering its name, session
  class, availability check and install steps (the one place that tells devices apart).
- :mod:`~brian_stdp.backends.network`: the Brian2 objects of a model (one builder for the
  chunked and the single-run formulation).
- :mod:`~brian_stdp.backends.protocol`: the presentation protocol (re-presentation rule) and
  the input layer of each formulation.
- :mod:`~brian_stdp.backends.session`: the :class:`Session` interface; compile once, run
  chunk after chunk (runtime, cpp_standalone, cuda_standalone).
- :mod:`~brian_stdp.backends.single_run`: a whole training run as one ``Network.run``
  (what GeNN builds; also runs on runtime and cpp_standalone).
- :mod:`~brian_stdp.backends.brian2genn`: brian2genn, one build per formulation, re-run per chunk.
- :mod:`~brian_stdp.backends.spike_queue`, :mod:`~brian_stdp.backends.delay_order`,
  :mod:`~brian_stdp.backends.uniform_synapses`: exact changes to the compiled program that
  make cpp_standalone faster (delay groups, synapses sorted by delay, inhibition without
  per-synapse records).
- :mod:`~brian_stdp.backends.threads`, :mod:`~brian_stdp.backends.step_order`: one time
  step of a ``cpp_standalone`` program split over threads by blocks of neurons, and the
  plan of its code objects (which serial ones run beside the split code).
"""
