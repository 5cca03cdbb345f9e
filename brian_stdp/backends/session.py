"""Simulation session: compile a network once, then run it chunk after chunk.

A chunk is a fixed number of presentation slots. :meth:`Session.run_chunk`
takes the stimulus of up to ``slots`` images, the network state left by the
previous chunk, the protocol controller's state and a seed, and returns the
spikes per slot and the new state. On ``cpp_standalone`` the program is
compiled once and re-run with new values (Brian2's ``run_args``,
:class:`StandaloneSession`, :class:`CudaStandaloneSession`); on ``runtime`` (for
debugging, :class:`RuntimeSession`) the network is rebuilt for every chunk. GeNN's
session (:mod:`brian_stdp.backends.brian2genn.session`) builds once per formulation
(plastic, frozen) and re-runs each build with new input files.

The random seed of a standalone program is compiled in, so every re-run
would repeat the same random numbers. The program built here instead reads
its seed from the environment variable ``BRIAN_STDP_SEED`` at start, and the
trainer gives every chunk its own seed.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import brian2
import numpy as np
from brian2 import Quantity, second
from brian2.units.fundamentalunits import DIMENSIONLESS

from brian_stdp.backends import build_cache, ctrl_c
from brian_stdp.backends.delay_order import to_canonical, to_stored
from brian_stdp.backends.devices import cpp_standalone, cuda_standalone, runtime
from brian_stdp.backends.network import (NetworkHandles, build_network, constant_initializers,
                                         initial_state)
from brian_stdp.backends.spike_queue import (EDIT_VERSION, STORE_RANGES_CODE, patch_spike_queue,
                                             record_compiled)
from brian_stdp.backends.threads import patch_network
from brian_stdp.errors import ConfigError
from brian_stdp.model.spec import ModelSpec

ctrl_c.keep_ignored()  # undo Brian2's import in a process that ignores Ctrl-C

SEED_VARIABLE = "BRIAN_STDP_SEED"

#: Brian2's files of ``run_args`` values in a build folder's ``static_arrays`` (one per
#: value, named by its hash), with their lock files.
RUN_ARG_FILES = ("init_*.dat", "init_*.dat.lock")


def remove_run_arg_files(project_dir) -> None:
    """Delete the files of ``run_args`` values in ``project_dir/static_arrays``.

    Brian2 writes a value's file only where no file of that name exists. A run killed while
    writing one leaves it cut short, and the next run with the same value would read it as
    it is (the program reports a short file and carries on with what it read): so the
    files go before each run, and after it, to keep the folder from growing.
    """
    static = Path(project_dir) / "static_arrays"
    for pattern in RUN_ARG_FILES:
        for path in static.glob(pattern):
            path.unlink(missing_ok=True)

_SEED_CODE = """
{{
    const char* _seed_text = getenv("{var}");
    if (_seed_text) {{
        const unsigned long _seed = strtoul(_seed_text, NULL, 10);
        for (int _i = 0; _i < {threads}; _i++)
            brian::_random_generators[_i].seed(_seed + _i);
    }}
}}
"""

# Denormal numbers (below 2.2e-308) are slow on x86: each operation on one takes a
# microcode path. Values decaying by a constant factor per step (a silent inhibitory
# neuron's ge, the STDP traces of a neuron that has not fired for 30 images) end on the
# smallest denormal, which the factor rounds back to itself, so they stay there and cost
# that every step. Flushing them to zero (FTZ, and DAZ for inputs) is what -ffast-math
# linking does; Brian2 compiles with -ffast-math but links without. Added to a number of
# normal size a denormal changes nothing, so the spikes stay the same
# (tests/backends/test_spike_queue.py compares a run with and without).
_FLUSH_DENORMALS_CODE = """
#if defined(__SSE__)
__builtin_ia32_ldmxcsr(__builtin_ia32_stmxcsr() | 0x8040);  // FTZ | DAZ
#elif defined(__aarch64__)
{
    unsigned long _fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(_fpcr));
    __asm__ volatile("msr fpcr, %0" : : "r"(_fpcr | (1UL << 24)));  // FZ
}
#endif
"""


@dataclass
class ControllerState:
    """State of the protocol controller between chunks.

    ``img`` is the row of the next chunk's stimulus shown last (-1: none yet),
    ``attempts`` how often it has been shown, ``count`` the output spikes of
    its last presentation. The first slot of a chunk decides from these.
    """

    img: int
    attempts: int
    count: int

    @classmethod
    def fresh(cls, min_spikes: int) -> "ControllerState":
        """Before any image: the first slot advances to row 0."""
        return cls(img=-1, attempts=0, count=min_spikes)


@dataclass
class ChunkResult:
    """What one chunk produced.

    Attributes
    ----------
    state : dict of str to ndarray
        Network state after the chunk, absolute times re-based so that the
        next chunk starts at t = 0.
    ctrl_img, ctrl_attempts, ctrl_count : int
        Controller state at the end (``img`` as a row of this chunk).
    slot_img : ndarray, shape (slots,), int
        Stimulus row shown in each slot (``>= n_avail`` once the chunk's images
        are used up).
    slot_attempts : ndarray, shape (slots,), int
        Presentation number (1 = first) of the image in each slot.
    spike_slot, spike_neuron : ndarray, shape (n_spikes,), int
        Slot and neuron of every output spike inside a presentation window,
        in time order; for a model whose output layer has ``extra_spikes``,
        those events are included (after the spikes of their time step).
    input_spikes : int
        Input spikes in the whole chunk.
    seconds : float
        Wall-clock time of the simulation, in seconds.
    slots_run : int
        Slots simulated: all of them, or fewer where a chunk with learning off ended at
        the first slot past its images (:attr:`Session.stops_early`; the slots left out
        appear in ``slot_img`` and ``slot_attempts`` as they would have run, and
        ``state`` is the state where the run ended).
    winner_slot, winner_neuron : ndarray, shape (n_winner_spikes,), int, or None
        Only for a model with ``extra_spikes``: slot and neuron of the real
        spikes (the winners), in time order. None: every output spike is one.
    """

    state: dict
    ctrl_img: int
    ctrl_attempts: int
    ctrl_count: int
    slot_img: np.ndarray
    slot_attempts: np.ndarray
    spike_slot: np.ndarray
    spike_neuron: np.ndarray
    input_spikes: int
    seconds: float
    slots_run: int
    winner_slot: np.ndarray | None = field(default=None)
    winner_neuron: np.ndarray | None = field(default=None)

    def handed_on(self) -> ControllerState:
        """The controller state of the next chunk, whose stimulus starts at this chunk's
        row ``ctrl_img``: the image in progress (if any) continues as its row 0."""
        return ControllerState(img=0, attempts=self.ctrl_attempts, count=self.ctrl_count)


def read_state(handles, state_in: dict, fixed: dict, duration: float) -> dict:
    """The network state after a chunk, with the keys and dtypes of ``state_in``.

    Build-time values (``fixed``) and entries of connections built without per-synapse
    records (``handles.uniform``) are passed through; absolute times are
    re-based by ``duration`` (second) so that the next chunk starts at t = 0.
    """
    state = {}
    for key, old in state_in.items():
        if key in fixed or key.split(".")[0] in handles.uniform:
            state[key] = old
            continue
        obj_name, var_name = key.split(".")
        obj = handles[obj_name]
        value = np.array(getattr(obj, var_name)[:], dtype=old.dtype).reshape(old.shape)
        order = handles.stored_order.get(obj_name)
        if order is not None and value.shape == order.shape:
            value = to_canonical(value, order)
        if is_absolute_time(obj.variables[var_name], var_name):
            value = value - duration
        state[key] = value
    return state


def _loop_can_stop() -> bool:
    """Whether this Brian2's standalone loop over time steps can be stopped from the code
    (``Network::_globally_stopped``, from Brian2 2.6 on; not 2.5, which brian2genn needs)."""
    from brian2 import prefs

    return "core.stop_on_keyboard_interrupt" in prefs


class Session:
    """A model compiled for one network size and chunk length: the interface of every
    backend.

    The trainer, classification and the benchmark use only what this class defines;
    :func:`brian_stdp.backends.devices.session_class` picks the subclass for a device
    name, and nothing else asks which device it is on.

    Parameters
    ----------
    spec : ModelSpec
    n_neurons, n_input : int
        Output-layer size and number of input pixels.
    slots : int
        Presentation slots per chunk.
    fixed : dict of str to ndarray
        Build-time values (delays): :func:`~brian_stdp.backends.network.draw_fixed`
        for a new network, or taken from a saved state.
    directory : path, optional
        Build folder (created) for devices that build a program.
    threads : int
        Threads of a time step on ``cpp_standalone`` (:mod:`~brian_stdp.backends.threads`;
        the same simulation as one thread); others ignore it.
    """

    #: The Brian2 device this class runs on (its name in the registry).
    device_name = ""
    #: An optional device (a GPU toolkit, GeNN): the benchmark records its failures and goes
    #: on with the other devices instead of stopping.
    optional = False

    #: Whether ``profile=True`` can time this device's code objects (:attr:`profile_seconds`).
    can_profile = False

    #: Whether programs are built as the chunks first need them (brian2genn: one per
    #: formulation, plastic and frozen): :meth:`compile` then does nothing, and
    #: ``compile_seconds`` and ``builds`` add up the builds as the chunks run.
    builds_lazily = False

    #: Whether label and test blocks may also run in worker processes, each with a session
    #: (and a build) of its own (:mod:`brian_stdp.training.parallel`).
    evaluation_workers = True

    #: Whether label and test (and classification) run the model with its weights held
    #: (:meth:`~brian_stdp.model.spec.ModelSpec.frozen`: the same spikes, without the
    #: work of learning), a build of its own (:meth:`evaluation_spec`).
    frozen_evaluation = False
    #: Plastic input synapses (neurons times inputs per neuron) from which the held model
    #: pays for its build, the work it saves being per synapse: those of Diehl & Cook's
    #: 1,600-neuron network. At 400 neurons ``make run`` took 75 s with it against 68 s
    #: without (label and test 3 s faster, the build 11 s); at 1,600 and 6,400 label and
    #: test ran 1.3-1.4 times as fast (runs/NOTES.md, "Label and test with the weights
    #: held").
    FROZEN_FROM_SYNAPSES = 1600 * 784

    #: Whether synapses with per-synapse delays are stored sorted by delay
    #: (:mod:`~brian_stdp.backends.delay_order`); the state keeps the canonical order.
    delay_sorted = False
    #: Whether the event code reads the spike queue in place
    #: (:func:`~brian_stdp.backends.network.pathway_codeobject_class`).
    peek_in_place = False
    #: Whether the input synapses' event code runs through runs of synapses that the spike
    #: queue holds (needs the two above and :attr:`group_delays`; :mod:`.spike_queue`).
    ranged_events = False
    #: Whether uniform all-to-all connections are built without per-synapse records
    #: (:mod:`~brian_stdp.backends.uniform_synapses`); their state entries are ignored.
    uniform_connections = False
    #: Whether ``threads`` above 1 split each time step over threads by blocks of neurons
    #: (:mod:`~brian_stdp.backends.threads`; needs :attr:`peek_in_place`).
    split_threads = False
    #: Whether a chunk with learning off ends at the start of the first slot past its images
    #: instead of simulating the empty slots (the last chunk of a label or test block, of
    #: a classification); the program is built for it, and the attribute at run time
    #: decides per chunk. The same records: empty slots show nothing.
    stops_early = False

    def __init__(self, spec: ModelSpec, n_neurons: int, n_input: int, slots: int, fixed: dict,
                 directory=None, threads: int = 1, profile: bool = False):
        self.spec, self.n_neurons, self.n_input, self.slots = spec, n_neurons, n_input, slots
        self.threads = threads
        if profile and not self.can_profile:
            raise ConfigError(f"--profile: {self.device_name} cannot time its code objects; "
                              f"use cpp_standalone")
        if profile and threads > 1 and self.split_threads:
            raise ConfigError(f"--profile times the code objects of one thread; use "
                              f"--threads 1, not {threads}")
        self.profile = profile
        #: With ``profile``: seconds spent in each code object (name), summed over chunks.
        self.profile_seconds = {}
        self.directory = Path(directory) if directory is not None else None
        self.compile_seconds = 0.0
        #: Programs this session built (generated and compiled).
        self.builds = 0
        self.duration = slots * spec.protocol.t_slot
        self.fixed = fixed
        try:
            self._select_device()
            self._handles = self._make_network()
        except BaseException:  # leave Brian2 as it was, for the next session
            self.close()
            raise

    def _select_device(self) -> None:
        """Make this class's device Brian2's current one (runtime: nothing to do)."""

    @classmethod
    def evaluation_spec(cls, spec: ModelSpec, n_neurons: int, n_input: int) -> ModelSpec:
        """The model that labels and tests a network of ``n_neurons`` trained as ``spec``
        on images of ``n_input`` pixels: its
        :meth:`~brian_stdp.model.spec.ModelSpec.for_evaluation`, with the weights held where
        :attr:`frozen_evaluation` and from :attr:`FROZEN_FROM_SYNAPSES` input synapses on
        (``n_neurons`` times
        :meth:`~brian_stdp.model.spec.ModelSpec.plastic_fan_in`, the inputs per neuron of
        the trained synapses, or times ``n_input`` where that is not known)."""
        evaluated = spec.for_evaluation()
        synapses = n_neurons * (spec.plastic_fan_in(n_input) or n_input)
        held = cls.frozen_evaluation and synapses >= cls.FROZEN_FROM_SYNAPSES
        return evaluated.frozen() if held else evaluated

    @staticmethod
    def adapt_spec(spec: ModelSpec) -> ModelSpec:
        """The model this session class runs for ``spec``: ``spec`` itself."""
        return spec

    # -- one network in one run (genn --generate, the single-run formulation) ----------
    #: Whether :func:`brian_stdp.backends.single_run.train_single_run` runs on this device.
    single_run = False

    @classmethod
    def open_single_run(cls, directory, compile: bool = True, run: bool = True) -> None:
        """Make this device current for one network built and run once (runtime: nothing).

        Parameters
        ----------
        directory : path or None
            Build folder (devices that build a program need one).
        compile, run : bool
            Whether the program is compiled and run (False, False: generate only).
        """

    @classmethod
    def finish_single_run(cls, directory, compile: bool = True, run: bool = True) -> None:
        """After ``Network.run``: build (and run) the program where that is a step of its own
        (runtime: nothing)."""

    @classmethod
    def close_single_run(cls) -> None:
        """Return Brian2 to the runtime device (runtime: nothing)."""

    def initial_state(self, rng: np.random.Generator) -> dict:
        """A fresh network state drawn with ``rng`` (see :func:`~.network.initial_state`)."""
        return initial_state(self.spec, self._handles, rng)

    def compile(self) -> None:
        """Build the program once, before the first chunk (runtime: nothing to build)."""

    def _make_network(self) -> NetworkHandles:
        brian2.defaultclock.dt = self.spec.protocol.dt
        handles = build_network(self.spec, self.n_neurons, self.n_input, self.slots, self.fixed,
                                delay_sorted=self.delay_sorted,
                                peek_in_place=self.peek_in_place,
                                ranged_events=self.ranged_events
                                and getattr(self, "group_delays", False),
                                uniform=self.uniform_connections,
                                threads=self.threads if self.split_threads else 1,
                                stop_early=self.stops_early and _loop_can_stop())
        constant_initializers(self.spec, handles)
        return handles

    @property
    def handles(self) -> NetworkHandles:
        """The network's named Brian2 objects."""
        return self._handles

    # -- running --------------------------------------------------------------------------
    def run_chunk(self, stimulus: np.ndarray, n_avail: int, state: dict,
                  ctrl: ControllerState, plastic: bool, seed: int) -> ChunkResult:
        """Simulate one chunk.

        Parameters
        ----------
        stimulus : ndarray, shape (slots, n_input)
            Encoded images, one row per image (rows past ``n_avail`` unused).
        n_avail : int
            Number of valid rows.
        state : dict of str to ndarray
            Network state (see :func:`brian_stdp.backends.network.initial_state`).
        ctrl : ControllerState
        plastic : bool
            Learning (STDP, threshold adaptation, normalisation) on or off.
        seed : int
            Seed of this chunk's random numbers (0 <= seed < 2**32).
        """
        if stimulus.shape != (self.slots, self.n_input):
            raise ValueError(f"stimulus has shape {stimulus.shape}, expected "
                             f"{(self.slots, self.n_input)}")
        return self._run(stimulus, n_avail, state, ctrl, plastic, seed)

    def _run(self, stimulus, n_avail, state, ctrl, plastic, seed) -> ChunkResult:
        """Simulate one chunk on this device (see :meth:`run_chunk`)."""
        raise NotImplementedError

    @staticmethod
    def _views(handles, values):
        """(variable view, value with units) pairs for ``"object.variable"`` keys."""
        pairs = []
        for key, value in values.items():
            obj_name, var_name = key.split(".")
            obj = handles[obj_name]
            order = handles.stored_order.get(obj_name)
            if order is not None and np.shape(value) == order.shape:
                value = to_stored(value, order)
            dim = obj.variables[var_name].dim
            pairs.append((getattr(obj, var_name), Quantity(value, dim=dim)
                          if dim is not DIMENSIONLESS else value))
        return pairs

    def _values(self, handles, n_avail, state, ctrl, plastic):
        """(variable view, value) pairs for every run-time input of a chunk."""
        carried = {key: value for key, value in state.items() if key not in self.fixed
                   and key.split(".")[0] not in handles.uniform}
        pairs = self._views(handles, carried)
        c = handles["ctrl"]
        pairs += [(c.img, np.array([ctrl.img])), (c.attempts, np.array([ctrl.attempts])),
                  (c.count, np.array([ctrl.count])), (c.n_avail, np.array([n_avail]))]
        if "stop_when_done" in c.variables:
            pairs.append((c.stop_when_done, np.array([int(self.stops_early and not plastic)])))
        for obj in handles.net.objects:
            variables = getattr(obj, "variables", {})
            if "plastic" in variables and variables["plastic"].owner.name == obj.name:
                pairs.append((obj.plastic, float(plastic)))
        return pairs

    def _collect(self, handles, state_in, seconds) -> ChunkResult:
        proto = self.spec.protocol
        ctrl = handles["ctrl"]
        slots = handles["slots"]
        slot_img = np.asarray(slots.img[0], dtype=np.int64)[:self.slots]
        slot_attempts = np.asarray(slots.attempts[0], dtype=np.int64)[:self.slots]
        slots_run = len(slot_img)
        duration = float(self.duration / second)
        skipped = self.slots - slots_run  # ended early: the first slot past the images ran
        if skipped:  # one step; the slots after it: the same image, one more attempt each
            duration = (slots_run - 1) * float(proto.t_slot / second) + float(proto.dt / second)
            slot_img = np.concatenate([slot_img, np.full(skipped, slot_img[-1])])
            slot_attempts = np.concatenate([slot_attempts,
                                            slot_attempts[-1] + np.arange(1, skipped + 1)])
        state = read_state(handles, state_in, self.fixed, duration)
        spikes = handles["exc_spikes"]
        steps = np.rint(np.asarray(spikes.t[:] / proto.dt)).astype(np.int64)
        slot, offset = np.divmod(steps, proto.steps_per_slot)
        window = offset < proto.steps_present
        spike_slot = slot[window]
        spike_neuron = np.asarray(spikes.i[:], dtype=np.int64)[window]
        winner_slot = winner_neuron = None
        if "exc_extra_spikes" in {obj.name for obj in handles.net.objects}:
            extra = handles["exc_extra_spikes"]
            extra_steps = np.rint(np.asarray(extra.t[:] / proto.dt)).astype(np.int64)
            extra_slot, extra_offset = np.divmod(extra_steps, proto.steps_per_slot)
            extra_window = extra_offset < proto.steps_present
            winner_slot, winner_neuron = spike_slot, spike_neuron
            all_steps = np.concatenate([steps[window], extra_steps[extra_window]])
            order = np.argsort(all_steps, kind="stable")
            spike_slot = np.concatenate([spike_slot, extra_slot[extra_window]])[order]
            spike_neuron = np.concatenate([
                spike_neuron, np.asarray(extra.i[:], dtype=np.int64)[extra_window]])[order]
        return ChunkResult(
            state=state, ctrl_img=int(ctrl.img[0]),
            ctrl_attempts=int(ctrl.attempts[0]) + skipped, ctrl_count=int(ctrl.count[0]),
            slot_img=slot_img, slot_attempts=slot_attempts,
            spike_slot=spike_slot, spike_neuron=spike_neuron,
            input_spikes=int(np.sum(handles["inp_spikes"].count[:])), seconds=seconds,
            slots_run=slots_run, winner_slot=winner_slot, winner_neuron=winner_neuron)

    def close(self):
        """Release the device, so that another session can be built (runtime: nothing)."""

    @property
    def build_template(self):
        """A compiled build folder that another session of the same network may start
        from as a copy, so that compiling there finds every object file up to date
        (path), or None: such a session builds from scratch."""
        return None

    def delete_build(self):
        """Remove the build folder (after :meth:`close`)."""
        if self.directory is not None and self.directory.exists():
            shutil.rmtree(self.directory)


