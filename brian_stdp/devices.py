"""Simulation devices: names, availability, and how to install what is missing."""

from __future__ import annotations

import importlib.util
import shutil

from .errors import DeviceError

#: Devices the runner accepts, with a one-line description.
DEVICES = {
    "cpp_standalone": "Brian2's C++ standalone device: compiled once, re-run per chunk (default)",
    "runtime": "Brian2's runtime device (Python/Cython): slow, for debugging small networks",
    "cuda_standalone": "brian2cuda's GPU device",
    "genn": "brian2genn's GPU device (own environment: Python 3.11, brian2 2.5)",
}

_INSTALL = {
    "cuda_standalone": ("brian2cuda is not installed. Install it with\n"
                        "    pip install -e '.[cuda]'\n"
                        "(brian2cuda 1.0b1, which pins brian2 2.10.1) and make sure nvcc is on "
                        "PATH."),
    "genn": ("brian2genn is not installed. It needs brian2 2.5.x, numpy < 2 and Python 3.11, "
             "so it lives in its own environment; see README.md, section 'GPU devices'."),
}

#: Devices the runner can drive today; the others are planned.
RUNNER_DEVICES = ("cpp_standalone", "runtime")


def check_device(name: str) -> None:
    """Raise :class:`DeviceError` unless ``name`` can run here.

    The message says what to install, or which devices exist.
    """
    if name not in DEVICES:
        known = "\n".join(f"    {key:16s} {text}" for key, text in DEVICES.items())
        raise DeviceError(f"--device {name}: unknown device. Known devices:\n{known}")
    if name == "cpp_standalone" and not (shutil.which("c++") or shutil.which("g++")):
        raise DeviceError("--device cpp_standalone needs a C++ compiler (g++), which is not on "
                          "PATH. Install one (Debian: apt-get install g++) or use "
                          "--device runtime for small networks.")
    package = {"cuda_standalone": "brian2cuda", "genn": "brian2genn"}.get(name)
    if package and importlib.util.find_spec(package) is None:
        raise DeviceError(f"--device {name}: {_INSTALL[name]}")
    if name not in RUNNER_DEVICES:
        raise DeviceError(f"--device {name}: the package is installed, but the runner does not "
                          f"drive this device yet; use one of {', '.join(RUNNER_DEVICES)}.")
