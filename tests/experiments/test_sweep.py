"""Grids of runs: grid files, point names, skipping, failures, tables, figures, Dask."""

import dataclasses
import importlib.util
import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from brian_stdp.ann import cli as ann_cli
from brian_stdp.errors import ConfigError
from brian_stdp.experiments.grids.files import (LOCK, POINT_RECORD, RESULTS_CSV, RESULTS_JSON,
                                                SUMMARY_CSV, load_grid, select_points)
from brian_stdp.experiments.grids.points import (LOG_TAIL_LINES, SWEEP_CTRL_C, _failure,
                                                 _point_process_setup, point_state, run_command)
from brian_stdp.experiments.grids.results import collect
from brian_stdp.experiments.grids.runner import make_client, run_grid
from brian_stdp.run import config_from_args, parse_args
from brian_stdp.sweep import main as sweep_main
from brian_stdp.training import rundir

pytestmark = pytest.mark.codegen_independent

REPO = Path(__file__).resolve().parents[2]


def write_grid(folder: Path, text: str, name: str = "grid.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


SMALL = """
    [base]
    dataset = "digits"   # reason
    label = "all"
    test = 40
    eval_every_epoch = true
    [grid]
    model = ["diehl_cook_2015", "broken"]
    neurons = [10, 20]
    per_class = [5]
    epochs = [2]
    seed = [0, 1, 2]
"""


# -- grid files ---------------------------------------------------------------------------
def test_grid_expands_every_combination_seeds_slowest(tmp_path):
    grid = load_grid(write_grid(tmp_path, SMALL))
    assert len(grid.points) == 2 * 2 * 3
    assert [p.values["seed"] for p in grid.points] == [0] * 4 + [1] * 4 + [2] * 4
    assert len({p.name for p in grid.points}) == 12
    first = grid.points[0]
    assert first.name == "diehl_cook_2015_n10_pc5_e2_s0_cpp_standalone"
    assert first.config.per_class == 5 and first.config.train is None, \
        "per_class replaces the default train count"
    assert first.config.label is None and first.config.test == 40
    assert first.config.dataset == "digits" and first.config.eval_every_epoch
    assert grid.out == tmp_path / "grid", "out defaults to the file's path without .toml"
    assert grid.x_axis == "neurons", "the first axis with several values (not model or seed)"
    assert grid.run_dir(first) == tmp_path / "grid" / "points" / first.name


def test_per_class_grids_label_on_all_selected_images_unless_told(tmp_path):
    grid = load_grid(write_grid(tmp_path, "[grid]\nper_class = [3, 6]\n"))
    assert [(p.config.train, p.config.label) for p in grid.points] == [(None, None)] * 2
    grid = load_grid(write_grid(tmp_path, "[base]\nlabel = 20\n[grid]\nper_class = [3]\n"))
    assert grid.points[0].config.label == 20


def test_model_paths_are_relative_to_the_grid_file(tmp_path):
    (tmp_path / "models").mkdir()
    path = write_grid(tmp_path, """
        out = "results"
        [grid]
        model = ["models/copy.toml"]
        train = ["all", 100]
    """)
    grid = load_grid(path)
    assert [p.config.model for p in grid.points] == [str(tmp_path / "models" / "copy.toml")] * 2
    assert [p.config.train for p in grid.points] == [None, 100]
    assert [p.name for p in grid.points] == ["copy_n400_tall_e1_s0_cpp_standalone",
                                             "copy_n400_t100_e1_s0_cpp_standalone"]
    assert grid.out == tmp_path / "results"


@pytest.mark.parametrize("text, message", [
    ("colour = 1\n[grid]\nseed = [0]", "unknown top-level key(s) colour"),
    ("[base]\nneuron = 3\n[grid]\nseed = [0]", "[base]: unknown key 'neuron'"),
    ("[grid]\nlabel = [10]", "[grid]: unknown or fixed-only key 'label'"),
    ("[base]\nseed = 1\n[grid]\nseed = [0]", "seed given in both [base] and [grid]"),
    ("[grid]\nseed = 3", "[grid] seed: must be a non-empty list"),
    ("[grid]\nseed = []", "[grid] seed: must be a non-empty list"),
    ("[grid]\nseed = [1, 1]", "a value appears twice"),
    ("[base]\n", "[grid] is empty"),
    ("[base]\ntrain = 100\n[grid]\nper_class = [5]", "either as train or as per_class"),
    ("[grid]\nper_class = [\"all\"]", "[grid] per_class: 'all' is not a positive whole number"),
    ("[base]\ntest = -1\n[grid]\nseed = [0]", "[base] test: -1 is not a positive"),
    ("[grid]\nneurons = [0, 10]", "is invalid: --neurons must be a positive"),
    ("[grid]\ndevice = [\"abacus\"]", "is invalid: --device abacus: unknown device"),
    ("x_axis = \"epochs\"\n[grid]\nseed = [0]", "x_axis = 'epochs' is not an axis"),
    ("[grid]\nmodel = [\"a/m.toml\", \"b/m.toml\"]", "share the folder name"),
    ("[grid\n", "not valid TOML"),
])
def test_bad_grid_files_name_the_file_and_key(tmp_path, text, message):
    path = write_grid(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_grid(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_grid_file(tmp_path):
    with pytest.raises(ConfigError, match="grid file not found"):
        load_grid(tmp_path / "nothing.toml")


def test_the_point_command_asks_run_for_exactly_the_point_config(tmp_path):
    grid = load_grid(write_grid(tmp_path, """
        [base]
        label = "all"
        test = 300
        chunk = 250
        eval_every_epoch = true
        [grid]
        neurons = [30]
        per_class = [7]
    """))
    for point in grid.points + load_grid(write_grid(tmp_path, SMALL, "b.toml")).points:
        command = run_command(point, tmp_path / "run", resume=False)
        assert command[1:3] == ["-m", "brian_stdp.run"]
        args = parse_args(command[3:])
        # a grid runs its points side by side: --threads auto becomes 1 thread each
        expected = dataclasses.replace(point.config, threads=point.config.threads or 1)
        assert config_from_args(args) == expected
        assert args.out == tmp_path / "run" and args.quiet
    assert run_command(point, tmp_path / "run", resume=True)[3:] == [
        "--resume", str(tmp_path / "run"), "--quiet"]


def test_select_points(tmp_path):
    grid = load_grid(write_grid(tmp_path, SMALL))
    chosen = select_points(grid, ["model=broken", "seed=1"])
    assert [p.name for p in chosen] == ["broken_n10_pc5_e2_s1_cpp_standalone",
                                        "broken_n20_pc5_e2_s1_cpp_standalone"]
    with pytest.raises(ConfigError, match="--select colour=red: expected AXIS=VALUE"):
        select_points(grid, ["colour=red"])
    with pytest.raises(ConfigError, match="--select seed=7: no point"):
        select_points(grid, ["seed=7"])
    either = select_points(grid, ["seed=2", "model=broken", "neurons=10", "seed=0"])
    assert [p.values["seed"] for p in either] == [0, 2], "any value given for an axis"
    with pytest.raises(ConfigError, match="--select seed=7: no point"):
        select_points(grid, ["seed=1", "seed=7"])


# -- running with a fake point function ---------------------------------------------------
def fake_point(point, run_dir, cwd, resume):
    """Stands in for a run: counts its calls, fails for model "broken", else writes metrics.

    Accuracy of epoch k is (neurons + seed + k) / 100, so the seed mean is known.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    calls = run_dir / "calls"
    calls.write_text(str(int(calls.read_text()) + 1 if calls.exists() else 1))
    if resume:
        (run_dir / "resumed").touch()
    if point.config.model == "broken":
        record = {"point": point.name, "status": "failed", "returncode": 2,
                  "error": "unknown model 'broken'", "log_tail": "line 1\nerror: unknown"}
    else:
        config = dataclasses.asdict(point.config)
        rundir.save_json(run_dir / rundir.CONFIG, config)
        history = [{"epoch": k, "images_seen": 50 * k,
                    "accuracy_all_activity": (point.config.neurons + point.config.seed + k) / 100}
                   for k in range(1, point.config.epochs + 1)]
        rundir.save_json(run_dir / rundir.METRICS, {
            "label_images": 50, "test_images": 40, "history": history,
            "accuracy_all_activity": history[-1]["accuracy_all_activity"],
            "train_images_per_second": 100.0, "timing": {"compile_seconds": 1.0}})
        record = {"point": point.name, "status": "finished", "returncode": 0,
                  "wall_seconds": 0.1}
    rundir.save_json(run_dir / POINT_RECORD, record)
    return record


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                   dashboard_address=":0") as cluster,
          distributed.Client(cluster) as dask_client):
        yield dask_client


def calls(grid, point):
    return int((grid.run_dir(point) / "calls").read_text())


def test_grid_runs_records_failures_and_skips_finished_points_on_rerun(tmp_path, client):
    grid = load_grid(write_grid(tmp_path, SMALL))
    results = run_grid(grid, client, point_function=fake_point, echo=lambda line: None)
    assert results["status_counts"] == {"finished": 6, "failed": 6}
    rows = {row["point"]: row for row in results["rows"]}
    broken = rows["broken_n10_pc5_e2_s0_cpp_standalone"]
    assert broken["status"] == "failed" and broken["error"] == "unknown model 'broken'"
    assert broken["log_tail"].endswith("error: unknown")
    good = rows["diehl_cook_2015_n20_pc5_e2_s2_cpp_standalone"]
    assert good["accuracy_all_activity_epoch1"] == pytest.approx(0.23)
    assert good["accuracy_all_activity_epoch2"] == pytest.approx(0.24)

    # summary: mean over seeds 0, 1, 2 of (20 + seed + 2)/100 = 0.23, s.d. 0.01
    summary = [r for r in results["summary"] if r["neurons"] == 20 and r["epoch"] == 2]
    assert len(summary) == 1 and summary[0]["n_seeds"] == 3 and summary[0]["seeds"] == "0 1 2"
    assert summary[0]["mean"] == pytest.approx(0.23)
    assert summary[0]["std"] == pytest.approx(0.01)
    assert (summary[0]["min"], summary[0]["max"]) == pytest.approx((0.22, 0.24))

    csv_lines = (grid.out / RESULTS_CSV).read_text().splitlines()
    assert len(csv_lines) == 1 + 12 and "log_tail" not in csv_lines[0]
    assert len((grid.out / SUMMARY_CSV).read_text().splitlines()) == 1 + 2 * 2
    saved = json.loads((grid.out / RESULTS_JSON).read_text())
    assert saved["status_counts"] == results["status_counts"]
    assert len(saved["sessions"]) == 1 and saved["sessions"][0]["ran"] == 12
    assert saved["sessions"][0]["workers"] == 2
    figure = grid.out / "figures" / "accuracy_vs_neurons_accuracy_all_activity.png"
    assert figure.stat().st_size > 0
    assert not (grid.out / LOCK).exists(), "the lock is released"

    finished = [p for p in grid.points if p.config.model != "broken"]
    failed = [p for p in grid.points if p.config.model == "broken"]
    mtimes = {p.name: (grid.run_dir(p) / rundir.METRICS).stat().st_mtime_ns for p in finished}
    again = run_grid(grid, client, point_function=fake_point, echo=lambda line: None)
    assert all(calls(grid, p) == 1 for p in finished), "finished points are not run again"
    assert all((grid.run_dir(p) / rundir.METRICS).stat().st_mtime_ns == mtimes[p.name]
               for p in finished)
    assert all(calls(grid, p) == 2 for p in failed), "failed points are tried again"
    last = again["sessions"][-1]
    assert len(again["sessions"]) == 2
    assert (last["skipped_finished"], last["ran"], last["failed"]) == (6, 6, 6)
    assert again["wall_seconds_total"] == pytest.approx(
        sum(s["wall_seconds"] for s in again["sessions"]), abs=0.11)


def test_the_wall_time_of_a_stopped_sweep_is_kept(tmp_path, client):
    grid = load_grid(write_grid(tmp_path, "[grid]\nneurons = [10]\n"))
    grid.out.mkdir()
    rundir.save_json(grid.out / RESULTS_JSON,
                     {"sessions": [], "running": {"wall_seconds": 30.0, "ran": 3}})
    results = run_grid(grid, client, point_function=fake_point, echo=lambda line: None)
    assert [s.get("interrupted", False) for s in results["sessions"]] == [True, False]
    assert results["sessions"][0]["wall_seconds"] == 30.0
    assert "running" not in results
    assert results["wall_seconds_total"] >= 30.0


def crashing_point(point, run_dir, cwd, resume):
    raise RuntimeError("worker lost")


def test_a_task_that_raises_is_recorded_as_failed(tmp_path, client):
    grid = load_grid(write_grid(tmp_path, "[grid]\nneurons = [10, 20]\n"))
    results = run_grid(grid, client, point_function=crashing_point,
                             echo=lambda line: None)
    assert results["status_counts"] == {"failed": 2}
    assert {row["error"] for row in results["rows"]} == {"RuntimeError: worker lost"}


def test_selection_runs_only_the_chosen_points(tmp_path, client):
    grid = load_grid(write_grid(tmp_path, SMALL))
    results = run_grid(grid, client, ["model=diehl_cook_2015", "seed=0"],
                             point_function=fake_point, echo=lambda line: None)
    assert results["status_counts"] == {"finished": 2, "pending": 10}


def test_interrupted_points_are_resumed(tmp_path, client):
    grid = load_grid(write_grid(tmp_path, "[grid]\nneurons = [10]\n"))
    point = grid.points[0]
    run_dir = grid.run_dir(point)
    run_dir.mkdir(parents=True)
    rundir.save_json(run_dir / rundir.CONFIG, dataclasses.asdict(point.config))
    (run_dir / rundir.CHECKPOINT).write_bytes(b"")
    assert point_state(grid, point) == "interrupted"
    run_grid(grid, client, point_function=fake_point, echo=lambda line: None)
    assert (run_dir / "resumed").exists(), "the point function was asked to resume"


def test_a_folder_made_with_other_settings_is_refused(tmp_path, client):
    grid = load_grid(write_grid(tmp_path, "[base]\ntest = 40\n[grid]\nneurons = [10]\n"))
    run_grid(grid, client, point_function=fake_point, echo=lambda line: None)
    changed = load_grid(write_grid(tmp_path, "[base]\ntest = 80\n[grid]\nneurons = [10]\n"))
    with pytest.raises(ConfigError, match=r"test: 40 there, 80 now.*delete that folder"):
        run_grid(changed, client, point_function=fake_point, echo=lambda line: None)
    assert collect(changed)[0]["status"] == "stale"


def test_a_setting_added_after_a_run_counts_as_its_default(tmp_path, client):
    """A finished point whose config.json predates a setting (here --silence-below) is
    still the point; a grid that asks for another value of it is refused."""
    grid = load_grid(write_grid(tmp_path, "[grid]\nneurons = [10]\n"))
    run_grid(grid, client, point_function=fake_point, echo=lambda line: None)
    run_dir = grid.run_dir(grid.points[0])
    saved = rundir.load_json(run_dir / rundir.CONFIG)
    del saved["silence_below"]
    rundir.save_json(run_dir / rundir.CONFIG, saved)
    assert collect(grid)[0]["status"] == "finished"
    changed = load_grid(write_grid(tmp_path, "[base]\nsilence_below = 2\n"
                                             "[grid]\nneurons = [10]\n"))
    assert changed.points[0].name.endswith("_s0_silence2_cpp_standalone")
    assert changed.run_dir(changed.points[0]) != run_dir


MODEL_V1 = """# version 1
[model]
title = "a model"
deviations = ["one"]
[parameters]
tau = "10*ms"  # a time constant
"""


def _finished_point_with_model(tmp_path, client, text):
    model = tmp_path / "m.toml"
    model.write_text(text)
    grid = load_grid(write_grid(tmp_path, "[grid]\nmodel = [\"m.toml\"]\n"))
    run_grid(grid, client, point_function=fake_point, echo=lambda line: None)
    (grid.run_dir(grid.points[0]) / rundir.MODEL_COPY).write_text(text)  # as the trainer does
    assert point_state(grid, grid.points[0]) == "finished"
    return grid, model


def test_a_point_made_with_another_version_of_its_model_is_refused(tmp_path, client):
    grid, model = _finished_point_with_model(tmp_path, client, MODEL_V1)
    model.write_text(MODEL_V1.replace("10*ms", "20*ms"))
    with pytest.raises(ConfigError, match="another version of the model file"):
        point_state(grid, grid.points[0])
    model.write_text(MODEL_V1)
    copy = grid.run_dir(grid.points[0]) / rundir.MODEL_COPY
    copy.write_text("[parameters\n")  # a garbled copy matches no version
    with pytest.raises(ConfigError, match="another version of the model file"):
        point_state(grid, grid.points[0])


def test_comments_title_and_deviations_of_its_model_may_change(tmp_path, client):
    grid, model = _finished_point_with_model(tmp_path, client, MODEL_V1)
    model.write_text(MODEL_V1.replace("# version 1", "# version 2")
                     .replace("a time constant", "the time constant")
                     .replace('"a model"', '"the model"').replace('["one"]', '["one", "two"]'))
    assert point_state(grid, grid.points[0]) == "finished"


def test_a_second_sweep_on_the_same_grid_is_refused(tmp_path, client):
    grid = load_grid(write_grid(tmp_path, "[grid]\nneurons = [10]\n"))
    grid.out.mkdir()
    (grid.out / LOCK).write_text(str(os.getpid()))  # this process: alive
    with pytest.raises(ConfigError, match="another sweep"):
        run_grid(grid, client, point_function=fake_point, echo=lambda line: None)
    (grid.out / LOCK).write_text("999999999")  # no such process: a stale lock
    assert run_grid(grid, client, point_function=fake_point,
                          echo=lambda line: None)["status_counts"] == {"finished": 1}


def test_client_options_are_checked():
    with pytest.raises(ConfigError, match="--workers must be a positive whole number, not 0"):
        make_client(workers=0)
    with pytest.raises(ConfigError, match="with --scheduler the cluster decides"):
        make_client(workers=2, scheduler="tcp://127.0.0.1:1")


def test_command_line_errors_are_one_line(tmp_path, capsys):
    assert sweep_main([str(tmp_path / "missing.toml")]) == 2
    assert "grid file not found" in capsys.readouterr().err
    path = write_grid(tmp_path, SMALL)
    assert sweep_main([str(path), "--select", "seed=9"]) == 2
    assert "--select seed=9: no point" in capsys.readouterr().err


def test_list_and_report_need_no_cluster(tmp_path, capsys, client):
    path = write_grid(tmp_path, SMALL)
    grid = load_grid(path)
    run_grid(grid, client, ["model=diehl_cook_2015"], point_function=fake_point,
                   echo=lambda line: None)
    assert sweep_main([str(path), "--list", "--select", "seed=0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert sum(line.startswith("finished") for line in lines) == 2
    assert sum(line.startswith("pending") for line in lines) == 2
    (grid.out / RESULTS_CSV).unlink()
    assert sweep_main([str(path), "--report"]) == 0
    assert len((grid.out / RESULTS_CSV).read_text().splitlines()) == 13


def test_a_point_whose_folder_is_gone_keeps_its_finished_row(tmp_path, client):
    # The committed grids keep only the table of some runs: --report must not turn their
    # rows into pending ones.
    path = write_grid(tmp_path, SMALL)
    grid = load_grid(path)
    run_grid(grid, client, ["model=diehl_cook_2015"], point_function=fake_point,
             echo=lambda line: None)
    before = {row["point"]: row for row in json.loads((grid.out / RESULTS_JSON).read_text())
              ["rows"]}
    gone = next(p for p in grid.points if before[p.name]["status"] == "finished")
    shutil.rmtree(grid.run_dir(gone))
    assert sweep_main([str(path), "--report"]) == 0
    after = {row["point"]: row for row in json.loads((grid.out / RESULTS_JSON).read_text())
             ["rows"]}
    assert after[gone.name] == before[gone.name]
    assert after == before
    # once its folder holds a run again, the folder's figures count
    fake_point(gone, grid.run_dir(gone), None, False)
    (grid.run_dir(gone) / rundir.METRICS).write_text(json.dumps({
        **json.loads((grid.run_dir(gone) / rundir.METRICS).read_text()),
        "accuracy_all_activity": 0.5}))
    assert sweep_main([str(path), "--report"]) == 0
    rows = {row["point"]: row for row in json.loads((grid.out / RESULTS_JSON).read_text())
            ["rows"]}
    assert rows[gone.name]["accuracy_all_activity"] == 0.5


def test_failure_record_keeps_the_error_line_and_the_output_tail(tmp_path):
    output = tmp_path / "out.txt"
    output.write_text("".join(f"line {i}\n" for i in range(30)) + "error: bad thing\n")
    failure = _failure(output, 2)
    assert failure["error"] == "bad thing"
    assert failure["log_tail"].splitlines()[-1] == "error: bad thing"
    assert len(failure["log_tail"].splitlines()) == LOG_TAIL_LINES
    output.write_text("Segmentation fault\n")
    assert _failure(output, -11)["error"] == "killed by signal 11: Segmentation fault"


def test_a_genn_point_runs_in_the_genn_environment(tmp_path, monkeypatch):
    """A grid run from the main environment runs its genn points (and their resumption)
    with the GeNN environment's Python, and its other points with this one."""
    import sys

    from brian_stdp.backends.devices import genn

    if importlib.util.find_spec("brian2genn") is not None:
        pytest.skip("brian2genn is importable here: every point runs in this environment")
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text("")
    monkeypatch.setenv("BRIAN_STDP_GENN_PYTHON", str(python))
    assert genn.python_elsewhere() == python
    grid = load_grid(write_grid(tmp_path, """
        [base]
        dataset = "digits"
        [grid]
        device = ["cpp_standalone", "genn"]
    """))
    pythons = {point.config.device: (run_command(point, tmp_path, resume=False)[0],
                                     run_command(point, tmp_path, resume=True)[0])
               for point in grid.points}
    assert pythons == {"cpp_standalone": (sys.executable, sys.executable),
                       "genn": (str(python), str(python))}


def test_shipped_grids_are_valid():
    fig3 = load_grid(REPO / "runs" / "grid_fig3.toml")
    assert fig3.axes["neurons"] == [10, 50, 100, 200, 400, 800, 1000]
    assert {p.config.per_class for p in fig3.points} == {80}
    assert {p.config.epochs for p in fig3.points} == {5}
    assert all(p.config.eval_every_epoch for p in fig3.points)
    assert len(fig3.axes["seed"]) >= 3 and len(fig3.axes["model"]) == 2
    fig2 = load_grid(REPO / "runs" / "grid_fig2.toml")
    assert fig2.axes["per_class"][:6] == [10, 20, 40, 80, 160, 320]
    assert {p.config.neurons for p in fig2.points} == {800}
    assert len(fig2.axes["seed"]) >= 3 and len(fig2.axes["model"]) == 2


@pytest.mark.parametrize("path", sorted((REPO / "runs").glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_and_grid_is_valid(path):
    """A grid file (with [grid]) loads as a grid, any other file as a run config."""
    from brian_stdp.backends import devices

    if ('"genn"' in path.read_text() and devices.device_problem("genn")
            and devices.get("genn").python_elsewhere() is None):
        pytest.skip(f"{path.name} has points on genn, which neither this environment nor a "
                    f".venv-genn can run")
    if "[grid]" in path.read_text():
        grid = load_grid(path)
        assert grid.points and grid.out == REPO / "runs" / path.stem
    else:
        config_from_args(parse_args(["--config", str(path)])).check()


# -- the real thing: two points on digits, two worker processes --------------------------
@pytest.mark.long
@pytest.mark.standalone_compatible
def test_tiny_digits_grid_on_a_local_cluster(tmp_path):
    """One point trains on digits, one names a model that does not exist; re-run skips."""
    path = write_grid(tmp_path, """
        [base]
        dataset = "digits"
        train = 40
        label = "all"
        test = 30
        [grid]
        model = ["diehl_cook_2015", "no_such_model"]
        neurons = [10]
    """)
    grid = load_grid(path)
    client = make_client(workers=2)
    try:
        results = run_grid(grid, client, cwd=REPO, echo=lambda line: None)
        rows = {row["model"]: row for row in results["rows"]}
        assert rows["diehl_cook_2015"]["status"] == "finished"
        assert 0 <= rows["diehl_cook_2015"]["accuracy_all_activity"] <= 1
        assert rows["no_such_model"]["status"] == "failed"
        assert "unknown model 'no_such_model'" in rows["no_such_model"]["error"]
        good = grid.run_dir(grid.points[0])
        assert not (good / "build").exists(), "the point's build folder was its own, removed"
        mtime = (good / rundir.METRICS).stat().st_mtime_ns
        again = run_grid(grid, client, cwd=REPO, echo=lambda line: None)
        assert (good / rundir.METRICS).stat().st_mtime_ns == mtime
        assert again["sessions"][-1]["skipped_finished"] == 1
        assert again["sessions"][-1]["ran"] == 1
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()


# -- grids of ANNs (kind = "ann") ---------------------------------------------------------
ANN_SMALL = """
    kind = "ann"
    [base]
    dataset = "digits"
    epochs = 2
    lr = 0.05
    per_class = 20
    [grid]
    hidden = ["8", "8,8"]
    optimizer = ["sgd", "adam"]
    seed = [0, 1]
"""


def test_ann_grid_points_are_ann_configs_named_as_ann_runs(tmp_path):
    from brian_stdp.ann.baseline import AnnConfig

    grid = load_grid(write_grid(tmp_path, ANN_SMALL))
    assert grid.kind.name == "ann" and grid.x_axis == "hidden"
    assert len(grid.points) == 8
    first = grid.points[0]
    assert first.config == AnnConfig(dataset="digits", epochs=2, lr=0.05, per_class=20,
                                     hidden=(8,), optimizer="sgd", seed=0)
    assert first.values["hidden"] == "8" and grid.points[1].values["hidden"] == "8,8"
    assert [p.name for p in grid.points[:4]] == [
        "digits_pc20_h8_lr0.05_e2_seed0", "digits_pc20_h8-8_lr0.05_e2_seed0",
        "digits_pc20_h8_adam_lr0.05_e2_seed0", "digits_pc20_h8-8_adam_lr0.05_e2_seed0"]
    chosen = select_points(grid, ["hidden=8,8", "optimizer=adam"])
    assert [p.name for p in chosen] == ["digits_pc20_h8-8_adam_lr0.05_e2_seed0",
                                        "digits_pc20_h8-8_adam_lr0.05_e2_seed1"]


def test_the_ann_point_command_asks_for_exactly_the_point_config(tmp_path):

    grid = load_grid(write_grid(tmp_path, ANN_SMALL + "    \n"))
    full = load_grid(REPO / "runs" / "ann_fig1.toml")
    for point in grid.points + full.points[:2]:
        command = run_command(point, tmp_path / "run", resume=False)
        assert command[1:3] == ["-m", "brian_stdp.ann"]
        args = ann_cli.parser().parse_args(command[3:])
        assert ann_cli.config_from_args(args) == point.config
        assert args.out == tmp_path / "run" and args.quiet


@pytest.mark.parametrize("text, message", [
    ("kind = \"cnn\"\n[grid]\nseed = [0]", "kind = 'cnn' is not a kind of run"),
    ("kind = \"ann\"\n[grid]\nneurons = [10]", "[grid]: unknown or fixed-only key 'neurons'"),
    ("kind = \"ann\"\n[base]\nlabel = 10\n[grid]\nseed = [0]",
     "[base]: unknown key 'label' for kind 'ann'"),
    ("kind = \"ann\"\n[grid]\nhidden = [\"16\", \"16,0\"]", "at least one unit"),
    ("kind = \"ann\"\n[grid]\noptimizer = [\"adagrad\"]", "--optimizer adagrad: unknown"),
    ("kind = \"ann\"\n[grid]\nhidden = [\"16\", \"16\"]", "a value appears twice"),
])
def test_bad_ann_grid_files_name_the_file_and_key(tmp_path, text, message):
    path = write_grid(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_grid(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_an_ann_folder_made_with_other_settings_is_refused(tmp_path):
    grid = load_grid(write_grid(tmp_path, ANN_SMALL))
    point = grid.points[0]
    run_dir = grid.run_dir(point)
    run_dir.mkdir(parents=True)
    saved = dict(point.config.to_dict(), threads=4, data_dir="/elsewhere")
    rundir.save_json(run_dir / rundir.CONFIG, saved)
    assert point_state(grid, point) == "pending", "threads and data_dir do not matter"
    rundir.save_json(run_dir / rundir.METRICS, {})
    assert point_state(grid, point) == "finished"
    rundir.save_json(run_dir / rundir.CONFIG, dict(saved, lr=0.5))
    with pytest.raises(ConfigError, match=r"lr: 0.5 there, 0.05 now"):
        point_state(grid, point)


def test_shipped_ann_grids_are_the_paper_table_with_three_seeds():
    from brian_stdp.ann.baseline import PAPER_CONFIGURATIONS

    for name, per_class, optimizers in (("ann_fig1", None, {"sgd"}),
                                        ("ann_pc80", 80, {"sgd", "adam"})):
        grid = load_grid(REPO / "runs" / f"{name}.toml")
        configs = [p.config for p in grid.points]
        assert grid.kind.name == "ann" and grid.out == REPO / "runs" / name
        assert {c.hidden for c in configs} == set(PAPER_CONFIGURATIONS)
        assert len(configs) == 6 * 3 * len(optimizers)
        assert {c.seed for c in configs} == {0, 1, 2}
        assert {c.optimizer for c in configs} == optimizers
        assert all((c.lr, c.batch, c.epochs, c.dataset, c.train, c.per_class, c.test)
                   == (0.001, 64, 15, "mnist", None, per_class, None) for c in configs)


def test_ann_figures_put_hidden_layers_on_a_category_axis(tmp_path, client):
    def fake_ann(point, run_dir, cwd, resume):
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        rundir.save_json(run_dir / rundir.CONFIG, point.config.to_dict())
        units = sum(point.config.hidden)
        history = [{"epoch": k, "accuracy_train": (units + k) / 100,
                    "accuracy_test": (units + k + point.config.seed) / 100}
                   for k in range(1, 3)]
        rundir.save_json(run_dir / rundir.METRICS, {
            "train_images": 200, "test_images": 100, "accuracy": history[-1]["accuracy_test"],
            "best_accuracy": history[-1]["accuracy_test"], "best_epoch": 2,
            "parameters": 10, "macs_per_image": 5, "history": history,
            "timing": {"train_seconds_per_epoch_median": 0.5},
            "train_images_per_second": 400.0})
        return {"point": point.name, "status": "finished", "returncode": 0}

    grid = load_grid(write_grid(tmp_path, ANN_SMALL))
    results = run_grid(grid, client, point_function=fake_ann, echo=lambda line: None)
    assert results["kind"] == "ann" and results["status_counts"] == {"finished": 8}
    row = results["rows"][1]
    assert (row["hidden"], row["accuracy_test"], row["accuracy_train_epoch1"]) == (
        "8,8", pytest.approx(0.18), pytest.approx(0.17))
    summary = [r for r in results["summary"] if r["hidden"] == "8,8"
               and r["optimizer"] == "adam" and r["metric"] == "accuracy_test"
               and r["epoch"] == 2]
    assert len(summary) == 1 and summary[0]["mean"] == pytest.approx(0.185)
    names = sorted(p.name for p in (grid.out / "figures").iterdir())
    assert names == ["accuracy_vs_hidden_accuracy_test.png",
                     "accuracy_vs_hidden_accuracy_test_last_epoch.png",
                     "accuracy_vs_hidden_accuracy_train.png",
                     "accuracy_vs_hidden_accuracy_train_last_epoch.png"]


@pytest.mark.standalone_compatible
def test_ann_points_run_as_processes_and_rerun_skips_them(tmp_path, client):
    """Two real ``python -m brian_stdp.ann`` points on digits; an unfinished one starts over."""
    pytest.importorskip("tensorflow", reason="the ANN baseline needs pip install -e '.[ann]'")
    grid = load_grid(write_grid(tmp_path, """
        kind = "ann"
        [base]
        dataset = "digits"
        epochs = 1
        test = 100
        optimizer = "adam"
        lr = 0.01
        [grid]
        hidden = ["16", "32"]
    """))
    stale = grid.run_dir(grid.points[1])
    stale.mkdir(parents=True)
    (stale / rundir.LOG).write_text("a run that was stopped\n")
    results = run_grid(grid, client, cwd=REPO, echo=lambda line: None)
    assert results["status_counts"] == {"finished": 2}, results["rows"]
    for row in results["rows"]:
        assert row["accuracy_test"] > 0.5, "digits: chance is 0.1"
        assert row["test_images"] == 100
    assert "stopped" not in (stale / rundir.LOG).read_text(), "the unfinished run started over"
    mtime = (stale / rundir.METRICS).stat().st_mtime_ns
    again = run_grid(grid, client, cwd=REPO, echo=lambda line: None)
    assert again["sessions"][-1]["skipped_finished"] == 2 and again["sessions"][-1]["ran"] == 0
    assert (stale / rundir.METRICS).stat().st_mtime_ns == mtime


# -- Ctrl-C -------------------------------------------------------------------------------
def test_planning_a_grid_does_not_import_brian2(tmp_path):
    """Brian2 installs its own Ctrl-C handler on import; the sweep process must not get it."""
    import subprocess
    import sys

    path = write_grid(tmp_path, SMALL)
    code = ("import sys; import brian_stdp.sweep; "
            "from brian_stdp.experiments.grids.files import load_grid; "
            "from brian_stdp.experiments.grids.points import point_state; "
            "from brian_stdp.experiments.grids.results import write_results; "
            "g = load_grid(sys.argv[1]); [point_state(g, p) for p in g.points]; "
            "write_results(g); print('brian2' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                            text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("sweep_answer, child_sees", [("stop", "interrupt"),
                                                      ("ignore", "ignore")])
def test_point_processes_answer_ctrl_c_as_the_sweep_does(monkeypatch, sweep_answer,
                                                         child_sees):
    import signal
    import subprocess
    import sys

    monkeypatch.setenv(SWEEP_CTRL_C, sweep_answer)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a Dask worker
    try:
        result = subprocess.run(
            [sys.executable, "-c", "import signal; h = signal.getsignal(signal.SIGINT); "
             "print('interrupt' if h is signal.default_int_handler else "
             "'ignore' if h == signal.SIG_IGN else h)"],
            capture_output=True, text=True, preexec_fn=_point_process_setup, timeout=60)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.stdout.strip() == child_sees
