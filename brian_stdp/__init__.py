"""brian_stdp: unsupervised STDP-trained spiking networks on images, built on Brian2.

The layers, bottom up (:data:`LAYERS`); a module imports only from its own layer and the
layers below it (``tests/test_layers.py`` reads every import and checks it):

- :mod:`brian_stdp.data`: datasets, image files, input encoding.
- :mod:`brian_stdp.model`: model files (the equations, the STDP rule, the protocol) as data.
- :mod:`brian_stdp.backends`: the Brian2 network of a model and the session per device.
- :mod:`brian_stdp.plots`: every figure, in one style (runs, grids, the comparison), drawn
  from plain arrays and dicts.
- :mod:`brian_stdp.training`: train, label, test, classify; run directories.
- :mod:`brian_stdp.ann`: the Keras baseline.
- :mod:`brian_stdp.experiments`: grids, SNN-ANN comparison, benchmarks, readouts.

Beneath them all, :mod:`brian_stdp.errors` (the error classes) and :mod:`brian_stdp.cli`
(declared settings, the one error line and exit codes) serve every layer. Above them, the
command lines are the top-level modules ``run``, ``predict``, ``sweep``, ``compare``,
``bench``, ``readout``, ``pretrained``, ``genn`` and the package ``ann``
(``python -m brian_stdp.<name>``): they parse flags and call the layers; no layer imports
a command.

Importing the package keeps a process's decision to ignore Ctrl-C (SIGINT), which
Brian2's import would otherwise undo (:func:`_keep_ctrl_c_ignored`).
"""

import signal
import threading

__version__ = "0.1.0"

#: The subpackages, bottom up: each may import from itself and those before it.
LAYERS = ("data", "model", "backends", "plots", "training", "ann", "experiments")

#: Modules beneath every layer, importable from anywhere.
FOUNDATION = ("errors", "cli")


def _keep_ctrl_c_ignored() -> None:
    """Keep SIGINT ignored in a process started with it ignored.

    A job started in the background by a script (``cmd &``, ``nohup``) and a sweep's
    workers ignore SIGINT. Importing Brian2 replaces that with Brian2's own handler, which
    then fails on Ctrl-C (``TypeError: 'Handlers' object is not callable``, Brian2 2.10)
    and lets the compiled program inherit the default answer, to stop. So, in such a
    process (whether Brian2 was imported first or not), import Brian2 now and ignore
    SIGINT again. Signal handlers can only be set from the main thread; elsewhere (and
    without Brian2) nothing changes.
    """
    handler = signal.getsignal(signal.SIGINT)
    ignored = signal.SIG_IGN in (handler, getattr(handler, "previous_handler", None))
    if not ignored or threading.current_thread() is not threading.main_thread():
        return
    try:
        import brian2  # noqa: F401  (installs Brian2's handler)
    except ImportError:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_keep_ctrl_c_ignored()
