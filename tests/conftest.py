"""Session-wide settings: read MNIST from the shared folder, never download, keep
compiled programs in a build cache of this test run's own (shared by pytest-xdist's
workers, removed at the end), and give the long tests a longer timeout."""

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault(
    "BRIAN_STDP_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
)
os.environ["BRIAN_STDP_NO_DOWNLOAD"] = "1"

_BUILD_CACHE = "BRIAN_STDP_BUILD_CACHE"  # brian_stdp.backends.build_cache.CACHE_VARIABLE


#: pytest-timeout's limit (second) for the tests marked long that set none of their own; the
#: others have setup.cfg's.
LONG_TEST_TIMEOUT = 3600


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("long") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(LONG_TEST_TIMEOUT))


def pytest_configure(config):
    """In the main pytest process: a fresh build cache, unless one is set. The workers of
    pytest-xdist start after this and inherit it."""
    if hasattr(config, "workerinput") or os.environ.get(_BUILD_CACHE):
        return
    config.build_cache = tempfile.mkdtemp(prefix="brian_stdp-test-builds-")
    os.environ[_BUILD_CACHE] = config.build_cache


def pytest_unconfigure(config):
    if getattr(config, "build_cache", None):
        shutil.rmtree(config.build_cache, ignore_errors=True)
        del os.environ[_BUILD_CACHE]


@pytest.fixture
def edited_model(tmp_path):
    """``edit(source, old, new) -> path``: a copy of the model file ``source`` with the
    first ``old`` replaced by ``new`` (``old`` must be in the file)."""
    def edit(source, old, new):
        text = Path(source).read_text()
        assert old in text, f"test setup: {old!r} not in {source}"
        path = tmp_path / "edited.toml"
        path.write_text(text.replace(old, new, 1))
        return path

    return edit


@pytest.fixture
def same_run():
    """``same(run_a, run_b) -> (metrics, arrays)``: assert that two finished runs saved the
    same metrics (timing aside) and, to the bit, the same arrays (``state.npz`` and the
    checkpoint's records, ``records/KIND/KEY``); return those of ``run_b``."""
    import numpy as np

    from brian_stdp.training import rundir
    from brian_stdp.training.checkpoint import load_checkpoint

    def outputs(run_dir):
        metrics = rundir.load_json(Path(run_dir) / rundir.METRICS)
        for key in ("timing", "train_images_per_second"):
            metrics.pop(key)
        arrays = dict(rundir.load_arrays(Path(run_dir) / rundir.STATE))
        _, _, records = load_checkpoint(Path(run_dir) / rundir.CHECKPOINT)
        arrays.update({f"records/{kind}/{key}": value for kind, rec in records.items()
                       for key, value in rec.items()})
        return metrics, arrays

    def same(run_a, run_b):
        (metrics_a, arrays_a), (metrics_b, arrays_b) = outputs(run_a), outputs(run_b)
        assert metrics_a == metrics_b
        assert arrays_a.keys() == arrays_b.keys()
        for key in arrays_a:
            np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)
        return metrics_b, arrays_b

    return same


@pytest.fixture
def folder_digest():
    """``digest(folder) -> {relative path: sha256}`` of every file under ``folder``."""
    def digest(folder):
        folder = Path(folder)
        return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(folder.rglob("*")) if path.is_file()}

    return digest


@pytest.fixture
def run_code_objects():
    """``code_objects(build, name) -> text`` of the code object ``name`` (``inp_exc_pre``)
    that a standalone build's network runs, and ``code_objects(build) -> {file stem: text}``
    of all of them. Brian2 numbers the files after the code objects the process made
    before (``inp_exc_pre_codeobject_1.cpp``), and a build folder started from the build
    cache can still hold the files of another process's numbering."""
    def code_objects(build, name=None):
        build = Path(build)
        main = (build / "main.cpp").read_text()
        run = set(re.findall(r"\bnetwork\w*\.add\(&\w+, _run_(\w+)\);", main))
        texts = {stem: (build / "code_objects" / f"{stem}.cpp").read_text() for stem in run}
        if name is None:
            return texts
        (stem,) = [s for s in texts if re.fullmatch(rf"{name}_codeobject(_\d+)?", s)]
        return texts[stem]

    return code_objects