class RuntimeSession(Session):
    """The runtime device (for debugging): the network is rebuilt and run for every chunk."""

    device_name = runtime.NAME
    single_run = True

    def _run(self, stimulus, n_avail, state, ctrl, plastic, seed) -> ChunkResult:
        if self._handles.net.t > 0 * second:  # run before: start from a fresh network
            self._handles = self._make_network()
        handles = self._handles
        handles.stim.values[:] = stimulus
        for view, value in self._values(handles, n_avail, state, ctrl, plastic):
            view[:] = value
        brian2.seed(seed)
        start = time.perf_counter()
        handles.net.run(self.duration, namespace=handles.namespace, report=None)
        return self._collect(handles, state, time.perf_counter() - start)


class StandaloneSession(Session):
    """``cpp_standalone``: compiled once, re-run per chunk with new values (``run_args``);
    each run reads its seed from ``BRIAN_STDP_SEED``."""

    device_name = cpp_standalone.NAME
    single_run = True
    can_profile = True
    #: Whether the program flushes denormal numbers to zero (see ``_FLUSH_DENORMALS_CODE``).
    flush_denormals = True
    #: Whether the spike queue pushes one delay group at a time (:mod:`.spike_queue`).
    group_delays = True
    delay_sorted = peek_in_place = ranged_events = uniform_connections = True
    split_threads = stops_early = True
    #: Whether GCC may vectorise loops over many arrays behind run-time overlap checks
    #: (:func:`.devices.cpp_standalone.vectorising_flags`).
    vectorise = True

    #: Whether a build starts from a cached build of the same network (:mod:`.build_cache`).
    use_build_cache = True
    frozen_evaluation = True

    @property
    def build_template(self):
        """The build folder: Brian2 rewrites no unchanged source file in a copy of it."""
        return str(self.directory)

    def _select_device(self):
        from brian2 import prefs, set_device

        self.directory.mkdir(parents=True, exist_ok=True)
        set_device(self.device_name, build_on_run=False, directory=str(self.directory))
        self._configure_device()
        prefs.devices.cpp_standalone.openmp_threads = 0  # threads: backends/threads.py
        if self.vectorise:
            brian2.device.extra_compile_args.extend(cpp_standalone.vectorising_flags())
        if self.split_threads and self.threads > 1:
            brian2.device.extra_compile_args.append("-fopenmp")
            brian2.device.extra_link_args.append("-fopenmp")
        prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
        if _loop_can_stop():  # brian2 >= 2.6 (not 2.5: genn)
            prefs.core.stop_on_keyboard_interrupt = False  # Ctrl-C ends the chunk, not a half

    def _configure_device(self):
        """Device settings after ``set_device`` (cpp_standalone: none)."""

    def _seed_code(self) -> str:
        """C++ inserted into ``main``: reseed the generators from ``BRIAN_STDP_SEED``."""
        return _SEED_CODE.format(var=SEED_VARIABLE, threads=1)  # one generator, one thread

    def compile(self) -> None:
        """Generate and compile the standalone program (once, before the first chunk)."""
        from brian2 import device

        start = time.perf_counter()
        handles = self._handles
        device.apply_run_args()
        device.insert_code("main", self._seed_code())
        if self.flush_denormals:
            device.insert_code("main", _FLUSH_DENORMALS_CODE)
        for pathway in handles.ranged_pathways:
            device.insert_code("main", STORE_RANGES_CODE.format(pathway=pathway,
                                                                blocks=handles.ranged_blocks))
        handles.net.run(self.duration, namespace=handles.namespace, report=None,
                        profile=self.profile)
        key = self._cache_key() if self.use_build_cache else None
        if key is not None:
            build_cache.seed(self.directory, key)
        split = self.split_threads and self.threads > 1
        if self.group_delays or split:
            from brian2.codegen.cpp_prefs import get_compiler_and_args

            device.build(run=False, directory=str(self.directory), compile=False)
            patched = self.group_delays and patch_spike_queue(self.directory)
            if self.group_delays and not patched and handles.ranged_pathways:
                raise RuntimeError(f"{self.directory}: this Brian2's spike queue cannot be "
                                   f"edited (brian_stdp/backends/spike_queue.py); build with "
                                   f"ranged_events = False")
            if split:
                patch_network(self.directory, self.threads)
            device.compile_source(str(self.directory), get_compiler_and_args()[0],
                                  debug=False, clean=False)
            if patched:
                record_compiled(self.directory)
        else:
            device.build(run=False, directory=str(self.directory), compile=True)
        if key is not None:
            build_cache.store(self.directory, key)
        self.compile_seconds = time.perf_counter() - start
        self.builds = 1

    def _cache_key(self) -> str:
        """This network's entry in the build cache (:func:`.build_cache.cache_key`)."""
        return build_cache.cache_key(self.device_name, self.spec, self.n_neurons, self.n_input,
                                     self.slots, self.threads, self.profile,
                                     group_delays=self.group_delays,
                                     flush_denormals=self.flush_denormals,
                                     delay_sorted=self.delay_sorted,
                                     peek_in_place=self.peek_in_place,
                                     ranged_events=self.ranged_events,
                                     uniform_connections=self.uniform_connections,
                                     stops_early=self.stops_early,
                                     vectorise=self.vectorise,
                                     spike_queue_edit=EDIT_VERSION if self.group_delays else None)

    def _run(self, stimulus, n_avail, state, ctrl, plastic, seed):
        from brian2 import device, prefs

        handles = self._handles
        run_args = dict(self._values(handles, n_avail, state, ctrl, plastic))
        run_args[handles.stim] = stimulus
        env = dict(prefs.devices.cpp_standalone.run_environment_variables)
        env[SEED_VARIABLE] = str(int(seed))
        prefs.devices.cpp_standalone.run_environment_variables = env
        remove_run_arg_files(device.project_dir)  # any left by a killed run
        start = time.perf_counter()
        device.run(run_args=run_args, with_output=False)
        seconds = time.perf_counter() - start
        remove_run_arg_files(device.project_dir)
        for name in ("img", "attempts"):  # read as many records as this run made (one per
            variable = handles["slots"].variables[name]  # slot it ran): Brian2 reshapes
            variable.size = (0, variable.size[1])  # the file by its last size unless it is 0
        if self.profile:
            self._add_profile(Path(device.project_dir) / "results" / "profiling_info.txt")
        return self._collect(handles, state, seconds)

    def _add_profile(self, path: Path) -> None:
        """Add one run's times per code object (Brian2's ``profiling_info.txt``: a name and
        seconds per line) to :attr:`profile_seconds`."""
        for line in path.read_text().splitlines():
            name, seconds = line.split()
            self.profile_seconds[name] = self.profile_seconds.get(name, 0.0) + float(seconds)

    def close(self):
        """Forget the standalone device, so that another session can be built."""
        self.close_single_run()

    @classmethod
    def open_single_run(cls, directory, compile=True, run=True):
        if directory is None:
            raise ConfigError(f"--device {cls.device_name} needs a build folder")
        brian2.set_device(cls.device_name, build_on_run=False, directory=str(directory))

    @classmethod
    def finish_single_run(cls, directory, compile=True, run=True):
        brian2.device.build(directory=str(directory), compile=compile, run=run)

    @classmethod
    def close_single_run(cls):
        forget_device()


