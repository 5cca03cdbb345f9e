"""The SNN-vs-ANN comparison: reading runs of both kinds, the proxies, grouping, missing
points, and the report on small result folders written here."""

import csv
import dataclasses
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from brian_stdp.ann import baseline as ann
from brian_stdp.compare import main as compare_main
from brian_stdp.data.datasets import TRAIN_SIZES, load_dataset
from brian_stdp.errors import ConfigError, DataError
from brian_stdp.experiments.comparison.anchors import ANCHORS, Anchor, anchor_table
from brian_stdp.experiments.comparison.grid_rows import GRID_ENERGY_NOTE, load_grid_points
from brian_stdp.experiments.comparison.groups import group_points
from brian_stdp.experiments.comparison.inputs import collect_points, find_run_dirs
from brian_stdp.experiments.comparison.report import FIGURES, make_report, missing_points
from brian_stdp.experiments.comparison.runs import (INPUT_SIZE, LAST_WINNER, load_point,
                                                    load_points, patch_wiring)
from brian_stdp.experiments.grids.kinds import KINDS
from brian_stdp.model.files import model_label
from brian_stdp.training import rundir
from brian_stdp.training.trainer import RunConfig

REPO = Path(__file__).resolve().parents[2]


def write_snn_run(run_dir, neurons, per_class=None, seed=0, accuracies=(0.5,),
                  spikes=None, input_spikes=2_000_000, test_images=1000, train=None):
    """A finished SNN run directory in the trainer's format, with chosen numbers (one
    history entry per accuracy; ``spikes`` per image after each epoch, 10 by default)."""
    spikes = (10.0,) * len(accuracies) if spikes is None else spikes
    config = dataclasses.replace(RunConfig(), neurons=neurons, per_class=per_class, seed=seed,
                                 train=train, epochs=len(accuracies), test=test_images,
                                 eval_every_epoch=len(accuracies) > 1)
    train_images = 10 * per_class if per_class else (train or 60000)
    history = [{"epoch": epoch, "images_seen": epoch * train_images,
                "accuracy_all_activity": accuracy, "accuracy_proportion_weighting": accuracy,
                "mean_spikes_per_image": spike_count}
               for epoch, (accuracy, spike_count) in enumerate(zip(accuracies, spikes,
                                                                      strict=True), 1)]
    timing = {"compile_seconds": 20.0}
    for epoch in range(1, len(accuracies) + 1):
        timing[f"train-{epoch}"] = {"seconds": 100.0 * epoch, "images": train_images,
                                    "input_spikes": 1}
        timing[f"test-{epoch}"] = {"seconds": 10.0, "images": test_images,
                                   "input_spikes": input_spikes}
    train_seconds = sum(value["seconds"] for key, value in timing.items()
                        if key.startswith("train-"))
    metrics = {"model": "diehl_cook_2015", "neurons": neurons, "dataset": "mnist",
               "train_images": train_images, "epochs": len(accuracies),
               "label_images": train_images, "test_images": test_images,
               "accuracy_all_activity": accuracies[-1], "history": history, "timing": timing,
               "train_images_per_second": len(accuracies) * train_images / train_seconds}
    rundir.save_json(Path(run_dir) / rundir.CONFIG, dataclasses.asdict(config))
    rundir.save_json(Path(run_dir) / rundir.METRICS, metrics)
    return Path(run_dir)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Two real ANN runs (digits data, 2 seeds) and four SNN run folders."""
    pytest.importorskip("tensorflow")
    root = tmp_path_factory.mktemp("results")
    for seed in (0, 1):
        ann.train(ann.AnnConfig(dataset="digits", hidden=(8, 8), per_class=80, epochs=2,
                                optimizer="adam", lr=0.01, seed=seed),
                  root / "ann" / f"pc80_h8-8_seed{seed}", progress=False)
    snn = root / "snn"
    write_snn_run(snn / "n100_pc80_s0", 100, per_class=80, seed=0,
                  accuracies=(0.60, 0.70, 0.65), spikes=(12.0, 11.0, 10.0))
    write_snn_run(snn / "n100_pc80_s1", 100, per_class=80, seed=1,
                  accuracies=(0.50, 0.55, 0.75), spikes=(12.0, 11.0, 10.0))
    write_snn_run(snn / "n400_all", 400, accuracies=(0.9,), spikes=(20.0,),
                  input_spikes=23_000_000, test_images=10000)
    write_snn_run(snn / "n400_first1000", 400, train=1000)
    return root


def test_snn_point_numbers(results):
    point = load_point(results / "snn" / "n100_pc80_s1")
    assert (point.kind, point.neurons, point.data, point.seed) == ("snn", 100, "pc80", 1)
    assert point.accuracy_epoch1 == 0.50
    assert (point.best_epoch, point.best_accuracy) == (3, 0.75)
    assert point.seconds_per_epoch == pytest.approx((100 + 200 + 300) / 3)
    assert point.parameters == 784 * 100 + 100  # plastic weights + adaptive thresholds
    # 2e6 input spikes / 1000 images x 100 synapses each + 10 exc. spikes x (1 + 99)
    assert point.energy_per_image == pytest.approx(2000 * 100 + 10 * 100)
    assert point.energy_unit == "synaptic events" and point.notes == []


def test_a_silenced_evaluation_is_named_apart(tmp_path):
    run_dir = write_snn_run(tmp_path / "run", 400)
    assert load_point(run_dir).architecture == "diehl_cook_2015"
    config = rundir.load_json(run_dir / rundir.CONFIG)
    rundir.save_json(run_dir / rundir.CONFIG, {**config, "silence_below": 10})
    assert load_point(run_dir).architecture == "diehl_cook_2015, --silence-below 10"


def test_ann_point_numbers(results):
    run_dir = results / "ann" / "pc80_h8-8_seed1"
    point = load_point(run_dir)
    metrics = rundir.load_json(run_dir / rundir.METRICS)
    assert (point.kind, point.architecture, point.neurons, point.layers) == ("ann", "8-8", 16,
                                                                             2)
    assert (point.data, point.train_images, point.test_images) == ("pc80", 800, 450)
    assert point.parameters == 64 * 8 + 8 + 8 * 8 + 8 + 8 * 10 + 10
    assert point.energy_per_image == 64 * 8 + 8 * 8 + 8 * 10 and point.energy_unit == "MAC"
    assert point.accuracy_epoch1 == metrics["history"][0]["accuracy_test"]
    assert point.best_accuracy == metrics["best_accuracy"]


def test_snn_run_without_spike_records_gets_a_note_not_a_number(tmp_path):
    run_dir = write_snn_run(tmp_path / "old", 50)
    metrics = rundir.load_json(run_dir / rundir.METRICS)
    del metrics["timing"]["test-1"]["input_spikes"]
    rundir.save_json(run_dir / rundir.METRICS, metrics)
    point = load_point(run_dir)
    assert point.energy_per_image is None
    assert point.notes == ["energy proxy: input spikes of the test phase not recorded"]


def test_grouping_and_missing_points(results):
    points = [load_point(d) for d in find_run_dirs([results])]
    assert len(points) == 6
    groups = group_points(points)
    assert set(groups) == {("digits", "pc80"), ("mnist", "pc80"), ("mnist", "all"),
                           ("mnist", "first1000")}
    (ann_group,) = groups[("digits", "pc80")].values()
    assert ann_group.seeds == [0, 1]
    (snn_group,) = groups[("mnist", "pc80")].values()
    assert snn_group.mean(lambda p: p.accuracy_epoch1) == pytest.approx(0.55)
    assert snn_group.spread(lambda p: p.best_accuracy) == (0.70, 0.75)
    assert missing_points(groups, "mnist", "all") == [
        "no ANN run on the full training set among the inputs",
        "no SNN of the study's sizes 10, 50, 100, 200, 800, 1000 neurons"]
    assert missing_points(groups, "digits", "pc80") == ["no SNN run on 80 images per class "
                                                        "among the inputs"]


def test_report_files(results, tmp_path):
    out = tmp_path / "compare"
    assert compare_main([str(results / "snn"), str(results / "ann" / "pc80_h8-8_seed0"),
                         "--out", str(out)]) == 0
    for name in FIGURES[1:] + ("report.md", "points.csv", "summary.csv"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / FIGURES[0]).exists(), "no full-set ANN runs: no Fig. 1"
    report = (out / "report.md").read_text()
    assert "Fig. 1 not drawn: no ANN runs on the full training set" in report
    assert "### Training on 80 images per class" in report
    assert "Missing: no ANN run on 80 images per class among the inputs" in report
    assert "### Training on the first 1000 training images" in report
    assert "Runs on digits are only in `points.csv`" in report
    with open(out / "points.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5
    assert {row["kind"] for row in rows} == {"ann", "snn"}
    with open(out / "summary.csv") as f:
        summary = {(r["dataset"], r["data"], r["neurons"]): r for r in csv.DictReader(f)}
    row = summary[("mnist", "pc80", "100")]
    assert float(row["accuracy_epoch1_mean"]) == pytest.approx(0.55)
    assert row["seeds"] == "0 1" and row["best_epochs"] == "2 3"


def test_anchors_sit_beside_every_run_of_their_family_and_size(tmp_path):
    """Each published figure gets one line per model of its family and size trained on the
    full set (after epoch 1, with the difference in points), none chosen by its test
    accuracy; another family, another size or another selection is not matched; a figure
    without runs says so."""
    for seed, accuracy in ((0, 0.90), (1, 0.92)):
        write_snn_run(tmp_path / f"default_s{seed}", 400, seed=seed, accuracies=(accuracy,))
    variant = write_snn_run(tmp_path / "variant", 400, accuracies=(0.93,))
    for name in (rundir.METRICS, rundir.CONFIG):  # the run of another model file
        rundir.save_json(variant / name, {**rundir.load_json(variant / name),
                                          "model": "diehl_cook_2015_x"})
    write_snn_run(tmp_path / "small_set", 400, per_class=80, accuracies=(0.99,))
    write_snn_run(tmp_path / "other_size", 100, accuracies=(0.80,))
    groups = group_points([load_point(d) for d in find_run_dirs([tmp_path])])
    anchors = (Anchor("Paper A", "diehl_cook_2015", "D&C", 400, 0.87),
               Anchor("Paper B", "lc_snn", "LC-SNN", 400, 0.95, 1))
    lines = anchor_table(groups[("mnist", "all")], anchors)
    assert lines[2:] == [
        "| Paper A | D&C | 400 | 87.00 | as published | `diehl_cook_2015` (0,1) | 1 | 91.00 ± 1.41 | +4.00 |",
        "| Paper A | D&C | 400 | 87.00 | as published | `diehl_cook_2015_x` (0) | 1 | 93.00 | +6.00 |",
        "| Paper B | LC-SNN | 400 | 95.00 | 1 epoch | not run | | | |"]


def test_longer_runs_meet_figures_of_longer_training_after_every_evaluated_epoch(tmp_path):
    """A run of three epochs sits beside a figure trained as published after each of them
    (the middle one too: none is picked), beside a one-epoch figure only after epoch 1;
    evaluated only after its last epoch, it meets only the former, and a one-epoch figure
    finds no run."""
    write_snn_run(tmp_path / "every_epoch", 400, accuracies=(0.90, 0.94, 0.93))
    last_only = write_snn_run(tmp_path / "last_only" / "run", 1600, accuracies=(0.91, 0.95))
    metrics = rundir.load_json(last_only / rundir.METRICS)
    metrics["history"] = metrics["history"][1:]  # evaluated after epoch 2 only
    rundir.save_json(last_only / rundir.METRICS, metrics)
    groups = group_points([load_point(d) for d in find_run_dirs([tmp_path])])
    anchors = (Anchor("Paper A", "diehl_cook_2015", "D&C", 400, 0.87),
               Anchor("Paper B", "diehl_cook_2015", "D&C", 400, 0.92, 1),
               Anchor("Paper A", "diehl_cook_2015", "D&C", 1600, 0.92),
               Anchor("Paper B", "diehl_cook_2015", "D&C", 1600, 0.92, 1))
    lines = anchor_table(groups[("mnist", "all")], anchors)
    assert lines[2:] == [
        "| Paper A | D&C | 400 | 87.00 | as published | `diehl_cook_2015` (0) | 1 | 90.00 | +3.00 |",
        "| Paper A | D&C | 400 | 87.00 | as published | `diehl_cook_2015` (0) | 2 | 94.00 | +7.00 |",
        "| Paper A | D&C | 400 | 87.00 | as published | `diehl_cook_2015` (0) | 3 | 93.00 | +6.00 |",
        "| Paper B | D&C | 400 | 92.00 | 1 epoch | `diehl_cook_2015` (0) | 1 | 90.00 | -2.00 |",
        "| Paper A | D&C | 1,600 | 92.00 | as published | `diehl_cook_2015` (0) | 2 | 95.00 | +3.00 |",
        "| Paper B | D&C | 1,600 | 92.00 | 1 epoch | not run | | | |"]


def test_fig4_draws_the_anchors_on_the_full_set_panel_only(tmp_path):
    from brian_stdp.plots.comparison_figures import plot_fig4

    write_snn_run(tmp_path / "all", 400, accuracies=(0.9,))
    write_snn_run(tmp_path / "pc80", 400, per_class=80, accuracies=(0.7,))
    groups = group_points([load_point(d) for d in find_run_dirs([tmp_path])])
    anchors = (Anchor("A", "diehl_cook_2015", "D&C", 400, 0.87),
               Anchor("B", "lc_snn", "LC-SNN", 900, 0.9168, 1))
    pc80_axes, all_axes = plot_fig4(groups, ["pc80", "all"], "mnist", anchors).axes[:2]
    (stars,) = [line for line in all_axes.get_lines() if line.get_marker() == "*"]
    assert list(stars.get_xdata()) == [400, 900]
    assert list(stars.get_ydata()) == pytest.approx([87.0, 91.68])
    assert not [line for line in pc80_axes.get_lines() if line.get_marker() == "*"]


def test_every_figure_line_has_its_own_colour_and_marker():
    from brian_stdp.plots.comparison_figures import series_styles

    series = [("ann", 1, ""), ("ann", 2, ""), ("ann", 2, "adam")] + [
        ("snn", 1, f"model_{k}") for k in range(10)]
    groups = {("mnist", "all"): {s: SimpleNamespace(first=SimpleNamespace(series=s))
                                 for s in series}}
    styles = series_styles(groups)
    looks = {(style["color"], style["marker"]) for style in styles.values()}
    assert len(looks) == len(series), "11 families, 8 colours: markers tell them apart"
    assert styles[("ann", 1, "")]["color"] == styles[("ann", 2, "")]["color"]
    assert styles[("snn", 1, "model_0")]["marker"] == "s"


def test_the_shipped_anchors_are_the_published_figures():
    """The figures the project measures itself against (issue 23): Diehl & Cook at four
    sizes, BindsNET's one epoch at 400 neurons, the LC-SNN at 100, 250 and 500 filters."""
    figures = {(a.source.split(" (")[0], a.neurons): a.accuracy for a in ANCHORS}
    assert figures == {("Diehl & Cook", 100): 0.829, ("Diehl & Cook", 400): 0.870,
                       ("Diehl & Cook", 1600): 0.919, ("Diehl & Cook", 6400): 0.950,
                       ("BindsNET", 400): 0.9183, ("Saunders et al.", 900): 0.9168,
                       ("Saunders et al.", 2250): 0.9371, ("Saunders et al.", 4500): 0.9459}


