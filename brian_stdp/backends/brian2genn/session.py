"""GeNN (brian2genn) behind the interface of :class:`brian_stdp.backends.session.Session`.

brian2genn allows one ``run()`` per build, so every chunk is a build of its
own: :meth:`GennSession.run_chunk` builds the single-run network of
:mod:`brian_stdp.backends.single_run` for the chunk's images, with the network state and the
controller state of the previous chunk as its initial values and
``plastic`` compiled in, lets GeNN generate, compile and run it, and reads
the spikes and the final state back as a :class:`~brian_stdp.backends.session.ChunkResult`.
The trainer carries the state from chunk to chunk and checkpoints between
them, as for the other devices, so a run resumes at any chunk (= build)
boundary.

Differences from the chunked standalone program (all within the protocol):

* Input spikes are drawn per time step (``rand() < rate*dt``, the Bernoulli
  process of Brian2's PoissonGroup) instead of as geometric waiting times;
  GeNN draws them with its own generator, seeded per chunk (``srand`` from
  ``BRIAN_STDP_SEED``, see :mod:`brian_stdp.backends.brian2genn.device`).
* Every synapse group has one delay (the GeNN variant's ``delay_input``).
* Label and test builds leave the weight normalisation out (it scales by 1
  when nothing learns).

Build output (code generation, GeNN, make) goes to ``build.log`` in the
build folder, not to the terminal. ``compile_seconds`` adds up the build
time of all chunks; a chunk's ``seconds`` is GeNN's simulation loop alone.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from contextlib import contextmanager

import brian2
import numpy as np
from brian2 import second

from brian_stdp.backends.devices import genn as genn_device
from brian_stdp.backends.network import NetworkHandles
from brian_stdp.backends.session import (SEED_VARIABLE, ChunkResult, Session, forget_device,
                                         read_state)
from brian_stdp.errors import ConfigError, DeviceError, SimulationError
from brian_stdp.model.spec import ModelSpec

log = logging.getLogger("brian_stdp")

#: Environment variable that forces GeNN's backend: ``cpu`` or ``gpu`` (default: GPU if
#: nvidia-smi lists one).
BACKEND_VARIABLE = "BRIAN_STDP_GENN_BACKEND"


def use_gpu(environ=os.environ, gpus: int | None = None) -> bool:
    """Whether GeNN builds for the GPU: ``BRIAN_STDP_GENN_BACKEND`` (cpu/gpu), else
    whether a GPU is visible.

    Raises
    ------
    DeviceError
        For another value of ``BRIAN_STDP_GENN_BACKEND``.
    """
    choice = environ.get(BACKEND_VARIABLE, "").strip().lower()
    if choice in ("", "auto"):
        if gpus is None:
            from brian_stdp.backends.devices import machine

            gpus = machine.visible_gpus()
        return gpus > 0
    if choice in ("cpu", "gpu"):
        return choice == "gpu"
    raise DeviceError(f"environment variable {BACKEND_VARIABLE}={choice!r}: use cpu, gpu or "
                      f"auto")


class GennSession(Session):
    """One model and chunk length on GeNN; one build per chunk.

    Parameters are those of :class:`brian_stdp.backends.session.Session`; ``threads``
    is ignored (GeNN's CPU backend runs on one thread).
    """

    device_name = genn_device.NAME
    optional = True
    single_run = True
    builds_per_chunk = True

    def _select_device(self):
        """Check that GeNN and the model can run; the device itself is set per chunk."""
        from brian_stdp.backends.brian2genn.check import check_genn_compatible

        problem = genn_device.genn_problem()
        if problem:
            raise DeviceError(problem)
        if self.directory is None:
            raise ConfigError(f"--device {self.device_name} needs a build folder")
        check_genn_compatible(self.spec)
        self.genn_path = genn_device.genn_path()
        self.use_gpu = use_gpu()
        self.builds = 0
        # What runs in this process on the runtime device (the network's sizes, indices
        # and initial state; never simulated) is numpy code: nothing is worth compiling,
        # and Brian2 does not try Cython, whose version here (3.x) Brian2 2.5 cannot use
        # (it warned "Cannot use Cython, a test compilation failed").
        brian2.prefs.codegen.target = "numpy"
        log.info("GeNN %s backend (GeNN in %s)", "GPU" if self.use_gpu else "CPU",
                 self.genn_path)

    def _make_network(self) -> NetworkHandles:
        """The network on the runtime device, for sizes, indices and the initial state."""
        return self._build(np.zeros((self.slots, self.n_input)), self.slots, None, True)

    @staticmethod
    def adapt_spec(spec: ModelSpec) -> ModelSpec:
        """The model GeNN runs for ``spec``: itself, or for Diehl & Cook its GeNN variant
        (logged); raises ModelFileError listing what any other model must change."""
        from brian_stdp.backends.brian2genn.check import genn_spec

        adapted = genn_spec(spec)
        if adapted is not spec:
            log.info("--device genn: running %s, the GeNN variant of %s (see its "
                     "'deviations')", adapted.name, spec.name)
        return adapted

    def _build(self, stimulus, n_avail, ctrl, plastic) -> NetworkHandles:
        from brian_stdp.backends.single_run import build_single_run

        brian2.defaultclock.dt = self.spec.protocol.dt
        return build_single_run(self.spec, self.n_neurons, stimulus, self.slots,
                                plastic=plastic, n_avail=n_avail, ctrl=ctrl)

    def initial_state(self, rng: np.random.Generator) -> dict:
        """A fresh network state drawn with ``rng`` (see :func:`~.network.initial_state`)."""
        from brian_stdp.backends.network import initial_state

        state = initial_state(self.spec, self._handles, rng)
        state.update({key: value.copy() for key, value in self.fixed.items()})
        return state

    def compile(self) -> None:
        """Nothing: every chunk is compiled when it runs (brian2genn builds in ``run()``)."""

    # -- running --------------------------------------------------------------------------
    def _run(self, stimulus, n_avail, state, ctrl, plastic, seed) -> ChunkResult:
        """Build, compile and run one chunk on GeNN."""
        from brian_stdp.backends.brian2genn.device import register
        from brian_stdp.backends.single_run import set_state

        self.directory.mkdir(parents=True, exist_ok=True)
        device_name = register()
        if self.genn_path is not None:
            brian2.prefs.devices.genn.path = str(self.genn_path)
        brian2.set_device(device_name, directory=str(self.directory), use_GPU=self.use_gpu,
                          with_output=False)
        try:
            handles = self._build(stimulus, n_avail, ctrl, plastic)
            set_state(self.spec, handles,
                      {k: v for k, v in state.items() if k not in self.fixed})
            start = time.perf_counter()
            with _output_to(self.directory / "build.log"), _environment(SEED_VARIABLE,
                                                                       str(int(seed))):
                try:
                    handles.net.run(self.duration, namespace=handles.namespace, report=None)
                except Exception as err:
                    raise SimulationError(f"GeNN failed to build or run a chunk: {err}. See "
                                          f"{self.directory / 'build.log'}") from err
            wall = time.perf_counter() - start
            simulation = float(brian2.get_device()._last_run_time)
            build = max(wall - simulation, 0.0)
            self.compile_seconds += build
            self.builds += 1
            log.info("GeNN build %d: generated and compiled in %.1f s, ran %d slots in %.1f s",
                     self.builds, build, self.slots, simulation)
            return self._collect(handles, state, simulation)
        finally:
            forget_device()

    def _collect(self, handles, state_in, seconds) -> ChunkResult:
        proto = self.spec.protocol
        duration = float(self.duration / second)
        state = read_state(handles, state_in, self.fixed, duration)
        inp, slots, spikes = handles["inp"], handles["slots"], handles["exc_spikes"]
        steps = np.rint(np.asarray(spikes.t[:] / proto.dt)).astype(np.int64)
        slot, offset = np.divmod(steps, proto.steps_per_slot)
        window = offset < proto.steps_present
        return ChunkResult(
            state=state, ctrl_img=int(inp.img[0]), ctrl_attempts=int(inp.attempts[0]),
            ctrl_count=int(inp.count[0]),
            slot_img=np.asarray(slots.img[0], dtype=np.int64)[:self.slots],
            slot_attempts=np.asarray(slots.attempts[0], dtype=np.int64)[:self.slots],
            spike_slot=slot[window],
            spike_neuron=np.asarray(spikes.i[:], dtype=np.int64)[window],
            input_spikes=int(np.sum(handles["inp_spikes"].count[:])), seconds=seconds)

    def close(self):
        """Nothing to release: every chunk's build is forgotten after it ran."""

    @classmethod
    def open_single_run(cls, directory, compile=True, run=True):
        """brian2genn's own device (unpatched), which builds inside ``Network.run``."""
        if directory is None:
            raise ConfigError(f"--device {cls.device_name} needs a build folder")
        import brian2genn  # noqa: F401  (registers the device)

        brian2.set_device(cls.device_name, directory=str(directory), compile=compile, run=run)

    @classmethod
    def close_single_run(cls):
        forget_device()


@contextmanager
def _environment(name, value):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


@contextmanager
def _output_to(path):
    """Send this process's stdout (and that of the programs it starts) to ``path``."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(path, "ab") as log_file:
        os.dup2(log_file.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
