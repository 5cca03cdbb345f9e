"""GeNN (brian2genn) behind the interface of :class:`brian_stdp.backends.session.Session`.

brian2genn allows one ``run()`` per build, so :class:`GennSession` builds each
formulation once and re-runs the built program with new values
(:mod:`brian_stdp.backends.brian2genn.program`): the single-run network of
:mod:`brian_stdp.backends.single_run` for ``slots`` presentation slots, with
``plastic`` compiled in, is built the first time a chunk of that kind runs (at
most two builds per run: the plastic network for training, the frozen one for
labelling and testing, in ``plastic/`` and ``frozen/`` of the build folder). Every
chunk then writes its stimulus (always ``slots`` rows), network state and
controller state into the build's input files, runs the program with its seed
and reads the spikes and the final state back as a
:class:`~brian_stdp.backends.session.ChunkResult`. The trainer carries the state
from chunk to chunk and checkpoints between them, as for the other devices; a
resumed run reuses a build still in its build folder.

Differences from the chunked standalone program (all within the protocol):

* Input spikes are drawn per time step (``rand() < rate*dt``, the Bernoulli
  process of Brian2's PoissonGroup) instead of as geometric waiting times;
  GeNN draws them with its own generator, seeded per chunk (``srand`` from
  ``BRIAN_STDP_SEED``, see :mod:`brian_stdp.backends.brian2genn.device`).
* Every synapse group has one delay (the GeNN variant's ``delay_input``).
* The frozen network leaves the weight normalisation out (it scales by 1
  when nothing learns).

Build output (code generation, GeNN, make) and the program's goes to
``build.log`` in the build folder, not to the terminal. ``compile_seconds``
adds up the builds of this session; a chunk's ``seconds`` is GeNN's simulation
loop alone.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import shutil
from contextlib import contextmanager

import brian2
import numpy as np
from brian2 import second

from brian_stdp.backends.devices import genn as genn_device
from brian_stdp.backends.network import NetworkHandles
from brian_stdp.backends.session import (ChunkResult, ControllerState, Session, forget_device,
                                         is_absolute_time)
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
    """One model and chunk length on GeNN: one build per formulation (plastic, frozen),
    re-run for every chunk.

    Parameters are those of :class:`brian_stdp.backends.session.Session`; ``threads``
    is ignored (GeNN's CPU backend runs on one thread).
    """

    device_name = genn_device.NAME
    optional = True
    single_run = True
    builds_lazily = True
    evaluation_workers = False

    def _select_device(self):
        """Check that GeNN and the model can run; the device itself is set per build."""
        from brian_stdp.backends.brian2genn.check import check_genn_compatible

        problem = genn_device.genn_problem()
        if problem:
            raise DeviceError(problem)
        if self.directory is None:
            raise ConfigError(f"--device {self.device_name} needs a build folder")
        check_genn_compatible(self.spec)
        self.genn_path = genn_device.genn_path()
        self.use_gpu = use_gpu()
        self._programs = {}
        # What runs in this process on the runtime device (the network's sizes, indices
        # and initial state; never simulated) is numpy code: nothing is worth compiling,
        # and Brian2 does not try Cython, whose version here (3.x) Brian2 2.5 cannot use
        # (it warned "Cannot use Cython, a test compilation failed").
        brian2.prefs.codegen.target = "numpy"
        log.info("GeNN %s backend (GeNN in %s)", "GPU" if self.use_gpu else "CPU",
                 self.genn_path)

    def _make_network(self) -> NetworkHandles:
        """The network on the runtime device, for sizes, indices and the initial state."""
        return self._build(np.zeros((self.slots, self.n_input)), True)

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

    def _build(self, stimulus, plastic) -> NetworkHandles:
        from brian_stdp.backends.single_run import build_single_run

        brian2.defaultclock.dt = self.spec.protocol.dt
        return build_single_run(self.spec, self.n_neurons, stimulus, self.slots,
                                plastic=plastic)

    def initial_state(self, rng: np.random.Generator) -> dict:
        """A fresh network state drawn with ``rng`` (see :func:`~.network.initial_state`)."""
        from brian_stdp.backends.network import initial_state

        state = initial_state(self.spec, self._handles, rng)
        state.update({key: value.copy() for key, value in self.fixed.items()})
        return state

    def compile(self) -> None:
        """Nothing yet: each formulation is built when its first chunk runs."""

    # -- building -------------------------------------------------------------------------
    def _build_key(self, plastic: bool) -> str:
        """Everything a build depends on (:func:`.build_cache.cache_key`)."""
        from brian_stdp.backends import build_cache
        from brian_stdp.backends.brian2genn import program

        return build_cache.cache_key(self.device_name, self.spec, self.n_neurons,
                                     self.n_input, self.slots, 1, False, plastic=plastic,
                                     gpu=self.use_gpu, genn=str(self.genn_path),
                                     format=program.FORMAT)

    def _program(self, plastic: bool):
        """The built program of the plastic or frozen network: this session's, one left in
        the build folder by an earlier process for the same network, or a new build."""
        from brian_stdp.backends.brian2genn import program

        if plastic in self._programs:
            return self._programs[plastic]
        kind = "plastic" if plastic else "frozen"
        folder = self.directory / kind
        key = self._build_key(plastic)
        built = program.load(folder, key)
        if built is not None:
            log.info("GeNN: reusing the %s network's build in %s (built in %.1f s before)",
                     kind, folder, built.build_seconds)
        else:
            built = self._build_program(plastic, folder, key)
            self.compile_seconds += built.build_seconds
            self.builds += 1
            log.info("GeNN build %d (%s network): generated and compiled in %.1f s",
                     self.builds, kind, built.build_seconds)
        self._programs[plastic] = built
        return built

    def _build_program(self, plastic, folder, key):
        """Generate and compile the network on GeNN (not run), every input set from an
        array so that it is read from a file; describe the build."""
        from brian_stdp.backends.brian2genn import program
        from brian_stdp.backends.brian2genn.device import register
        from brian_stdp.backends.single_run import set_state

        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        device_name = register()
        if self.genn_path is not None:
            brian2.prefs.devices.genn.path = str(self.genn_path)
        brian2.set_device(device_name, directory=str(folder), use_GPU=self.use_gpu,
                          with_output=False, compile=True, run=False)
        try:
            start = time.perf_counter()
            handles = self._build(np.zeros((self.slots, self.n_input)), plastic)
            carried = [f"{obj}.{var}" for obj, var in handles.state_vars]
            state = self.initial_state(np.random.default_rng(0))
            set_state(self.spec, handles, {key: state[key] for key in carried},
                      arrays=True)
            inp = handles["inp"]
            for name in CONTROLLER_INPUTS:
                setattr(inp, name, np.zeros(self.n_input, dtype=np.int64))
            with _output_to(self.directory / "build.log"):
                try:
                    handles.net.run(self.duration, namespace=handles.namespace, report=None)
                except Exception as err:
                    raise SimulationError(f"GeNN failed to build the {folder.name} network: "
                                          f"{err}. See {self.directory / 'build.log'}") from err
            seconds = time.perf_counter() - start
            device = brian2.get_device()
            inputs = {key: handles[key.split(".")[0]].variables[key.split(".")[1]]
                      for key in carried}
            inputs.update({f"inp.{name}": inp.variables[name] for name in CONTROLLER_INPUTS})
            inputs["stim"] = f"{handles.stim.name}_values"
            outputs = dict(inputs)
            del outputs["stim"]
            for monitor, names in (("exc_spikes", ("i", "t")), ("slots", ("img", "attempts")),
                                   ("inp_spikes", ("count",))):
                for name in names:
                    outputs[f"{monitor}.{name}"] = handles[monitor].variables[name]
            built = program.describe(device, folder, key, float(self.duration / second),
                                     inputs, outputs, seconds)
            built.save()
            return built
        finally:
            forget_device()

    # -- running --------------------------------------------------------------------------
    def _run(self, stimulus, n_avail, state, ctrl, plastic, seed) -> ChunkResult:
        """Run one chunk on the built program of its formulation."""
        built = self._program(plastic)
        if ctrl is None:
            ctrl = ControllerState.fresh(self.spec.protocol.min_spikes)
        values = {key: value for key, value in state.items() if key not in self.fixed}
        values.update({"inp.img": ctrl.img, "inp.attempts": ctrl.attempts,
                       "inp.count": ctrl.count, "inp.n_avail": n_avail,
                       "stim": np.asarray(stimulus, dtype=float)})
        outputs, seconds = built.run(values, seed, self.directory / "build.log")
        return self._collect(outputs, state, seconds)

    def _collect(self, outputs, state_in, seconds) -> ChunkResult:
        proto = self.spec.protocol
        duration = float(self.duration / second)
        state = {}
        for key, old in state_in.items():
            if key in self.fixed:
                state[key] = old
                continue
            obj_name, var_name = key.split(".")
            value = outputs[key].astype(old.dtype)
            if is_absolute_time(self._handles[obj_name].variables[var_name], var_name):
                value = value - duration
            state[key] = value
        steps = np.rint(outputs["exc_spikes.t"] / float(proto.dt / second)).astype(np.int64)
        slot, offset = np.divmod(steps, proto.steps_per_slot)
        window = offset < proto.steps_present
        return ChunkResult(
            state=state, ctrl_img=int(outputs["inp.img"][0]),
            ctrl_attempts=int(outputs["inp.attempts"][0]),
            ctrl_count=int(outputs["inp.count"][0]),
            slot_img=outputs["slots.img"].astype(np.int64)[:self.slots],
            slot_attempts=outputs["slots.attempts"].astype(np.int64)[:self.slots],
            spike_slot=slot[window],
            spike_neuron=outputs["exc_spikes.i"].astype(np.int64)[window],
            input_spikes=int(np.sum(outputs["inp_spikes.count"])), seconds=seconds,
            slots_run=self.slots)

    def close(self):
        """Nothing to release: each build was forgotten by Brian2 once described."""

    @property
    def build_template(self):
        """None: evaluation runs in this process only (:attr:`evaluation_workers`)."""
        return None

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


#: The input layer's copies of the controller state, set per chunk (equal in every neuron).
CONTROLLER_INPUTS = ("img", "attempts", "count", "n_avail")


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
