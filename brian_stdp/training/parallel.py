"""Blocks of images for a frozen network, over worker processes (``--workers``).

Labelling, testing and classification show images to a frozen network in independent
blocks (:func:`brian_stdp.training.chunks.run_block`). :func:`evaluate_blocks` runs the
blocks of one phase in this process, with its own compiled session, and, given a
:class:`BlockPool`, in worker processes too. Brian2's device is global per process, so
each worker is a spawned process that builds and compiles a session of its own (in its
own build folder) once, then takes blocks from a queue shared with this process until
told to stop. Results come back in the order they finish, each with the process that
ran it (:attr:`~brian_stdp.training.chunks.BlockResult.worker`); a block's figures do not
depend on that process, so neither do the phase's.

A worker that fails (an error, a crash, a kill) ends the phase with a
:class:`WorkerError` (or the worker's own :class:`~brian_stdp.errors.BrianSTDPError`)
in this process; nothing waits for it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import shutil
import signal
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from brian_stdp.backends.build_cache import NOT_CACHED
from brian_stdp.errors import BrianSTDPError
from brian_stdp.training.chunks import BlockResult, run_block

log = logging.getLogger("brian_stdp")

#: Seconds between checks that the workers (in this process) or the parent (in a
#: worker) are still alive.
POLL_SECONDS = 0.5
#: Seconds a worker gets to finish after it was told to stop, before it is killed.
STOP_SECONDS = 30.0


class WorkerError(RuntimeError):
    """An evaluation worker process failed or ended unexpectedly."""


@dataclass(frozen=True)
class SessionRecipe:
    """What a worker needs to build the same session as this process.

    Attributes
    ----------
    device : str
        Device name (:func:`brian_stdp.backends.devices.names`).
    spec : ModelSpec
    n_neurons, n_input, slots : int
    fixed : dict of str to ndarray
        Build-time values (delays).
    threads : int
        OpenMP threads of the worker's session.
    template : str or None
        The session's :attr:`~brian_stdp.backends.session.Session.build_template`: a
        worker's build folder starts as a copy of it. None: build from scratch.
    """

    device: str
    spec: object
    n_neurons: int
    n_input: int
    slots: int
    fixed: dict
    threads: int = 1
    template: str | None = None

    @classmethod
    def of(cls, session, device: str) -> "SessionRecipe":
        """The recipe of the compiled ``session`` (a session of ``device``)."""
        return cls(device=device, spec=session.spec, n_neurons=session.n_neurons,
                   n_input=session.n_input, slots=session.slots, fixed=dict(session.fixed),
                   threads=session.threads, template=session.build_template)

    def build(self, directory):
        """A new (not yet compiled) session in the build folder ``directory``."""
        from brian_stdp.backends.devices import session_class

        return session_class(self.device)(self.spec, self.n_neurons, self.n_input, self.slots,
                                          self.fixed, directory=directory,
                                          threads=self.threads)


@dataclass
class _Task:
    """One block to run: its images, where the phase's start state is, its seeds."""

    state_path: str
    index: int
    images: np.ndarray
    seed: int
    phase_index: int
    where: str


def evaluate_blocks(session, images: np.ndarray, spans: list, todo, *, state: dict,
                    seed: int, phase_index: int, where: str,
                    pool: "BlockPool | None" = None) -> Iterator[BlockResult]:
    """Run blocks of a phase; yield each block's result as it finishes.

    Parameters
    ----------
    session : brian_stdp.backends.session.Session
        This process's compiled session.
    images : ndarray, shape (n, height, width), uint8
        The phase's images, in order.
    spans : list of (int, int)
        (start, stop) of every block of the phase (:func:`~.chunks.blocks`).
    todo : iterable of int
        Indices of the blocks to run (the others are done already).
    state : dict of str to ndarray
        Network state at the start of the phase (every block starts from it).
    seed, phase_index : int
        The run's seed and the phase's index (:func:`~.chunks.block_seed`).
    where : str
        The phase's name, for error messages.
    pool : BlockPool, optional
        Worker processes that share the blocks with this process.

    Yields
    ------
    BlockResult
        In the order the blocks finish.
    """
    tasks = [_Task(state_path="", index=b, images=images[spans[b][0]:spans[b][1]], seed=seed,
                   phase_index=phase_index,
                   where=f"{where}, images {spans[b][0] + 1}-{spans[b][1]} (block {b + 1})")
             for b in todo]
    if pool is None or pool.size == 0:
        for task in tasks:
            yield _run_task(session, task, state)
        return
    yield from pool.evaluate(session, tasks, state)