class CudaStandaloneSession(StandaloneSession):
    """``cuda_standalone`` (brian2cuda): as cpp_standalone, on an NVIDIA GPU (see
    :func:`brian_stdp.backends.devices.cuda_standalone.configure_cuda`); cuRAND reseeded
    per run."""

    device_name = cuda_standalone.NAME
    optional = True
    single_run = False
    flush_denormals = False  # host code goes through nvcc; the GPU has flags of its own
    group_delays = False  # brian2cuda has a spike queue of its own
    # not measured on brian2cuda
    delay_sorted = peek_in_place = ranged_events = uniform_connections = False
    split_threads = False  # brian2cuda: the GPU runs the code
    stops_early = False  # stop_run has no CUDA implementation
    vectorise = False  # host code goes through nvcc
    use_build_cache = False  # not measured with nvcc's builds
    can_profile = False

    def _select_device(self):
        import brian2cuda  # noqa: F401  (registers the device)

        super()._select_device()

    def _configure_device(self):
        cuda_standalone.configure_cuda(self.directory)

    def _seed_code(self) -> str:
        return cuda_standalone.CUDA_SEED_CODE.format(var=SEED_VARIABLE)


def forget_device() -> None:
    """Drop the current standalone device's project and return Brian2 to the runtime
    device, so that another network can be built."""
    brian2.device.reinit()
    brian2.device.activate()
    brian2.set_device(runtime.NAME)


def is_absolute_time(var, name) -> bool:
    """Whether a state variable holds an absolute time (re-based between chunks)."""
    return var.dim == second.dim and name != "delay" and not var.constant