def test_fig1_from_full_set_ann_runs(tmp_path):
    pytest.importorskip("tensorflow")
    config = ann.AnnConfig(dataset="digits", hidden=(4,), epochs=2, lr=0.1)
    ann.train(config, tmp_path / "runs" / "a", progress=False)
    make_report([load_point(tmp_path / "runs" / "a")], tmp_path / "out", [tmp_path / "runs"])
    assert (tmp_path / "out" / FIGURES[0]).stat().st_size > 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Fig. 1: dense ANNs on the full training set" in report
    assert "| ANN | 4 (sgd, lr 0.1, batch 64) | 4 | 0 | 2 | 1,347 / 450 |" in report


def test_committed_snn_runs_are_readable():
    run_dirs = [d for d in find_run_dirs([REPO / "runs"])
                if "hidden" not in rundir.load_json(d / rundir.CONFIG)]
    assert run_dirs, "the repository holds SNN results"
    for run_dir in run_dirs:
        point = load_point(run_dir)
        assert point.kind == "snn" and 0 <= point.best_accuracy <= 1
        assert point.neurons > 0
        patches = patch_wiring(run_dir)
        fan_in = INPUT_SIZE[point.dataset] if patches is None else patches[0]
        assert point.parameters == (fan_in + 1) * point.neurons
        if patches is not None:  # a patch layout: its fan-in is one patch, fewer synapses
            assert fan_in < INPUT_SIZE[point.dataset]