def _run_task(session, task: _Task, state: dict) -> BlockResult:
    return run_block(session, task.images, state=state, seed=task.seed,
                     phase_index=task.phase_index, index=task.index, where=task.where)


class BlockPool:
    """Worker processes, each with its own compiled session, that run blocks of images.

    The workers start (spawn) and compile at once, in the background; this process goes
    on meanwhile. Close the pool (:meth:`close`, or use it as a context manager) when done:
    the workers close their sessions and their build folders are removed (unless
    ``keep_build``).

    Parameters
    ----------
    recipe : SessionRecipe
        The session every worker builds.
    n_workers : int
        Worker processes (0: none; :func:`evaluate_blocks` then runs everything here).
    parent : path
        Folder (created) of the pool's own folder ``pool-<random>``, which holds the
        workers' build folders (``worker-<k>``) and the phase states they read; that one
        is removed on :meth:`close`, except the build folders with ``keep_build``. A
        folder of its own: workers left over from a killed process never touch it.
    keep_build : bool
        Keep the workers' build folders.
    """

    def __init__(self, recipe: SessionRecipe, n_workers: int, parent, keep_build=False):
        self.keep_build = keep_build
        self._processes, self._ready, self._phases = [], set(), 0
        self.directory = None
        if n_workers <= 0:
            return
        Path(parent).mkdir(parents=True, exist_ok=True)
        self.directory = Path(tempfile.mkdtemp(prefix="pool-", dir=parent))
        context = multiprocessing.get_context("spawn")
        self._tasks, self._results = context.Queue(), context.Queue()
        for number in range(1, n_workers + 1):
            if recipe.template is not None:  # the compiled program, not its run's files
                shutil.copytree(recipe.template, self._build_dir(number), dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(*NOT_CACHED, Path(parent).name))
            process = context.Process(
                target=_worker_process, name=f"brian_stdp-worker-{number}", daemon=True,
                args=(number, recipe, str(self._build_dir(number)), keep_build,
                      self._tasks, self._results))
            process.start()
            self._processes.append(process)
        log.info("started %d evaluation worker(s); each compiles its own network", n_workers)

    @property
    def size(self) -> int:
        """Worker processes started."""
        return len(self._processes)

    def _build_dir(self, number: int) -> Path:
        return self.directory / f"worker-{number}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(failed=exc[0] is not None)

    def evaluate(self, session, tasks: list, state: dict) -> Iterator[BlockResult]:
        """Run ``tasks`` here and in the workers; yield the results as they come."""
        self._phases += 1
        state_path = self.directory / f"state-{self._phases}.npz"
        np.savez(state_path, **state)
        for task in tasks:
            task.state_path = str(state_path)
            self._tasks.put(task)
        pending = {task.index for task in tasks}
        while pending:
            results = self._collect(0)
            if not results:
                try:  # this process takes a block of the shared queue too
                    task = self._tasks.get_nowait()
                except queue.Empty:  # all taken (or still in transit): wait for results
                    results = self._collect(POLL_SECONDS)
                else:
                    results = [_run_task(session, task, state)]
            for result in results:
                pending.discard(result.index)
                yield result
        state_path.unlink(missing_ok=True)

    def _collect(self, timeout: float) -> list:
        """Block results the workers sent (waiting up to ``timeout`` seconds for the first).

        Raises
        ------
        WorkerError, BrianSTDPError
            A worker failed or ended.
        """
        messages = []
        try:
            messages.append(self._results.get(timeout=timeout) if timeout
                            else self._results.get_nowait())
            while True:
                messages.append(self._results.get_nowait())
        except queue.Empty:
            pass
        ended = [(number, p) for number, p in enumerate(self._processes, start=1)
                 if p.exitcode is not None]
        if ended and not any(m[0] == "error" for m in messages):
            try:  # a worker that failed said why before it ended: read that first
                messages.append(self._results.get(timeout=POLL_SECONDS))
            except queue.Empty:
                pass
        results = []
        for kind, number, *rest in messages:
            if kind == "ready":
                self._ready.add(number)
                log.info("evaluation worker %d compiled in %.1f s", number, rest[0])
            elif kind == "block":
                results.append(rest[0])
            else:
                error, text = rest
                log.error("evaluation worker %d failed:\n%s", number, text)
                if isinstance(error, BrianSTDPError):
                    raise error
                raise WorkerError(f"evaluation worker {number} failed: "
                                  f"{text.strip().splitlines()[-1]} (traceback in the log)")
        if ended:
            number, p = ended[0]
            raise WorkerError(f"evaluation worker {number} (pid {p.pid}) ended unexpectedly "
                              f"with exit code {p.exitcode}")
        return results

    def close(self, failed: bool = False) -> None:
        """Stop the workers and remove their folders (build folders: unless
        ``keep_build``).

        Parameters
        ----------
        failed : bool
            The run failed or was interrupted: stop the workers at once, without
            letting them finish a block.
        """
        if self._processes:
            if not failed:
                for _ in self._processes:
                    self._tasks.put(None)
                for number, process in enumerate(self._processes, start=1):
                    if number in self._ready:  # not one still compiling: nothing to wait for
                        process.join(STOP_SECONDS)
            for number, process in enumerate(self._processes, start=1):
                if number not in self._ready:  # compiling: SIGTERM would wait for make
                    _kill_group(process.pid)
                    process.kill()  # (in case it had not yet made its group)
                elif process.is_alive():
                    process.terminate()  # a worker ends its session on SIGTERM
            for process in self._processes:
                process.join(STOP_SECONDS)
                if process.is_alive():
                    process.kill()
                    process.join()
                _kill_group(process.pid)
            for q in (self._tasks, self._results):
                q.cancel_join_thread()  # undelivered tasks must not keep this process alive
                q.close()
            self._processes = []
        if self.directory is None:
            return
        for path in self.directory.glob("state-*.npz"):
            path.unlink(missing_ok=True)
        if not self.keep_build:
            shutil.rmtree(self.directory, ignore_errors=True)
            try:  # and the parent, unless another pool (or anything else) is there
                self.directory.parent.rmdir()
            except OSError:
                pass


