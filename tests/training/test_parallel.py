"""Labelling and testing over worker processes (--workers): the same results, to the
last digit, for any number of workers, after an interruption or a kill, and a failing
worker is an error, not a hang."""

import dataclasses
import os
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from brian_stdp.errors import ConfigError
from brian_stdp.training import chunks, classify, parallel, rundir
from brian_stdp.training.checkpoint import load_checkpoint
from brian_stdp.training.trainer import RunConfig, Trainer, resume

#: 20 neurons on scikit-learn's digits; label and test phases of 6 and 3 blocks of 50.
SMALL = RunConfig(dataset="digits", neurons=20, train=300, label=300, test=150, chunk=50,
                  seed=4, workers=1)
#: Blocks of the label and test phases.
LABEL_BLOCKS, TEST_BLOCKS = 6, 3


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    """SMALL, all in this process."""
    run_dir = tmp_path_factory.mktemp("one_worker")
    Trainer(SMALL, run_dir, progress=False).run()
    return run_dir


@pytest.fixture
def ran_by(monkeypatch):
    """The process that ran each block of a pool (:attr:`chunks.BlockResult.worker`: 0 this
    process, k worker k), in the order the blocks finished.

    Each phase of a pool starts once its workers have compiled (they compile while this
    process trains, and might otherwise miss a short phase), so that the blocks are shared
    as in a long phase: a worker takes a block as soon as it is free, this process when
    none is waiting for one."""
    workers = []
    evaluate = parallel.BlockPool.evaluate

    def evaluate_when_compiled(self, session, tasks, state):
        deadline = time.monotonic() + 600
        while len(self._ready) < self.size and time.monotonic() < deadline:
            assert self._collect(parallel.POLL_SECONDS) == [], "no blocks queued yet"
        for result in evaluate(self, session, tasks, state):
            workers.append(result.worker)
            yield result

    monkeypatch.setattr(parallel.BlockPool, "evaluate", evaluate_when_compiled)
    return workers


def _assert_shared(ran_by, n_workers):
    """Blocks ran in workers 1 to ``n_workers`` (some) and perhaps in this process, no
    others. Whether this process gets one is timing: it takes a block only when no worker
    is waiting for one (CI saw workers take all three of a predict run)."""
    assert set(ran_by) <= set(range(n_workers + 1)), ran_by
    assert set(ran_by) - {0}, f"no worker ran a block: {ran_by}"


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.standalone_compatible
def test_any_number_of_workers_gives_the_same_run(workers, one_worker, tmp_path, caplog,
                                                  same_run, ran_by):
    caplog.set_level("INFO", logger="brian_stdp")
    run_dir = tmp_path / "run"
    metrics = Trainer(dataclasses.replace(SMALL, workers=workers), run_dir,
                      progress=False).run()
    assert f"started {workers - 1} evaluation worker(s)" in caplog.text
    assert len(ran_by) == LABEL_BLOCKS + TEST_BLOCKS
    _assert_shared(ran_by, workers - 1)
    _, arrays = same_run(one_worker, run_dir)
    assert arrays["records/test/counts"].sum() > 0, "the network spiked"
    assert metrics["timing"]["test-1"]["wall_seconds"] > 0
    assert not (run_dir / "build").exists(), "the build folders are removed"


def _interrupt_after_blocks(patcher, phase_index, n_blocks):
    """Ctrl-C right after the checkpoint that records ``n_blocks`` done blocks of phase
    ``phase_index`` (whichever process ran them)."""
    from brian_stdp.training import trainer

    original = trainer.save_checkpoint

    def saving(path, progress, *args):
        original(path, progress, *args)
        if progress.phase_index == phase_index and len(progress.blocks_done) == n_blocks:
            raise KeyboardInterrupt

    patcher.setattr(trainer, "save_checkpoint", saving)