@pytest.mark.parametrize("make, message", [
    (lambda root: root / "absent", "no such run directory"),
    (lambda root: root, "holds no finished run"),
])
def test_bad_inputs(tmp_path, make, message):
    with pytest.raises(ConfigError, match=message):
        find_run_dirs([make(tmp_path)])


def test_folder_of_unknown_kind(tmp_path):
    rundir.save_json(tmp_path / rundir.CONFIG, {"something": 1})
    rundir.save_json(tmp_path / rundir.METRICS, {})
    with pytest.raises(ConfigError, match="neither an ANN run"):
        load_point(tmp_path)
    rundir.save_json(tmp_path / rundir.CONFIG, {"model": "m", "neurons": 3})
    with pytest.raises(ConfigError, match="lacks or garbles 'history'"):
        load_point(tmp_path)


def test_cli_error_exit_code(tmp_path, capsys):
    assert compare_main([str(tmp_path / "nothing")]) == 2
    assert "error:" in capsys.readouterr().err


def test_other_training_settings_are_kept_apart_from_the_paper_settings(tmp_path):
    pytest.importorskip("tensorflow")
    for name, optimizer, lr in (("sgd", "sgd", 0.001), ("adam", "adam", 0.01)):
        ann.train(ann.AnnConfig(dataset="digits", hidden=(4,), epochs=1, optimizer=optimizer,
                                lr=lr), tmp_path / name, progress=False)
    points = [load_point(tmp_path / name) for name in ("sgd", "adam")]
    assert [p.variant for p in points] == ["", "adam, lr 0.01, batch 64"]
    groups = group_points(points)[("digits", "all")]
    assert len(groups) == 2, "not averaged together as if they were seeds"


