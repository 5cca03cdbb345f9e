"""Every figure of the package, drawn in one shared style.

- :mod:`~brian_stdp.plots.axes`: plotting functions on a given axes, the style, saving.
- :mod:`~brian_stdp.plots.run_figures`: the figures of a run directory.
"""

from brian_stdp.plots.axes import (OKABE_ITO, PNG_DPI, STYLE, plot_accuracy, plot_confusion,
                                   plot_per_class, plot_raster, plot_receptive_fields, plot_theta,
                                   save_figure, style)

__all__ = ["OKABE_ITO", "PNG_DPI", "STYLE", "plot_accuracy", "plot_confusion", "plot_per_class",
           "plot_raster", "plot_receptive_fields", "plot_theta", "save_figure", "style"]
