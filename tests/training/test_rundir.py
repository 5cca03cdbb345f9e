"""Run directories: atomic writes and the refusal of a folder that holds a run."""

import numpy as np
import pytest

from brian_stdp.errors import ConfigError
from brian_stdp.training import rundir

pytestmark = pytest.mark.codegen_independent


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_leftovers(tmp_path):
    path = tmp_path / rundir.METRICS
    rundir.save_json(path, {"accuracy": 0.9})
    before = path.read_bytes()

    def half_then_crash(f):
        f.write(b'{"accuracy": 0.')
        raise KeyboardInterrupt  # a Ctrl-C (or any error) in the middle of writing

    with pytest.raises(KeyboardInterrupt):
        rundir.atomic_write(path, half_then_crash)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [rundir.METRICS], "no temporary file left"


def test_arrays_round_trip_and_replace_whole(tmp_path):
    path = tmp_path / rundir.CHECKPOINT
    rundir.save_arrays(path, {"a": np.arange(3), "b": np.ones((2, 2))})
    rundir.save_arrays(path, {"a": np.arange(5)})
    arrays = rundir.load_arrays(path)
    assert list(arrays) == ["a"]
    np.testing.assert_array_equal(arrays["a"], np.arange(5))


@pytest.mark.parametrize("name", rundir.RUN_MARKERS)
def test_each_run_file_marks_a_used_folder(tmp_path, name):
    rundir.refuse_existing_run(tmp_path, "unused")  # an empty folder is fine
    (tmp_path / "notes.txt").write_text("a user's file")
    rundir.refuse_existing_run(tmp_path, "unused")  # so is one without run files
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(ConfigError, match=rf"--out {tmp_path}: already holds a run "
                                          rf"\({name}\); continue it"):
        rundir.refuse_existing_run(tmp_path, "continue it")
