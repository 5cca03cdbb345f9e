"""Tests of brian_stdp.plots (theme, network, results): every figure renders to a PNG file."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from brian_stdp.plots import (STYLE, plot_accuracy, plot_confusion, plot_per_class, plot_raster,
                              plot_receptive_fields, plot_theta, save_figure, style)

pytestmark = pytest.mark.codegen_independent

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPO_ROOT = Path(__file__).resolve().parents[2]


def assert_png(path):
    assert path.is_file()
    content = path.read_bytes()
    assert len(content) > len(PNG_SIGNATURE)
    assert content.startswith(PNG_SIGNATURE)


def save_and_check(axes, path):
    save_figure(axes.figure, path)
    assert_png(path)
    assert sorted(os.listdir(path.parent)) == [path.name], "temporary file left behind"


@pytest.fixture
def rng():
    return np.random.default_rng(2015)


def test_style_applies_rc_params():
    with style():
        fig = Figure()
        axes = fig.add_subplot()
        assert not axes.spines["top"].get_visible()
        assert not axes.spines["right"].get_visible()
        assert fig.get_layout_engine() is not None
    assert set(STYLE) >= {"axes.prop_cycle", "axes.spines.top", "axes.spines.right"}


def test_plot_receptive_fields_tiles_ten_mnist_neurons(tmp_path, rng):
    weights = rng.uniform(0.0, 1.0, size=(28 * 28, 10))
    axes = plot_receptive_fields(weights, (28, 28))
    # 10 neurons -> 4 columns x 3 rows, with 1-pixel gaps between tiles.
    tiled = axes.images[0].get_array()
    assert tiled.shape == (3 * 28 + 2, 4 * 28 + 3)
    np.testing.assert_array_equal(tiled[:28, :28], weights[:, 0].reshape(28, 28))
    np.testing.assert_array_equal(tiled[29:57, 29:57], weights[:, 5].reshape(28, 28))
    assert np.ma.getmaskarray(tiled)[28, :].all(), "gap row between tile rows"
    assert np.ma.getmaskarray(tiled)[58:, 58:].all(), "empty tiles after the last neuron"
    assert len(axes.figure.axes) == 2, "image and colorbar"
    save_and_check(axes, tmp_path / "fields.png")


def test_plot_receptive_fields_n_max_and_given_axes(tmp_path, rng):
    weights = rng.uniform(0.0, 1.0, size=(6 * 5, 20))
    given = Figure().add_subplot()
    axes = plot_receptive_fields(weights, (6, 5), axes=given, n_max=4, vmin=0.0, vmax=1.0)
    assert axes is given
    assert axes.images[0].get_array().shape == (2 * 6 + 1, 2 * 5 + 1)
    assert axes.images[0].get_clim() == (0.0, 1.0)
    save_and_check(axes, tmp_path / "fields.png")


def test_plot_receptive_fields_rejects_wrong_image_shape(rng):
    with pytest.raises(ValueError, match="n_input"):
        plot_receptive_fields(rng.uniform(size=(784, 3)), (28, 27))


@pytest.mark.parametrize("normalize", [True, False])
def test_plot_confusion(tmp_path, normalize):
    confusion = np.array([[5, 1, 0], [0, 4, 2], [1, 0, 7]])
    axes = plot_confusion(confusion, class_names=["zero", "one", "two"], normalize=normalize)
    cell_texts = [text.get_text() for text in axes.texts]
    assert len(cell_texts) == 9
    if normalize:
        assert cell_texts[:3] == ["83", "17", "0"]
    else:
        assert cell_texts[:3] == ["5", "1", "0"]
    assert axes.get_title() == "Accuracy 80.0%"
    assert [label.get_text() for label in axes.get_xticklabels()] == ["zero", "one", "two"]
    save_and_check(axes, tmp_path / "confusion.png")


def test_plot_confusion_counts_missing_predictions_as_wrong_and_uses_given_axes(tmp_path):
    given = Figure().add_subplot()
    axes = plot_confusion(np.array([[3, 1], [0, 4]]), axes=given, n_images=10, cmap="Greens")
    assert axes is given
    assert axes.get_title() == "Accuracy 70.0%"
    save_and_check(axes, tmp_path / "confusion.png")


def test_plot_accuracy(tmp_path):
    history = [
        {"images_seen": 1000, "accuracy_all_activity": 0.5, "accuracy_proportion_weighting": 0.55},
        {"images_seen": 2000, "accuracy_all_activity": 0.7, "accuracy_proportion_weighting": 0.72},
        {"images_seen": 3000, "accuracy_all_activity": 0.8, "silent_fraction": 0.1},
    ]
    given = Figure().add_subplot()
    axes = plot_accuracy(history, axes=given, linestyle="--")
    assert axes is given
    lines = axes.get_lines()
    assert [line.get_label() for line in lines] == ["all activity", "proportion weighting"]
    np.testing.assert_allclose(lines[0].get_ydata(), [50.0, 70.0, 80.0])
    np.testing.assert_array_equal(lines[1].get_xdata(), [1000, 2000])
    assert lines[0].get_linestyle() == "--"
    assert axes.get_ylim() == (0.0, 100.0)  # 50 % lies outside any 10-point window of 80 %
    save_and_check(axes, tmp_path / "accuracy.png")


def test_plot_accuracy_zooms_where_every_value_fits():
    """Epochs a few tenths of a point apart (the 6,400-neuron run's 93.77 -> 94.19 ->
    94.11 %) get an axis of 10 points below the best, not 0-100 %; the x axis groups
    thousands."""
    history = [{"images_seen": 50000 * k, "accuracy_all_activity": a,
                "accuracy_proportion_weighting": p}
               for k, a, p in ((1, 0.9377, 0.9390), (2, 0.9419, 0.9433), (3, 0.9411, 0.9412))]
    axes = plot_accuracy(history)
    np.testing.assert_allclose(axes.get_ylim(), (84.33, 94.33 + 1.5))
    axes.figure.canvas.draw()
    assert "100,000" in [tick.get_text() for tick in axes.get_xticklabels()]


def test_plot_accuracy_rejects_history_without_accuracy():
    with pytest.raises(ValueError, match="accuracy"):
        plot_accuracy([{"images_seen": 10, "silent_fraction": 0.2}])
    with pytest.raises(ValueError, match="empty"):
        plot_accuracy([])


def test_plot_per_class(tmp_path):
    axes = plot_per_class([0.9, 0.5, np.nan, 1.0], class_names="abcd", color="C2")
    heights = [patch.get_height() for patch in axes.patches]
    np.testing.assert_allclose(heights, [90.0, 50.0, 0.0, 100.0])
    save_and_check(axes, tmp_path / "per_class.png")


def test_plot_per_class_uses_given_axes(tmp_path):
    given = Figure().add_subplot()
    assert plot_per_class(np.array([0.2, 0.4]), axes=given) is given
    save_and_check(given, tmp_path / "per_class.png")


def test_plot_raster(tmp_path, rng):
    times = np.sort(rng.uniform(0.0, 0.35, size=200))
    indices = rng.integers(0, 100, size=200)
    given = Figure().add_subplot()
    axes = plot_raster(indices, times, axes=given, color="k")
    assert axes is given
    np.testing.assert_allclose(axes.get_lines()[0].get_xdata(), 1e3 * times)
    save_and_check(axes, tmp_path / "raster.png")


def test_plot_raster_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="equal length"):
        plot_raster([0, 1, 2], [0.1, 0.2])


def test_plot_theta(tmp_path, rng):
    theta = rng.uniform(0.0, 0.02, size=400)  # volts
    axes = plot_theta(theta, bins=10)
    assert len(axes.patches) == 10
    assert axes.get_xlim()[1] > 15.0, "shown in mV"
    save_and_check(axes, tmp_path / "theta.png")

    given = Figure().add_subplot()
    assert plot_theta(theta, axes=given) is given
    save_and_check(given, tmp_path / "theta.png")


def test_save_figure_replaces_existing_file(tmp_path):
    path = tmp_path / "figure.png"
    path.write_bytes(b"old")
    save_and_check(plot_per_class([0.5]), path)


def run_python(code):
    """Run code in a fresh interpreter with the repository importable; return stdout."""
    environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT), MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_plots_need_no_pyplot(tmp_path):
    output = run_python(
        f"""
        import sys
        from brian_stdp.plots import plot_theta, save_figure
        save_figure(plot_theta([0.01, 0.02]).figure, {str(tmp_path / "theta.png")!r})
        print("matplotlib.pyplot" in sys.modules)
        """
    )
    assert output.strip() == "False"
    assert_png(tmp_path / "theta.png")


def test_save_figure_closes_pyplot_figure(tmp_path):
    output = run_python(
        f"""
        import matplotlib.pyplot as plt
        from brian_stdp.plots import plot_per_class, save_figure
        fig, axes = plt.subplots()
        plot_per_class([0.5, 0.7], axes=axes)
        save_figure(fig, {str(tmp_path / "bars.png")!r})
        print(len(plt.get_fignums()))
        """
    )
    assert output.strip() == "0"
    assert_png(tmp_path / "bars.png")


def test_plot_patch_fields_draws_each_filter_with_its_patches_in_place(tmp_path, rng):
    """2 filters at 2x2 locations of 3x3 patches (stride 2) on a 6x6 input: tile of
    filter f holds, at grid place (r, c), the patch of neuron location*2 + f."""
    from brian_stdp.plots import plot_patch_fields

    corners = [(0, 0), (0, 2), (2, 0), (2, 2)]
    weights = np.zeros((36, 8))
    for j in range(8):
        r0, c0 = corners[j // 2]
        image = np.zeros((6, 6))
        image[r0:r0 + 3, c0:c0 + 3] = rng.uniform(0.1, 1.0, size=(3, 3))
        weights[:, j] = image.ravel()
    axes = plot_patch_fields(weights, (6, 6), corners, (3, 3))
    tiled = axes.images[0].get_array()
    # 2 filters -> 2 tiles side by side, each 2x2 patches of 3x3 with 1-pixel gaps (7x7)
    assert tiled.shape == (7, 7 + 3 + 7)
    for f in range(2):
        left = f * (7 + 3)
        for loc, (r0, c0) in enumerate(corners):
            y, x = (loc // 2) * 4, left + (loc % 2) * 4
            np.testing.assert_array_equal(
                tiled[y:y + 3, x:x + 3], weights[:, loc * 2 + f].reshape(6, 6)[r0:r0 + 3,
                                                                               c0:c0 + 3])
    assert np.ma.getmaskarray(tiled)[3, :7].all(), "gap between patch rows"
    save_and_check(axes, tmp_path / "patches.png")
    with pytest.raises(ValueError, match="not a multiple of 4 locations"):
        plot_patch_fields(weights[:, :7], (6, 6), corners, (3, 3))