def _kill_group(pid: int) -> None:
    """Kill what is left of a stopped worker's process group: the compiler or the
    standalone program it had started, which would otherwise go on writing into the build
    folder being removed."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nothing left


def _worker_process(*args) -> None:
    """The worker process's entry point: :func:`_worker_main` as the leader of a process
    group of its own, so that :meth:`BlockPool.close` can end what the worker started
    (``make``, the compiler, the standalone program) with it. The main process, not the
    terminal's Ctrl-C, stops the group."""
    os.setpgrp()
    _worker_main(*args)


def _worker_main(number, recipe, directory, keep_build, tasks, results) -> None:
    """A worker process: build and compile a session, then run blocks until told to stop
    (``None``) or until the parent process is gone."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    logging.getLogger("brian2").setLevel(logging.WARNING)
    parent = multiprocessing.parent_process()
    session, loaded = None, (None, None)
    try:
        session = recipe.build(directory)
        session.compile()
        results.put(("ready", number, session.compile_seconds))
        while True:
            if parent is not None and not parent.is_alive():
                break  # the blocks still queued are no one's to collect
            try:
                task = tasks.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if task is None:
                break
            if loaded[0] != task.state_path:
                with np.load(task.state_path) as arrays:
                    loaded = (task.state_path, {key: arrays[key] for key in arrays.files})
            result = _run_task(session, task, loaded[1])
            results.put(("block", number, replace(result, worker=number)))
    except (KeyboardInterrupt, SystemExit):
        pass  # Ctrl-C or told to stop: the main process knows
    except BaseException as err:  # noqa: B036 (sent to the main process)
        try:
            pickle.dumps(err)
        except Exception:
            err = None
        results.put(("error", number, err, traceback.format_exc()))
    finally:
        if parent is not None and not parent.is_alive():
            results.cancel_join_thread()
        if session is not None:
            session.close()
        if not keep_build:
            shutil.rmtree(directory, ignore_errors=True)