def test_missing_sizes_and_seeds_are_named(tmp_path):
    for neurons, seed in ((100, 0), (100, 1), (100, 2), (400, 1)):
        write_snn_run(tmp_path / f"n{neurons}_s{seed}", neurons, per_class=80, seed=seed)
    groups = group_points([load_point(d) for d in find_run_dirs([tmp_path])])
    assert missing_points(groups, "mnist", "pc80") == [
        "no ANN run on 80 images per class among the inputs",
        "no SNN of the study's sizes 10, 50, 200, 800, 1000 neurons",
        "SNN diehl_cook_2015 400: seeds 0, 2"]


def test_seeds_that_one_group_adds_are_not_missing_from_the_others(tmp_path):
    runs = [(100, seed) for seed in range(3)] + [(400, seed) for seed in range(5)] \
        + [(1600, 0)]
    for neurons, seed in runs:
        write_snn_run(tmp_path / f"n{neurons}_s{seed}", neurons, per_class=80, seed=seed)
    groups = group_points([load_point(d) for d in find_run_dirs([tmp_path])])
    assert missing_points(groups, "mnist", "pc80")[-1:] == [
        "SNN diehl_cook_2015 1600: seeds 1, 2"]


def test_the_same_network_for_other_epoch_counts_is_named_with_its_epochs(tmp_path):
    for seed, accuracies in ((0, (0.5,)), (1, (0.5,)), (0, (0.5, 0.6))):
        write_snn_run(tmp_path / f"e{len(accuracies)}_s{seed}", 400, per_class=80, seed=seed,
                      accuracies=accuracies)
    groups = group_points([load_point(d) for d in find_run_dirs([tmp_path])])
    assert missing_points(groups, "mnist", "pc80")[-1:] == [
        "SNN diehl_cook_2015 400, 2 epochs: seed 1"]


