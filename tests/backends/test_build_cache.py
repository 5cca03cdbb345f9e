"""The build cache: a network built again starts from its cached build, compiles nothing,
and runs the same program; a cache that is off, missing or unwritable changes nothing."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from brian_stdp.backends import build_cache
from brian_stdp.backends import session as session_module
from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import StandaloneSession
from brian_stdp.model.spec import load_model

N_NEURONS, SLOTS = 12, 6


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(build_cache.CACHE_VARIABLE, str(folder))
    return folder


def _fake_build(folder: Path, mtime_ns: int = 10**18) -> Path:
    """A build folder with a program, sources, a run's files and a worker's folder."""
    for name in ("main", "main.cpp", "code_objects/a.o", "results/x", "static_arrays/y",
                 "workers/pool/worker-1/main", "static_arrays/y.lock"):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return folder


@pytest.mark.codegen_independent
def test_cache_folder_setting(monkeypatch, tmp_path):
    monkeypatch.setenv(build_cache.CACHE_VARIABLE, "off")
    assert build_cache.cache_folder() is None
    monkeypatch.setenv(build_cache.CACHE_VARIABLE, str(tmp_path))
    assert build_cache.cache_folder() == tmp_path
    monkeypatch.delenv(build_cache.CACHE_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert build_cache.cache_folder() == tmp_path / "xdg" / "brian_stdp" / "builds"


@pytest.mark.codegen_independent
def test_key_names_the_network_and_not_the_model_files_place(tmp_path):
    spec = load_model("diehl_cook_2015")
    args = ("cpp_standalone", spec, 400, 784, 1000, 1, False)
    key = build_cache.cache_key(*args)
    assert key == build_cache.cache_key(*args)
    assert key.startswith("diehl_cook_2015_n400_s1000_")
    moved = dataclasses.replace(spec, path=tmp_path / "elsewhere.toml")
    assert build_cache.cache_key("cpp_standalone", moved, *args[2:]) == key
    variant = load_model("diehl_cook_2015_genn")  # extends diehl_cook_2015
    copy = dataclasses.replace(variant, path=tmp_path / "model.toml",
                               bases=(tmp_path / "model.base.toml",))  # a run's copy
    assert build_cache.cache_key("genn", copy, *args[2:]) == build_cache.cache_key(
        "genn", variant, *args[2:])
    others = [("cpp_standalone", spec, 100, 784, 1000, 1, False),
              ("cpp_standalone", spec, 400, 784, 500, 1, False),
              ("cpp_standalone", spec, 400, 784, 1000, 2, False),
              ("cpp_standalone", spec, 400, 784, 1000, 1, True),
              ("cpp_standalone", load_model("diehl_cook_2015_exp_euler"), 400, 784, 1000, 1,
               False)]
    keys = {build_cache.cache_key(*other) for other in others}
    keys.add(build_cache.cache_key(*args, group_delays=False))
    assert key not in keys and len(keys) == len(others) + 1


@pytest.mark.codegen_independent
def test_a_programs_key_names_the_spike_queue_edit(monkeypatch, tmp_path):
    # the edited spikequeue.h keeps Brian2's modification time: a build of another version
    # of the edit must not be seeded, or make links the objects compiled from it
    spec = load_model("diehl_cook_2015")
    fixed = draw_fixed(spec, 12, 784, np.random.default_rng(0))
    session = StandaloneSession(spec, 12, 784, 4, fixed, directory=tmp_path / "build")
    try:
        key = session._cache_key()
        monkeypatch.setattr(session_module, "EDIT_VERSION", "0123abcd")
        assert session._cache_key() != key
    finally:
        session.close()


@pytest.mark.codegen_independent
def test_store_then_seed_copies_the_program_with_its_times(cache, tmp_path):
    build = _fake_build(tmp_path / "build")
    assert build_cache.store(build, "k") is True
    entry = cache / "k"
    assert sorted(str(p.relative_to(entry)) for p in entry.rglob("*") if p.is_file()) == [
        "code_objects/a.o", "main", "main.cpp"], "no run files, workers or locks"
    assert build_cache.store(build, "k") is False, "an entry is never replaced"
    new = tmp_path / "new"
    new.mkdir()
    assert build_cache.seed(new, "k") is True
    assert (new / "code_objects" / "a.o").stat().st_mtime_ns == 10**18
    assert build_cache.seed(new, "k") is False, "a folder with a program is left alone"
    assert build_cache.seed(tmp_path / "other", "missing") is False


@pytest.mark.codegen_independent
def test_off_or_unwritable_cache_is_skipped(monkeypatch, tmp_path, caplog):
    build = _fake_build(tmp_path / "build")
    monkeypatch.setenv(build_cache.CACHE_VARIABLE, "off")
    assert build_cache.store(build, "k") is False and build_cache.seed(tmp_path, "k") is False
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(build_cache.CACHE_VARIABLE, str(blocker / "cache"))
    assert build_cache.store(build, "k") is False
    assert "cannot store the build" in caplog.text and str(blocker) in caplog.text


@pytest.mark.codegen_independent
def test_eviction_keeps_the_recently_used(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(build_cache, "MAX_ENTRIES", 2)
    build = _fake_build(tmp_path / "build")
    hour = 3600
    for age, name in [(5 * hour, "oldest"), (4 * hour, "old"), (0, "recent")]:
        build_cache.store(build, name)
        os.utime(cache / name, (os.path.getmtime(cache / name) - age,) * 2)
    crashed = cache / ".partial-store"
    crashed.mkdir()
    os.utime(crashed, (os.path.getmtime(crashed) - 2 * hour,) * 2)
    build_cache.store(build, "newest")
    assert sorted(p.name for p in cache.iterdir()) == ["newest", "recent"]


#: Compiles a small network in the folder argv[1], runs one plastic chunk of digits and
#: saves its spikes and state to argv[2]. A process of its own, as every run is one: Brian2
#: names a network's objects after those still alive in the process.
CHUNK_SCRIPT = f"""
import sys
import numpy as np
from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import ControllerState, StandaloneSession
from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.encoding import encode
from brian_stdp.model.spec import load_model

