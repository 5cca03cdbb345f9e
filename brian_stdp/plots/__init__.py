"""Every figure of the package, drawn in one shared style.

Axes-level functions, ``f(data, axes=None, **kwds) -> axes`` (a new figure when
``axes`` is None), re-exported here:

- :mod:`~brian_stdp.plots.theme`: the style (:data:`OKABE_ITO`, :data:`STYLE`,
  :func:`style`), new axes, and :func:`save_figure` (PNG at :data:`PNG_DPI`).
- :mod:`~brian_stdp.plots.network`: receptive fields (all-to-all, or per filter and location
  of a patch layout), adaptive thresholds, spike raster.
- :mod:`~brian_stdp.plots.results`: accuracy during training, confusion matrix,
  accuracy per class.

The figure files of the package's outputs, each drawn with the above:

- :mod:`~brian_stdp.plots.run_figures`: a run directory's ``figures/`` (SNN and ANN runs).
- :mod:`~brian_stdp.plots.grid_figures`: a grid's accuracy against its x-axis (``sweep``).
- :mod:`~brian_stdp.plots.comparison_figures`: the SNN-ANN comparison's Fig. 1, Fig. 4
  and costs (``compare``).

The other subpackages import this one only when they draw, so that reading
results, tables and reports needs no matplotlib import.
"""

from brian_stdp.plots.network import (plot_patch_fields, plot_raster, plot_receptive_fields,
                                     plot_theta)
from brian_stdp.plots.results import plot_accuracy, plot_confusion, plot_per_class
from brian_stdp.plots.theme import OKABE_ITO, PNG_DPI, STYLE, save_figure, style

__all__ = ["OKABE_ITO", "PNG_DPI", "STYLE", "plot_accuracy", "plot_confusion", "plot_patch_fields",
           "plot_per_class", "plot_raster", "plot_receptive_fields", "plot_theta", "save_figure", "style"]