def test_snn_runs_with_the_studys_labelling_give_a_second_series(tmp_path):
    run_dir = write_snn_run(tmp_path / "wolff", 100, per_class=80, accuracies=(0.5, 0.6),
                            spikes=(10.0, 10.0))
    assert [p.variant for p in load_points(run_dir)] == [""], "nothing recorded"
    metrics = rundir.load_json(run_dir / rundir.METRICS)
    for entry, winner in zip(metrics["history"], (0.55, 0.52)):
        entry["accuracy_last_winner"] = winner
    rundir.save_json(run_dir / rundir.METRICS, metrics)
    standard, paper = load_points(run_dir)
    assert standard.accuracy_by_epoch == {1: 0.5, 2: 0.6} and standard.variant == ""
    assert paper.accuracy_by_epoch == {1: 0.55, 2: 0.52}
    assert paper.variant == LAST_WINNER
    assert (paper.best_epoch, paper.energy_per_image) == (1, standard.energy_per_image)
    assert paper.series != standard.series, "a line of its own in the figures"
    groups = group_points([standard, paper])[("mnist", "pc80")]
    assert len(groups) == 2


# -- grids whose point folders are gone: their results.json rows ---------------------------
def grid_row(run_dir, status="finished"):
    """The row ``python -m brian_stdp.sweep`` writes for a finished run directory."""
    config = rundir.load_json(Path(run_dir) / rundir.CONFIG)
    metrics = rundir.load_json(Path(run_dir) / rundir.METRICS)
    row = {"point": Path(run_dir).name, **{key: config[key] for key in KINDS["snn"].axes}}
    row.update(model=model_label(row["model"]), status=status)
    return {**row, **KINDS["snn"].metrics_row(metrics)}


