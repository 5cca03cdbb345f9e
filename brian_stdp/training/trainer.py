"""Training, labelling and testing an STDP network, chunk by chunk, resumably.

A run is a list of phases (:mod:`brian_stdp.training.selection`): ``train``
(plastic) for every epoch, then ``label`` (plasticity off, threshold frozen, spike
counts per neuron and class on training images) and ``test``. A training phase streams
its images through the compiled network (:func:`brian_stdp.training.chunks.stream`) in
chunks of ``chunk`` presentation slots, carrying the state from chunk to chunk. A label
or test phase cuts its images into blocks of ``chunk`` images that all start from the
state the phase starts with (:func:`brian_stdp.training.chunks.run_block`) and leave it
unchanged; the blocks are shared between this process and ``workers - 1`` worker
processes (:mod:`brian_stdp.training.parallel`), with the same result for any number of
workers. After every chunk (training) or block (label, test) the network state, the
controller state and everything recorded so far are written atomically to
``checkpoint.npz`` (:mod:`brian_stdp.training.checkpoint`); :func:`resume` continues
from there and ends with the same result as an uninterrupted run (every chunk draws its
random numbers from its own seed, derived from the run's seed and the chunk's place in
the run). What the records then score (labels, test results, ``state.npz``,
``metrics.json``) is :mod:`brian_stdp.training.scoring`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import time
from pathlib import Path

import numpy as np

from brian_stdp.backends.build_cache import EVALUATION_BUILD
from brian_stdp.backends.network import check_model, draw_fixed, fixed_keys
from brian_stdp.backends.devices import session_class
from brian_stdp.backends.session import ControllerState
from brian_stdp.errors import ConfigError
from brian_stdp.model.spec import load_model, statements
from brian_stdp.training import continuation, rundir, scoring
from brian_stdp.training.checkpoint import Progress, load_checkpoint, save_checkpoint
from brian_stdp.training.chunks import blocks, chunk_seed, stream
from brian_stdp.training.config import (RunConfig, available_cores, read_run_config,
                                       resolve_threads)
from brian_stdp.training.parallel import BlockPool, SessionRecipe, evaluate_blocks
from brian_stdp.training.selection import Phase, draw_indices, phases, select_images

log = logging.getLogger("brian_stdp")


def _log_phase_end(phase, n: int, n_here: int, started: float) -> None:
    """Log the end of a phase of ``n`` images, ``n_here`` of which this process ran in
    the wall-clock seconds since ``started`` (``time.perf_counter()``; fewer than ``n``
    after a resume)."""
    seconds = time.perf_counter() - started
    if n_here == n:
        log.info("%s: %d images in %.1f s", phase.name, n, seconds)
    else:
        log.info("%s: %d images, the last %d of them in %.1f s after a resume",
                 phase.name, n, n_here, seconds)


class Trainer:
    """Runs (or resumes) one experiment in a run directory.

    Parameters
    ----------
    config : RunConfig
    run_dir : path
        Created if needed. A fresh run (``resume`` false) refuses a folder that
        already holds a run (:func:`brian_stdp.training.rundir.refuse_existing_run`).
    progress : bool
        Show progress bars.
    resume : bool
        Continue the run in ``run_dir`` under its own ``config.json`` (given
        as ``config``) and model copy, from its checkpoint if it has one. Only
        then is a checkpoint ever read.
    """

    def __init__(self, config: RunConfig, run_dir, progress: bool = True, resume: bool = False):
        config.check()
        config = dataclasses.replace(config, threads=resolve_threads(config.threads,
                                                                     config.neurons))
        self.config, self.run_dir, self.progress = config, Path(run_dir), progress
        self.resuming = resume
        model_copy = self.run_dir / rundir.MODEL_COPY
        self.session_class = session_class(config.device)
        #: What this run takes from the run it continues (``--init-from``); None: a fresh
        #: network.
        self.continuation = None
        if resume:
            self.spec = load_model(model_copy)
            check_silencing(self.spec, config.silence_below)
            if config.init_from is not None:
                self.continuation = continuation.recorded(self.run_dir, required=True)
        else:
            refuse_used_run_dir(self.run_dir)
            self.spec = self.session_class.adapt_spec(load_model(config.model))
            self.spec.check_neurons(config.neurons)
            check_silencing(self.spec, config.silence_below)
        check_model(self.spec)
        self.labelling = config.labelling or self.spec.protocol.labelling
        self.images = select_images(config)
        if config.init_from is not None and not resume:
            self.continuation = continuation.describe(config.init_from, config.neurons,
                                                      self.images.train_set.shape)
            if not continuation.same_model(config.init_from, self.spec):
                log.warning("--init-from %s: that network was trained with another model "
                            "file than %s (its %s differs): it goes on under this one's rule",
                            config.init_from, self.spec.name, rundir.MODEL_COPY)
        epochs_before = self.continuation.epochs_before if self.continuation else 0
        self.images = dataclasses.replace(self.images, epochs_before=epochs_before)
        self.n_input = self.images.n_input
        self.neurons_requested = config.neurons
        n_train = len(self.images.train_idx)
        if self.spec.protocol.cap_neurons and config.neurons > n_train:
            log.warning("%s caps the output layer at the number of training images: %d "
                        "neurons instead of %d ([protocol] cap_neurons)", self.spec.name,
                        n_train, config.neurons)
            self.config = dataclasses.replace(config, neurons=n_train)
        self.phases = phases(config)
        #: Per phase, the index its random draws are keyed by (:func:`draw_indices`).
        self.draw_index = draw_indices(config, epochs_before)
        #: The model as the label and test phases run it (``[protocol] t_present_eval``;
        #: on cpp_standalone with the weights held, :meth:`.Session.evaluation_spec`).
        self.eval_spec = self.session_class.evaluation_spec(self.spec, self.config.neurons,
                                                             self.n_input)
        if not resume:  # every setting checked: the run directory is made
            self._create_run_dir(config)
        if self.continuation is not None:
            log.info("%s", continuation.summary(self.continuation))
        self.session = None
        self.pool = None

    def _create_run_dir(self, config: RunConfig) -> None:
        """Write the new run's model copy, ``config.json`` (``config``, as given) and
        ``provenance.json`` (with the :attr:`continuation`, if any)."""
        provenance = rundir.provenance(config.seed, config.device)
        if self.continuation is not None:
            provenance[continuation.PROVENANCE_KEY] = dataclasses.asdict(self.continuation)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for name, text in self.spec.copy_files(rundir.MODEL_COPY).items():
            rundir.save_text(self.run_dir / name, text)
        rundir.save_json(self.run_dir / rundir.CONFIG, dataclasses.asdict(config))
        rundir.save_json(self.run_dir / rundir.PROVENANCE, provenance)

    # -- running --------------------------------------------------------------------------
    def run(self) -> dict:
        """Run every remaining phase; return the final metrics (also saved)."""
        c = self.config
        checkpoint_path = self.run_dir / rundir.CHECKPOINT
        slots = min(c.chunk, max(len(self.images.stream(p)[1]) for p in self.phases))
        resuming = self.resuming and checkpoint_path.exists()
        if self.resuming and not resuming:
            log.warning("%s holds no %s (the run stopped before its first chunk ended, or "
                        "the file was removed): the run starts again from its first image",
                        self.run_dir, rundir.CHECKPOINT)
        if resuming:
            progress, state, records = load_checkpoint(checkpoint_path)
            if progress.done:
                return rundir.load_json(self.run_dir / rundir.METRICS)
            fixed = {key: state[key] for key in fixed_keys(self.spec)}
            log.info("resuming %s at phase %s, image %d", self.run_dir,
                     self.phases[progress.phase_index].name, progress.position)
        else:
            rng = initial_rng(c.seed)
            progress, records, trained = Progress(), {}, None
            fixed = draw_fixed(self.spec, c.neurons, self.n_input, rng)
            if self.continuation is not None:
                trained, winners = continuation.trained_network(self.continuation)
                fixed = continuation.adopt(fixed, trained, c.init_from, whole=False)
                progress.chunk_index = self.continuation.chunk_index
                records[scoring.EARLIER_TRAINING] = {"winner": winners}
        phase = self.phases[min(progress.phase_index, len(self.phases) - 1)]
        self.session = self._new_session(self._spec_of(phase), slots, fixed)
        if not resuming:
            state = self.session.initial_state(rng)
            if trained is not None:
                state = continuation.adopt(state, trained, c.init_from)
        lazy = self.session.builds_lazily
        # a device that builds as the chunks need it (genn) keeps the builds of the
        # process that started the run, which a resumed run reuses
        self._built_before = [progress.timing.get("compile_seconds", 0.0),
                              progress.timing.get("builds", 0)] if lazy else [0.0, 0]
        try:
            self.session.compile()
            self._count_builds(progress)
            if lazy:
                log.info("%s for %d neurons, %d slots per chunk on %s: built when first "
                         "needed, once for training and once for labelling and testing "
                         "(each build logged)", self.spec.name, c.neurons, slots, c.device)
            else:
                log.info("compiled %s for %d neurons, %d slots per chunk in %.1f s on %s",
                         self.spec.name, c.neurons, slots, self.session.compile_seconds,
                         c.device)
            with self._start_pool(progress.phase_index) as self.pool:
                while progress.phase_index < len(self.phases):
                    self._use_session_for(self.phases[progress.phase_index], progress)
                    state = self._run_phase(progress, state, records, checkpoint_path)
            self._count_builds(progress)
            metrics = self._finish(progress, state, records)
        finally:
            self.session.close()
        if not c.keep_build:
            self.session.delete_build()
            shutil.rmtree(self.run_dir / "build", ignore_errors=True)  # holds build/evaluation
        return metrics

    def _spec_of(self, phase):
        """The model that runs ``phase``: :attr:`spec` for training, :attr:`eval_spec`
        for labelling and testing."""
        return self.spec if phase.kind == "train" else self.eval_spec

    def _new_session(self, spec, slots: int, fixed: dict):
        """A session of ``spec``; its build folder is ``build/`` for the trained model,
        ``build/evaluation/`` for a different evaluation model."""
        folder = self.run_dir / "build"
        if spec is not self.spec:
            folder = folder / EVALUATION_BUILD
        return self.session_class(spec, self.config.neurons, self.n_input, slots, fixed,
                                  directory=folder, threads=self.config.threads)

    def _use_session_for(self, phase, progress) -> None:
        """Make :attr:`session` the one that runs ``phase``. Where the label and test
        phases run another model (the weights held, :meth:`.Session.evaluation_spec`; the
        images shown longer, ``[protocol] t_present_eval``), a phase of the other kind
        closes the session and builds the other one in its own folder (again after the
        first time: its folder, and the build cache, keep it compiled)."""
        spec = self._spec_of(phase)
        if self.session.spec is spec:
            return
        self._built_before[0] += self.session.compile_seconds
        self._built_before[1] += self.session.builds
        fixed, slots = self.session.fixed, self.session.slots
        self.session.close()
        self.session = self._new_session(spec, slots, fixed)
        self.session.compile()
        self._count_builds(progress)
        held = ", the weights held" if spec.stdp != self.spec.stdp else ""
        log.info("%s: %s%s, images shown %s (built in %.1f s)", phase.name, spec.name, held,
                 spec.protocol.t_present, self.session.compile_seconds)

    def _count_builds(self, progress) -> None:
        """Record the session's compile seconds and builds in ``progress.timing``, after
        those of an earlier process of the run where the session builds lazily."""
        seconds, builds = self._built_before
        progress.timing["compile_seconds"] = seconds + self.session.compile_seconds
        progress.timing["builds"] = builds + self.session.builds

    def _start_pool(self, phase_index: int) -> BlockPool:
        """The worker processes for the label and test phases from ``phase_index`` on:
        ``workers - 1``, but no more than the largest of these phases has blocks
        besides the one this process runs. They compile while this process trains."""
        c = self.config
        n_blocks = max((len(blocks(len(self.images.stream(p)[1]), self.session.slots))
                        for p in self.phases[phase_index:] if p.kind != "train"), default=0)
        workers = c.workers if self.session.evaluation_workers else 1
        if workers < c.workers:
            log.info("--workers %d: %s labels and tests in this process only (one build)",
                     c.workers, c.device)
        elif c.threads > 1 and workers * c.threads > available_cores():
            workers = max(1, available_cores() // c.threads)
            log.info("--workers %d with --threads %d: %d process(es) label and test, within "
                     "the %d cores", c.workers, c.threads, workers, available_cores())
        recipe = dataclasses.replace(SessionRecipe.of(self.session, c.device),
                                     spec=self.eval_spec)
        return BlockPool(recipe,
                         min(workers - 1, n_blocks - 1), self.run_dir / "build" / "workers",
                         keep_build=c.keep_build)

    def _run_phase(self, progress, state, records, checkpoint_path):
        if self.phases[progress.phase_index].kind != "train":
            return self._run_blocks(progress, state, records, checkpoint_path)
        c = self.config
        phase = self.phases[progress.phase_index]
        dataset, indices = self.images.stream(phase)
        n = len(indices)
        rec, offset = _phase_records(records, phase, n, c.neurons, c.epochs)
        phase_index = progress.phase_index
        ctrl = ControllerState(*progress.ctrl) if progress.ctrl is not None else None
        bar = _progress_bar(self.progress, n, progress.position, phase, c.epochs)
        started, resumed_at = time.perf_counter(), progress.position
        chunks = stream(self.session, dataset.images, indices, rec, state=state,
                        plastic=phase.kind == "train", ctrl=ctrl, offset=offset,
                        seed_of=lambda k: chunk_seed(c.seed, self.draw_index[phase_index], k),
                        start=progress.position, first_chunk=progress.chunk_index,
                        where=phase.name)
        for chunk in chunks:
            state = chunk.state
            progress.position = chunk.end
            progress.chunk_index = chunk.index + 1
            progress.ctrl = list(dataclasses.astuple(chunk.ctrl))
            timing = progress.timing.setdefault(phase.name, {"seconds": 0.0, "images": 0})
            timing["seconds"] += chunk.result.seconds
            timing["images"] += chunk.consumed
            timing["input_spikes"] = timing.get("input_spikes", 0) + chunk.result.input_spikes
            if chunk.end >= n:  # evaluate, move on to the next phase
                self._end_phase(phase, progress, records, state)
                progress.phase_index += 1
                progress.position, progress.ctrl = 0, None
            self._count_builds(progress)
            save_checkpoint(checkpoint_path, progress, state, records)
            g0 = offset + chunk.start
            self._report(bar, phase, rec, slice(g0, g0 + chunk.consumed), chunk.result.seconds,
                         timing)
        if bar is not None:
            bar.close()
        _log_phase_end(phase, n, n - resumed_at, started)
        return state

    def _run_blocks(self, progress, state, records, checkpoint_path):
        """A label or test phase: its blocks, here and in the workers. Returns the state
        it started from (a frozen network's phase leaves it as it was)."""
        c = self.config
        phase = self.phases[progress.phase_index]
        dataset, indices = self.images.stream(phase)
        n = len(indices)
        rec, _ = _phase_records(records, phase, n, c.neurons, c.epochs)
        spans = blocks(n, self.session.slots)
        done = set(progress.blocks_done)
        progress.position = sum(stop - start for b, (start, stop) in enumerate(spans)
                                if b in done)
        todo = [b for b in range(len(spans)) if b not in done]
        start_state = self._evaluation_state(phase, state, records)
        bar = _progress_bar(self.progress, n, progress.position, phase, c.epochs)
        resumed_at = progress.position
        timing = progress.timing.setdefault(phase.name, {"seconds": 0.0, "images": 0})
        timing.setdefault("input_spikes", 0)
        wall_before, started = timing.get("wall_seconds", 0.0), time.perf_counter()
        results = evaluate_blocks(self.session, dataset.images[indices], spans, todo,
                                  state=start_state, seed=c.seed,
                                  phase_index=self.draw_index[progress.phase_index],
                                  where=phase.name,
                                  pool=self.pool)
        for block in results:
            start, stop = spans[block.index]
            rec["counts"][start:stop] = block.counts
            rec["presentations"][start:stop] = block.presentations
            progress.blocks_done.append(block.index)
            progress.position += stop - start
            timing["seconds"] += block.seconds
            timing["images"] += stop - start
            timing["input_spikes"] += block.input_spikes
            timing["wall_seconds"] = wall_before + time.perf_counter() - started
            if len(progress.blocks_done) == len(spans):  # evaluate, move on
                self._end_phase(phase, progress, records, state)
                progress.phase_index += 1
                progress.position, progress.blocks_done = 0, []
            self._count_builds(progress)
            save_checkpoint(checkpoint_path, progress, state, records)
            self._report(bar, phase, rec, slice(start, stop), block.seconds, timing)
        if bar is not None:
            bar.close()
        _log_phase_end(phase, n, n - resumed_at, started)
        return state

    def _evaluation_state(self, phase, state, records):
        """The state the blocks of a label or test phase start from: the trained ``state``,
        with the neurons of :func:`scoring.silenced_neurons` silenced (``--silence-below``)."""
        c = self.config
        if not c.silence_below:
            return state
        silenced = scoring.silenced_neurons(records, self.images, phase.epoch,
                                            c.silence_below, c.neurons)
        log.info("%s: %d of %d neurons kept silent: they won fewer than %d training images "
                 "(--silence-below)", phase.name, int(silenced.sum()), c.neurons,
                 c.silence_below)
        return scoring.silence(state, silenced)

    def _report(self, bar, phase, rec, done, seconds, timing):
        """Progress bar and log line after a chunk or block: the images ``done`` (a slice
        of ``rec``) took ``seconds`` of simulation."""
        consumed = done.stop - done.start
        spikes = (rec["counts"][done].sum(axis=1) if "counts" in rec else rec["spikes"][done])
        shown_again = float(np.mean(rec["presentations"][done] > 1)) if consumed else 0.0
        rate = timing["images"] / max(timing.get("wall_seconds", timing["seconds"]), 1e-9)
        if bar is not None:
            bar.set_postfix_str(f"{rate:.0f} img/s, {spikes.mean() if consumed else 0:.1f} "
                                f"spikes/img, {100 * shown_again:.0f}% shown again",
                                refresh=False)
            bar.update(consumed)
        log.debug("%s: images %d-%d in %.2f s, %.1f spikes/img, %.1f%% shown again",
                  phase.name, done.start + 1, done.stop, seconds,
                  spikes.mean() if consumed else 0, 100 * shown_again)

    def _end_phase(self, phase, progress, records, state):
        c = self.config
        if phase.kind == "label":
            assignment = scoring.label_assignment(records, self.images)
            log.info("labelled %d of %d neurons on %d training images",
                     int(np.sum(assignment.labels >= 0)), c.neurons,
                     len(self.images.label_idx))
        elif phase.kind == "test":
            result = scoring.test_result(records, self.images, self.spec, phase.epoch,
                                         self.labelling, c.neurons, c.silence_below)
            progress.history.append(result)
            epoch = result["epoch"]  # of the network's whole training
            log.info("epoch %d: %s accuracy %.2f%% (all activity), %.2f%% (proportion "
                     "weighting) on %d images", epoch, self.images.scored_on,
                     100 * result["accuracy_all_activity"],
                     100 * result["accuracy_proportion_weighting"], len(self.images.test_idx))
            usage = result["neuron_usage"]
            log.info("epoch %d: %d of %d neurons never won a training image; they fired "
                     "%.1f%% of the %s spikes, the busiest neuron %.1f%%", epoch,
                     usage["never_won"], c.neurons, 100 * usage["never_won_spike_share"],
                     self.images.scored_on, 100 * usage["top_neuron_spike_share"])
            if "accuracy_last_winner" in result:
                log.info("epoch %d: test accuracy %.2f%% (last-winner labels of %d neurons, "
                         "most active neuron)", epoch,
                         100 * result["accuracy_last_winner"],
                         result["labelled_neurons_last_winner"])

    # -- results --------------------------------------------------------------------------
    def _finish(self, progress, state, records):
        """Save the trained state and the metrics, mark the run done, draw its figures."""
        c = self.config
        trained = scoring.trained_arrays(state, records, self.images, self.spec,
                                         self.session.handles, self.labelling, c.neurons,
                                         c.epochs, c.silence_below)
        rundir.save_arrays(self.run_dir / rundir.STATE, trained)
        metrics = scoring.run_metrics(c, self.spec, self.images, progress.history,
                                      progress.timing, records, self.labelling,
                                      self.neurons_requested)
        rundir.save_json(self.run_dir / rundir.METRICS, metrics)
        progress.done = True
        save_checkpoint(self.run_dir / rundir.CHECKPOINT, progress, state, records)
        from brian_stdp.plots.run_figures import make_run_figures

        layout = self.spec.layouts().get("exc")
        patches = None if layout is None else {
            "corners": [layout.corner(k) for k in range(layout.n_locations)],
            "kernel": layout.kernel}
        make_run_figures(self.run_dir / rundir.FIGURES, trained, metrics, patches)
        return metrics


def initial_rng(seed: int) -> np.random.Generator:
    """The generator that draws a run's build-time values (delays, first) and then its
    initial state: the same draws for the same seed, model and sizes."""
    return np.random.default_rng([seed, 0])


def _phase_records(records, phase, n, n_neurons, epochs):
    """The arrays a phase fills, created at its start.

    ``label`` and ``test`` keep every image's spike count per neuron,
    shape (n, n_neurons); ``train`` keeps, for all epochs in a row, each
    image's total output spikes and its winner (the neuron of its last
    winning spike, -1: none), shape (epochs*n,). All keep each image's
    number of presentations.
    """
    kind = phase.kind
    if kind == "train":
        if "train" not in records:
            records["train"] = {"spikes": np.zeros(epochs * n, dtype=np.uint32),
                                "presentations": np.zeros(epochs * n, dtype=np.uint8),
                                "winner": np.full(epochs * n, -1, dtype=np.int32)}
        return records["train"], (phase.epoch - 1) * n
    if phase.epoch != _record_epoch(records, kind):
        records[kind] = {"counts": np.zeros((n, n_neurons), dtype=np.uint16),
                         "presentations": np.zeros(n, dtype=np.uint8),
                         "epoch": np.array(phase.epoch)}
    return records[kind], 0


def _record_epoch(records, kind):
    return int(records[kind]["epoch"]) if kind in records else None


def _progress_bar(enabled, total, initial, phase, epochs):
    if not enabled:
        return None
    from tqdm import tqdm

    desc = f"{phase.kind} {phase.epoch}/{epochs}" if phase.kind == "train" else phase.kind
    return tqdm(total=total, initial=initial, desc=desc, unit="img", dynamic_ncols=True)


def check_silencing(spec, silence_below: int) -> None:
    """Raise :class:`ConfigError` if ``--silence-below`` is set for a model where raising
    ``theta`` (:func:`scoring.silence`) would not keep a neuron silent: its ``exc`` group's
    threshold does not use an adaptive threshold ``theta``, or the group sets ``theta``
    at the start of each image or after each input step (``slot_start``, ``after_input``:
    ``wolff_2022`` does both), which would undo the raise."""
    if not silence_below:
        return
    exc = spec.groups.get("exc")
    where = f"--silence-below {silence_below}: model {spec.name}"
    fix = "; use --silence-below 0 with this model"
    if exc is None or not re.search(r"\btheta\b", exc.threshold):
        raise ConfigError(f"{where} has no adaptive threshold theta in the threshold of "
                          f"group exc, which silencing raises{fix}")
    for key in ("slot_start", "after_input"):
        if any(target == "theta" for target, _, _ in statements(getattr(exc, key))):
            raise ConfigError(f"{where} sets theta in [groups.exc] {key}, which would undo "
                              f"the raise that silences a neuron{fix}")


def refuse_used_run_dir(run_dir) -> None:
    """Raise :class:`ConfigError` if ``run_dir`` already holds a run; the message names
    ``--resume`` and a new folder. Nothing in ``run_dir`` is touched."""
    rundir.refuse_existing_run(run_dir, f"continue it with: python -m brian_stdp.run "
                                        f"--resume {run_dir}, or give --out a new folder")


def resume(run_dir, progress: bool = True, workers: int | None = None) -> dict:
    """Continue an interrupted run from its checkpoint; return its metrics.

    ``workers`` replaces the stored ``workers`` setting (which does not change results)
    for this session; None keeps it.
    """
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if workers is not None:
        config = dataclasses.replace(config, workers=workers)
    return Trainer(config, run_dir, progress=progress, resume=True).run()


__all__ = ["RunConfig", "Trainer", "Phase", "Progress", "phases", "resume",
           "refuse_used_run_dir", "initial_rng"]
