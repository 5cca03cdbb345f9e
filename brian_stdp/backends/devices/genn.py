"""``genn``, brian2genn's GPU device: its availability, install steps and where GeNN is.

brian2genn allows one ``run()`` per build, so
:class:`~brian_stdp.backends.brian2genn.session.GennSession` builds once per formulation
(plastic, frozen) and re-runs that build for every chunk with new input files. It needs
brian2 2.5, numpy < 2 and Python 3.11, so it lives in an environment of its own
(``.venv-genn``, :func:`genn_python`), where the benchmark runs it when brian2genn is not
importable here. Without a GPU GeNN builds for its CPU backend. brian2genn is imported only
by the session, never here.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from brian_stdp.backends.devices import Device, register

NAME = "genn"

#: Folder of the GeNN release that ``make`` unpacks into the GeNN environment.
GENN_FOLDER = "genn-4.9.0"

_GENN_DOCS = "docs/devices.md, section 'brian2genn'"

#: How to install brian2genn and GeNN.
INSTALL = (
    "brian2genn is not installed. It needs brian2 2.5.x, numpy < 2 and Python 3.11, so "
    "it lives in its own environment:\n"
    "    python3.11 -m venv genn-venv\n"
    "    genn-venv/bin/pip install -e . 'brian2genn==1.7.0' 'brian2>=2.5,<2.6' 'numpy<2'\n"
    "or conda env create -f environment-genn.yml; on this project's machines "
    "make test-genn does all of it. GeNN 4.9.0 itself is not on PyPI: download "
    "genn-4.9.0.tar.gz from https://github.com/genn-team/genn/releases/tag/4.9.0, unpack "
    f"it somewhere writable and set GENN_PATH to it. See {_GENN_DOCS}.")


def genn_problem() -> str | None:
    """What is missing for brian2genn (package, brian2 2.5, GeNN 4), with steps, or None."""
    if importlib.util.find_spec("brian2genn") is None:
        return f"--device {NAME}: {INSTALL}"
    import brian2

    if not brian2.__version__.startswith("2.5."):
        return (f"--device {NAME}: brian2genn 1.7 needs brian2 2.5.x, but this environment "
                f"has brian2 {brian2.__version__}. Use the separate GeNN environment "
                f"(see {_GENN_DOCS}).")
    if genn_path() is None:
        return (f"--device {NAME}: GeNN 4.x was not found (set GENN_PATH to an unpacked "
                "GeNN 4 release, or put its bin/ with genn-buildmodel.sh on PATH). GeNN is "
                "not on PyPI: download it from https://github.com/genn-team/genn/releases. "
                f"Without GeNN the project can still be generated (see {_GENN_DOCS}).")
    return None


def genn_python() -> Path | None:
    """The Python of a separate GeNN environment, if there is one.

    ``BRIAN_STDP_GENN_PYTHON``, else ``.venv-genn/bin/python`` of this checkout
    (what ``make test-genn`` creates).
    """
    if os.environ.get("BRIAN_STDP_GENN_PYTHON"):
        path = Path(os.environ["BRIAN_STDP_GENN_PYTHON"])
        return path if path.is_file() else None
    path = Path(__file__).resolve().parents[3] / ".venv-genn" / "bin" / "python"
    return path if path.is_file() else None


def python_elsewhere() -> Path | None:
    """The GeNN environment's Python (:func:`genn_python`) when brian2genn is not
    importable here, else None."""
    return genn_python() if importlib.util.find_spec("brian2genn") is None else None


def genn_path(prefix=None, environ=None) -> Path | None:
    """GeNN's folder, or None.

    Looked for, in order: ``genn-4.9.0`` inside the running environment
    (``sys.prefix``, where ``make test-genn`` unpacks it), ``GENN_PATH``,
    and ``genn-buildmodel.sh`` on PATH.

    Parameters
    ----------
    prefix : path, optional
        The environment's folder (default ``sys.prefix``).
    environ : mapping, optional
        Environment variables (default ``os.environ``).
    """
    import sys

    environ = os.environ if environ is None else environ
    bundled = Path(sys.prefix if prefix is None else prefix) / GENN_FOLDER
    if (bundled / "bin" / "genn-buildmodel.sh").is_file():
        return bundled
    if environ.get("GENN_PATH"):
        path = Path(environ["GENN_PATH"])
        return path if path.is_dir() else None
    script = shutil.which("genn-buildmodel.sh")
    return Path(script).resolve().parent.parent if script else None


DEVICE = register(Device(
    name=NAME,
    description="brian2genn's GPU device (GeNN's CPU backend without a GPU): one build per "
                "chunk, own environment (Python 3.11, brian2 2.5); see "
                "brian_stdp.backends.brian2genn.session",
    session="brian_stdp.backends.brian2genn.session:GennSession",
    problem=genn_problem, install=INSTALL, python_elsewhere=python_elsewhere))