def write_grid(grid, rows, kind="snn", base=None):
    """A grid folder holding only its ``results.json`` with ``rows``."""
    rundir.save_json(Path(grid) / "results.json",
                     {"grid": f"{grid}.toml", "kind": kind, "base": base or {}, "axes": {},
                      "points": len(rows), "rows": rows, "summary": []})
    return Path(grid) / "results.json"


def without_place(point):
    """A point's fields except where it was read from and what a table cannot hold."""
    fields = dataclasses.asdict(point)
    for name in ("run_dir", "energy_per_image", "notes", "seconds_per_epoch"):
        del fields[name]
    return fields


@pytest.mark.parametrize("make", [
    lambda root: write_snn_run(root / "pc80", 100, per_class=80, seed=1,
                               accuracies=(0.60, 0.70, 0.65), spikes=(12.0, 11.0, 10.0)),
    lambda root: write_snn_run(root / "all", 400, accuracies=(0.9,), spikes=(20.0,),
                               test_images=10000),
    lambda root: write_snn_run(root / "first1000", 50, train=1000, seed=2),
])
def test_grid_rows_give_the_points_of_their_run_folders(tmp_path, make):
    run_dir = make(tmp_path / "runs")
    results = write_grid(tmp_path / "grid", [grid_row(run_dir)])
    (from_folder,) = load_points(run_dir)
    (from_row,) = load_grid_points(results)
    assert without_place(from_row) == without_place(from_folder)
    assert from_row.seconds_per_epoch == pytest.approx(from_folder.seconds_per_epoch)
    assert from_row.run_dir == Path(f"{results}#{run_dir.name}")
    assert from_row.energy_per_image is None and from_row.notes == [GRID_ENERGY_NOTE]
    assert collect_points([tmp_path / "grid"]) == [from_row]


def test_grid_rows_of_the_studys_labelling_give_a_second_point(tmp_path):
    run_dir = write_snn_run(tmp_path / "runs" / "wolff", 100, per_class=80,
                            accuracies=(0.5, 0.6), spikes=(10.0, 10.0))
    metrics = rundir.load_json(run_dir / rundir.METRICS)
    for entry, winner in zip(metrics["history"], (0.55, 0.52)):
        entry["accuracy_last_winner"] = winner
    rundir.save_json(run_dir / rundir.METRICS, metrics)
    row = grid_row(run_dir)
    assert row["accuracy_last_winner_epoch2"] == 0.52
    standard, paper = load_grid_points(write_grid(tmp_path / "grid", [row]))
    assert [without_place(p) for p in (standard, paper)] == [
        without_place(p) for p in load_points(run_dir)]
    assert paper.variant == LAST_WINNER and paper.accuracy_by_epoch == {1: 0.55, 2: 0.52}
    report = make_report([standard, paper], tmp_path / "out", [tmp_path / "grid"]).read_text()
    assert report.count("| 78,500 | n/a |") == 2, "no unit after a missing energy proxy"


