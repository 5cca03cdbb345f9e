"""Tests of brian_stdp.plots.grid_figures: the figures of a grid, from its summary."""

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from brian_stdp.experiments.grids.files import load_grid
from brian_stdp.experiments.grids.results import summarise
from brian_stdp.model.files import model_label
from brian_stdp.plots import grid_figures

pytestmark = pytest.mark.codegen_independent

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_figures_draw_at_most_five_epochs():
    assert grid_figures._shown_epochs([1, 2, 3]) == {1, 2, 3}
    assert grid_figures._shown_epochs(list(range(1, 16))) == {1, 5, 8, 11, 15}


def summarised(grid):
    """Summary rows of a grid whose every point finished with made-up accuracies."""
    rows = []
    for point in grid.points:
        values = dict(point.values, model=model_label(point.values["model"]))
        accuracy = point.values["neurons"] / 1000 + point.values["seed"] / 100
        rows.append({**values, "status": "finished",
                     "accuracy_all_activity_epoch1": accuracy,
                     "accuracy_all_activity_epoch2": accuracy + 0.1})
    return summarise(rows, grid.kind.axes)


def test_one_figure_per_accuracy_key_with_numbers_to_scale(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text("[base]\ndataset = \"digits\"\n[grid]\nneurons = [10, 100, 400]\n"
                    "epochs = [2]\nseed = [0, 1]\n")
    grid = load_grid(path)
    assert grid_figures.make_grid_figures(grid, {"summary": []}) == []
    written = grid_figures.make_grid_figures(grid, {"summary": summarised(grid)})
    assert [p.name for p in written] == ["accuracy_vs_neurons_accuracy_all_activity.png"]
    assert written[0].read_bytes().startswith(PNG_SIGNATURE)
    assert grid_figures._x_ticks(grid) is None, "neurons are numbers, drawn to scale"


def test_the_title_of_a_one_panel_figure_fits_it(tmp_path, monkeypatch):
    path = tmp_path / "grid_headline_fast_learning_2epochs.toml"
    path.write_text("[base]\ndataset = \"digits\"\n[grid]\nneurons = [1600]\nepochs = [2]\n"
                    "seed = [0, 1]\n")
    grid = load_grid(path)
    saved = []
    monkeypatch.setattr(grid_figures, "save_figure", lambda fig, path: saved.append(fig))
    grid_figures.make_grid_figures(grid, {"summary": summarised(grid)})
    (fig,) = saved
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    title = fig.get_suptitle()
    assert title.startswith(path.name) and title.endswith("mean ± s.d. over seeds")
    (text,) = [t for t in fig.texts if t.get_text() == title]
    extent = text.get_window_extent(renderer)
    assert 0 <= extent.x0 and extent.x1 <= fig.bbox.width, "the title is cut off"


def test_accuracies_scored_on_validation_are_labelled_so(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text("[base]\ndataset = \"digits\"\n[grid]\nneurons = [10]\nseed = [0]\n")
    grid = load_grid(path)
    rows = [{"status": "finished", "scored_on": "validation"}, {"status": "pending"}]
    label = grid_figures._metric_label(grid, "accuracy_all_activity", rows)
    assert label == "validation accuracy, all activity (%)"
    mixed = rows + [{"status": "finished", "scored_on": "test"}]
    assert grid_figures._metric_label(grid, "accuracy_all_activity", mixed).startswith("test")
    assert grid_figures._metric_label(grid, "accuracy_all_activity", []).startswith("test")


def test_an_epochs_axis_draws_every_evaluated_epoch_at_its_place(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text("x_axis = \"epochs\"\n[base]\ndataset = \"digits\"\neval_every_epoch = true\n"
                    "[grid]\nneurons = [10]\nepochs = [2]\nseed = [0, 1]\n")
    grid = load_grid(path)
    summary = summarised(grid)
    position = grid_figures._position("epochs", None, by_epoch=True)
    assert sorted(position(row) for row in summary) == [1, 2]  # not the run's 2 epochs twice
    assert grid_figures._position("epochs", None, by_epoch=False)(summary[0]) == 2
    written = grid_figures.make_grid_figures(grid, {"summary": summary})
    assert [p.name for p in written] == ["accuracy_vs_epochs_accuracy_all_activity.png"]
    assert written[0].read_bytes().startswith(PNG_SIGNATURE)


def test_one_size_and_several_models_are_drawn_as_rows(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text("x_axis = \"neurons\"\n[base]\ndataset = \"digits\"\n[grid]\n"
                    "model = [\"diehl_cook_2015\", \"diehl_cook_2015_fast_learning\"]\n"
                    "neurons = [10]\nseed = [0, 1]\n")
    grid = load_grid(path)
    summary = summarised(grid)
    written = grid_figures.make_grid_figures(grid, {"summary": summary})
    assert [p.name for p in written] == ["accuracy_by_model_accuracy_all_activity.png"]
    assert written[0].read_bytes().startswith(PNG_SIGNATURE)
    rows = [r for r in summary if r["metric"] == "accuracy_all_activity"]
    groups = grid_figures._last_epoch_groups(rows, "model", ["diehl_cook_2015_fast_learning",
                                                           "diehl_cook_2015"], [])
    assert list(groups) == ["diehl_cook_2015_fast_learning", "diehl_cook_2015"]
    assert all(r["epoch"] == 2 for group in groups.values() for r in group), "the last epoch"
    axes = grid_figures.plot_categories(groups)
    assert [t.get_text() for t in axes.get_yticklabels()] == list(groups)
    texts = [t.get_text() for t in axes.texts]
    mean = 100 * groups["diehl_cook_2015"][0]["mean"]
    assert texts[1].startswith(f"{mean:.2f} ± ") and texts[1].endswith(" % (2)")


def test_the_accuracy_axis_zooms_only_where_every_value_fits():
    close = [{"mean": 0.9347, "std": 0.0032}, {"mean": 0.9407, "std": 0.0023}]
    low, high = grid_figures._accuracy_limits(close)
    assert (low, high) == pytest.approx((84.30, 95.80)), "10 points below 94.30 %, 1.5 above"
    assert low <= 93.15 and high >= 94.30, "every mean ± s.d. inside"
    apart = close + [{"mean": 0.80, "std": None}]
    assert grid_figures._accuracy_limits(apart) == (0.0, 100.0)
    wide = [{"mean": 0.90, "std": 0.06}]  # 84-96 %: its lower end falls outside the window
    assert grid_figures._accuracy_limits(wide) == (0.0, 100.0)
    assert grid_figures._accuracy_limits([{"mean": 0.99, "std": 0.0}])[1] == 100.0