spec = load_model("diehl_cook_2015")
rng = np.random.default_rng(3)
session = StandaloneSession(spec, {N_NEURONS}, 784, {SLOTS},
                            draw_fixed(spec, {N_NEURONS}, 784, rng), directory=sys.argv[1])
state = session.initial_state(rng)
session.compile()
stimulus = encode(load_dataset("mnist", "train").images[:{SLOTS}])
ctrl = ControllerState.fresh(spec.protocol.min_spikes)
result = session.run_chunk(stimulus, {SLOTS}, state, ctrl, plastic=True, seed=2)
session.close()
np.savez(sys.argv[2], spike_slot=result.spike_slot, spike_neuron=result.spike_neuron,
         **{{"state/" + key: value for key, value in result.state.items()}})
"""


def _chunk(directory: Path) -> dict:
    """The arrays of :data:`CHUNK_SCRIPT` run in a new process in ``directory``."""
    out = directory.with_suffix(".npz")
    subprocess.run([sys.executable, "-c", CHUNK_SCRIPT, str(directory), str(out)], check=True)
    with np.load(out) as arrays:
        return dict(arrays)


def _object_times(directory):
    """Modification times of the object files, less ``main.o``: Brian2 writes the clocks'
    start values into ``main.cpp`` in an order that varies from process to process."""
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns
            for p in Path(directory).rglob("*.o") if p.name != "main.o"}


@pytest.mark.standalone_compatible
def test_second_build_compiles_nothing_and_runs_the_same_program(cache, tmp_path):
    first = _chunk(tmp_path / "first")
    (entry,) = cache.iterdir()
    second = _chunk(tmp_path / "second")
    times = _object_times(entry)
    assert len(times) > 40 and _object_times(tmp_path / "second") == times, "none recompiled"
    assert len(first["spike_slot"]) > 0, "the comparison needs spikes"
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(second[key], first[key], err_msg=key)