def test_grid_rows_without_epoch_columns_use_the_final_accuracy(tmp_path):
    row = grid_row(write_snn_run(tmp_path / "runs" / "old", 100, per_class=80))
    for column in [column for column in row if "_epoch" in column]:
        del row[column]
    (point,) = load_grid_points(write_grid(tmp_path / "grid", [row]))
    assert point.accuracy_by_epoch == {1: 0.5}


def test_a_grid_row_with_its_run_folder_is_read_from_the_folder_only(tmp_path, capsys):
    runs = [write_snn_run(tmp_path / "runs" / f"n100_s{seed}", 100, per_class=80, seed=seed)
            for seed in (0, 1, 2)]
    grid = tmp_path / "grid"
    write_grid(grid, [grid_row(run_dir) for run_dir in runs]
               + [{**grid_row(runs[0]), "point": "failed", "status": "failed"}])
    shutil.copytree(runs[0], grid / "points" / runs[0].name)
    (grid / "points" / runs[1].name).mkdir()  # started, never finished: the row counts
    points = collect_points([grid])
    assert [str(p.run_dir) for p in points] == [
        str(grid / "points" / runs[0].name), f"{grid / 'results.json'}#{runs[1].name}",
        f"{grid / 'results.json'}#{runs[2].name}"]
    assert compare_main([str(grid), "--out", str(tmp_path / "out")]) == 0
    assert "0 ANN and 3 SNN runs compared" in capsys.readouterr().out
    report = (tmp_path / "out" / "report.md").read_text()
    assert (f"`{grid / 'results.json'}`: {GRID_ENERGY_NOTE} (2 points)") in report


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"kind": "snn", "base": {}}), "no list of 'rows'"),
    (json.dumps({"kind": "snn", "rows": [1, 2]}), "no list of 'rows'"),
    (json.dumps({"kind": "snn", "rows": [{"point": "p", "status": "finished"}]}),
     "row 'p' lacks or garbles"),
])
def test_bad_grid_results_name_the_file(tmp_path, content, message):
    path = tmp_path / "grid" / "results.json"
    path.parent.mkdir()
    path.write_text(content)
    for read in (lambda: load_grid_points(path), lambda: collect_points([tmp_path])):
        with pytest.raises(ConfigError, match=message) as err:
            read()
        assert str(path) in str(err.value)


def test_ann_grid_rows_need_their_run_folders(tmp_path):
    results = write_grid(tmp_path / "ann", [{"point": "all_h16_seed0", "status": "finished"}],
                         kind="ann")
    with pytest.raises(ConfigError, match="only SNN rows can be read") as err:
        load_grid_points(results)
    assert str(results) in str(err.value)
    write_grid(tmp_path / "ann", [{"point": "all_h16_seed0", "status": "failed"}], kind="ann")
    assert load_grid_points(results) == []
    with pytest.raises(ConfigError, match="holds no finished run"):
        find_run_dirs([tmp_path / "ann"])


def test_committed_grid_tables_are_readable():
    points = collect_points([REPO / "runs"])
    from_tables = [p for p in points if "#" in str(p.run_dir)]
    assert from_tables, "the repository keeps grids without their point folders"
    assert all(0 <= p.best_accuracy <= 1 and p.seconds_per_epoch for p in from_tables)
    for point in from_tables:  # never a run also read from its folder
        results, _, name = str(point.run_dir).partition("#")
        assert not (Path(results).parent / "points" / name / rundir.METRICS).exists()
    keys = [(p.run_dir, p.variant) for p in points]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("name", sorted(TRAIN_SIZES))
def test_train_sizes_are_the_datasets_sizes(name):
    try:
        dataset = load_dataset(name, "train", download=False)
    except DataError:
        pytest.skip(f"{name} not available here")
    assert len(dataset) == TRAIN_SIZES[name]
