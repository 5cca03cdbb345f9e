"""Run directories: atomic writes, the refusal of a folder that holds a run, and the one
reader of ``config.json``."""

import re

import numpy as np
import pytest

from brian_stdp.errors import ConfigError
from brian_stdp.training import rundir
from brian_stdp.training.config import RunConfig, read_run_config

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


# -- the one reader of config.json ------------------------------------------------------------
#: config.json contents that are not valid run settings, with what the error must say.
BAD_CONFIGS = {
    "not an object": ("[1, 2]", r"not a JSON object of run settings"),
    "unknown key": ('{"model": "m", "neurons": 4, "neuron": 4}',
                    r"unknown key\(s\) neuron \(known: "),
    "bad value": ('{"model": "m", "neurons": 0}',
                  r"--neurons must be a positive whole number, not 0"),
    "bad type": ('{"model": "m", "neurons": 4, "keep_build": "yes"}',
                 r"--keep-build is a switch"),
}


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_a_bad_config_json_is_one_error_naming_the_file(tmp_path, case):
    text, message = BAD_CONFIGS[case]
    (tmp_path / rundir.CONFIG).write_text(text)
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(tmp_path / rundir.CONFIG))}: "
                                          rf".*{message}") as err:
        read_run_config(tmp_path)
    assert "\n" not in str(err.value)


def test_a_good_config_json_is_read_with_defaults_filled(tmp_path):
    rundir.save_json(tmp_path / rundir.CONFIG, {"neurons": 7, "train": None, "seed": 3})
    assert read_run_config(tmp_path) == RunConfig(neurons=7, train=None, seed=3)


def test_a_folder_without_config_json_is_not_a_run(tmp_path):
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(tmp_path))}: no config.json "
                                          rf"there; not a run directory"):
        read_run_config(tmp_path)


def _entry_points():
    """Every command's way into a spiking-network run directory: each reads config.json."""
    from brian_stdp.experiments.comparison.runs import load_point
    from brian_stdp.experiments.rescoring import readout_report
    from brian_stdp.training.classify import load_run
    from brian_stdp.training.trainer import resume

    return {"classify": load_run, "readout": readout_report, "compare": load_point,
            "resume": lambda run_dir: resume(run_dir, progress=False)}


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_every_entry_point_gives_the_readers_error(tmp_path, case):
    (tmp_path / rundir.CONFIG).write_text(BAD_CONFIGS[case][0])
    rundir.save_json(tmp_path / rundir.METRICS, {"history": []})  # compare reads it first
    with pytest.raises(ConfigError) as expected:
        read_run_config(tmp_path)
    for name, entry in _entry_points().items():
        with pytest.raises(ConfigError) as err:
            entry(tmp_path)
        assert str(err.value) == str(expected.value), name


def test_resume_on_the_command_line_refuses_a_bad_config_before_writing(tmp_path, capsys):
    from brian_stdp.run import main

    (tmp_path / rundir.CONFIG).write_text(BAD_CONFIGS["bad value"][0])
    with pytest.raises(ConfigError) as expected:
        read_run_config(tmp_path)
    assert main(["--resume", str(tmp_path), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {expected.value}"
    assert [p.name for p in tmp_path.iterdir()] == [rundir.CONFIG], "no log file opened"


def test_csv_rows_with_floats_to_six_digits_and_none_empty(tmp_path):
    path = tmp_path / "results.csv"
    rundir.save_csv(path, [{"a": 1, "b": 2 / 3}, {"b": None, "c": "x"}])
    assert path.read_text() == "a,b,c\n1,0.666667,\n,,x\n"
    rundir.save_csv(path, [{"b": 1.0}], columns=("a", "b"))
    assert path.read_text() == "a,b\n,1\n"
    with pytest.raises(ValueError):
        rundir.save_csv(path, [{"z": 1}], columns=("a",))
    assert path.read_text() == "a,b\n,1\n", "a failed write leaves the old file"