@pytest.mark.standalone_compatible
def test_interrupted_test_phase_resumes_to_the_same_run(one_worker, tmp_path, monkeypatch,
                                                         same_run):
    run_dir = tmp_path / "run"
    with pytest.MonkeyPatch.context() as patcher:
        _interrupt_after_blocks(patcher, phase_index=2, n_blocks=1)
        with pytest.raises(KeyboardInterrupt):
            Trainer(dataclasses.replace(SMALL, workers=2), run_dir, progress=False).run()
    progress, _, _ = load_checkpoint(run_dir / rundir.CHECKPOINT)
    assert (progress.phase_index, len(progress.blocks_done)) == (2, 1)
    assert not (run_dir / "build" / "workers").exists(), "the worker's folder is removed"
    blocks_run = []
    original = chunks.run_block

    def counting(*args, **kwds):
        blocks_run.append(kwds["index"])
        return original(*args, **kwds)

    monkeypatch.setattr(parallel, "run_block", counting)
    resume(run_dir, progress=False, workers=1)
    assert sorted(blocks_run + progress.blocks_done) == [0, 1, 2], "done blocks are skipped"
    same_run(one_worker, run_dir)


@pytest.mark.standalone_compatible
@pytest.mark.timeout(1800)  # it waits up to 900 s for the labelling, then resumes
def test_killed_during_labelling_resumes_to_the_same_run(one_worker, tmp_path, same_run):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "brian_stdp.run", *_flags(SMALL), "--workers", "2",
               "--out", str(run_dir), "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and process.poll() is None:
            progress = _progress(run_dir)
            if progress is not None and progress.phase_index == 1 and \
                    len(progress.blocks_done) >= 2:
                break
            time.sleep(0.1)
        assert process.poll() is None, process.stderr.read().decode()
        assert any((run_dir / "build" / "workers").glob("pool-*/worker-*")), \
            "the worker has its build folder"
        process.kill()  # SIGKILL: no cleanup at all
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    progress = _progress(run_dir)
    assert progress.phase_index == 1 and 2 <= len(progress.blocks_done) < LABEL_BLOCKS
    workers = run_dir / "build" / "workers"
    deadline = time.monotonic() + 60  # the orphaned worker notices and cleans up
    while any(workers.glob("pool-*/worker-*")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(workers.glob("pool-*/worker-*")), "the orphaned worker ended"
    resume(run_dir, progress=False, workers=2)
    same_run(one_worker, run_dir)


def _flags(config):
    flags = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if value is not None and value is not False and field.name != "workers":
            flags += [f"--{field.name.replace('_', '-')}", *([] if value is True
                                                            else [str(value)])]
    return flags


def _progress(run_dir):
    if not (run_dir / rundir.CHECKPOINT).exists():
        return None  # not there yet
    return load_checkpoint(run_dir / rundir.CHECKPOINT)[0]  # written atomically


@pytest.mark.standalone_compatible
def test_a_killed_worker_is_an_error_not_a_hang(tmp_path, monkeypatch):
    original = Trainer._start_pool

    def start_and_kill(self, phase_index):
        pool = original(self, phase_index)
        os.kill(pool._processes[0].pid, signal.SIGKILL)
        return pool

    monkeypatch.setattr(Trainer, "_start_pool", start_and_kill)
    config = dataclasses.replace(SMALL, train=100, label=100, test=50, workers=2)
    with pytest.raises(parallel.WorkerError, match="worker 1 .* ended unexpectedly"):
        Trainer(config, tmp_path / "run", progress=False).run()
    assert not (tmp_path / "run" / "build" / "workers").exists()


def test_a_failing_worker_reports_its_error_and_cleans_up(tmp_path):
    """A worker (run here, not spawned) that cannot build its session sends the error."""
    recipe = parallel.SessionRecipe(device="nosuch", spec=None, n_neurons=1, n_input=1,
                                    slots=1, fixed={})
    build = tmp_path / "worker-1"
    build.mkdir()
    results = queue.Queue()
    handler = signal.getsignal(signal.SIGTERM)
    try:
        parallel._worker_main(1, recipe, str(build), False, queue.Queue(), results)
    finally:
        signal.signal(signal.SIGTERM, handler)
    kind, number, error, text = results.get_nowait()
    assert (kind, number) == ("error", 1) and isinstance(error, ConfigError)
    assert "--device nosuch" in text
    assert not build.exists()
    # The main process raises the worker's own error.
    pool = parallel.BlockPool(recipe, 0, tmp_path / "pool")
    pool._results = queue.Queue()
    pool._results.put((kind, number, error, text))
    with pytest.raises(ConfigError, match="--device nosuch"):
        pool._collect(0)
    pool._results.put(("error", 2, None, "Traceback ...\nOSError: disk full\n"))
    with pytest.raises(parallel.WorkerError, match="worker 2 failed: OSError: disk full"):
        pool._collect(0)


class _SlowCompile:
    """A session whose compile starts a slow program that then writes into its build
    folder, like ``make`` does."""

    compile_seconds = 0.0

    def __init__(self, directory):
        self.directory = Path(directory)

    def compile(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "started").touch()
        os.system(f"sleep 4; mkdir -p {self.directory}/obj; touch {self.directory}/obj/x.o")

    def close(self):
        pass


@dataclasses.dataclass(frozen=True)
class _SlowRecipe(parallel.SessionRecipe):
    def build(self, directory):
        return _SlowCompile(directory)


def test_closing_the_pool_ends_a_compiling_worker_and_its_compiler(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "STOP_SECONDS", 1.0)
    recipe = _SlowRecipe(device="cpp_standalone", spec=None, n_neurons=1, n_input=1,
                         slots=1, fixed={})
    pool = parallel.BlockPool(recipe, 1, tmp_path / "workers")
    worker_dir = pool._build_dir(1)
    deadline = time.monotonic() + 60
    while not (worker_dir / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (worker_dir / "started").exists(), "the worker began compiling"
    pool.close(failed=True)
    assert not (tmp_path / "workers").exists()
    time.sleep(6)  # past the moment the compiler would have written its object file
    assert not (tmp_path / "workers").exists(), "nothing the worker started outlived it"


def test_block_seeds_and_blocks():
    seeds = {chunks.block_seed(1, p, b, k) for p in range(3) for b in range(10)
             for k in range(5)}
    assert len(seeds) == 150 and all(0 <= s < 2**32 for s in seeds)
    assert not seeds & {chunks.chunk_seed(1, p, c) for p in range(3) for c in range(50)}
    assert chunks.blocks(120, 50) == [(0, 50), (50, 100), (100, 120)]
    assert chunks.blocks(50, 50) == [(0, 50)]


def test_workers_setting_is_checked():
    with pytest.raises(ConfigError, match="--workers must be a positive"):
        dataclasses.replace(SMALL, workers=0).check()
    assert RunConfig().workers == len(os.sched_getaffinity(0))


@pytest.mark.standalone_compatible
def test_predict_gives_the_same_counts_for_any_number_of_workers(one_worker, monkeypatch,
                                                                 caplog, ran_by):
    caplog.set_level("INFO", logger="brian_stdp")
    monkeypatch.setattr(classify, "MAX_SLOTS", 40)  # 100 images: blocks of 40, 40, 20
    run = classify.load_run(one_worker)
    from brian_stdp.data.datasets import load_dataset

    images = load_dataset("digits", "test").images[:100]
    counts_1, presentations_1 = classify.spike_counts(run, images, workers=1)
    counts_4, presentations_4 = classify.spike_counts(run, images, workers=4)
    assert "started 2 evaluation worker(s)" in caplog.text, "no more workers than blocks"
    assert len(ran_by) == 3
    _assert_shared(ran_by, 2)
    assert counts_1.sum() > 0
    np.testing.assert_array_equal(counts_1, counts_4)
    np.testing.assert_array_equal(presentations_1, presentations_4)
