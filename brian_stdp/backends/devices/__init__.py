"""Simulation devices: each one a module of this package that registers itself here.

A device module (:mod:`.runtime`, :mod:`.cpp_standalone`, :mod:`.cuda_standalone`,
:mod:`.genn`) calls :func:`register` with a :class:`Device`: its name, a description, its
session class, its availability check and its install steps, beside the code that only it
needs (brian2cuda's settings, GeNN's paths). This module imports every device module, so
``brian_stdp.backends.devices`` knows them all; nothing else names a device to choose
behaviour. A new device is one more module here and one more import at the bottom.

Registering imports nothing heavy: the session class is named as ``"module:Class"`` and
imported when first asked for, and the availability checks look for packages without
importing brian2cuda or brian2genn.
"""

from __future__ import annotations

import importlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from brian_stdp.errors import ConfigError, DeviceError


def _nowhere() -> Path | None:
    return None


@dataclass(frozen=True)
class Device:
    """One simulation device as the runner knows it.

    Attributes
    ----------
    name : str
        The name of ``--device`` (and of Brian2's device).
    description : str
        One line for help texts and the list of known devices.
    session : str
        Its :class:`~brian_stdp.backends.session.Session` subclass, as ``"module:Class"``
        (imported by :meth:`session_class`).
    problem : callable () -> str or None
        Why the device cannot run here, install steps included, or None if it can.
    install : str
        How to install what the device needs.
    python_elsewhere : callable () -> Path or None
        The Python of another environment that runs the device when this one cannot
        (GeNN's ``.venv-genn``), else None.
    """

    name: str
    description: str
    session: str
    problem: Callable[[], str | None]
    install: str
    python_elsewhere: Callable[[], Path | None] = _nowhere

    def session_class(self) -> type:
        """The session class that runs this device (imported now)."""
        module, name = self.session.split(":")
        return getattr(importlib.import_module(module), name)


_REGISTRY: dict[str, Device] = {}


def register(device: Device) -> Device:
    """Add ``device`` to the known devices (a device module calls this once)."""
    if device.name in _REGISTRY:
        raise ValueError(f"device {device.name!r} is registered twice")
    _REGISTRY[device.name] = device
    return device


def names() -> tuple:
    """The known device names, in the order of the help texts."""
    return tuple(_REGISTRY)


def get(name: str) -> Device:
    """The device called ``name``.

    Raises
    ------
    ConfigError
        For a name no device module registered.
    """
    if name not in _REGISTRY:
        raise ConfigError(f"--device {name}: unknown; use one of {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def session_class(name: str) -> type:
    """The :class:`~brian_stdp.backends.session.Session` subclass that runs device ``name``.

    Raises
    ------
    ConfigError
        For an unknown name.
    """
    return get(name).session_class()


# -- availability ------------------------------------------------------------------------
def device_problem(name: str) -> str | None:
    """Why device ``name`` cannot run here (install steps included), or None if it can.

    An unknown name gets the list of known devices.
    """
    if name not in _REGISTRY:
        known = "\n".join(f"    {key:16s} {device.description}"
                          for key, device in _REGISTRY.items())
        return f"--device {name}: unknown device. Known devices:\n{known}"
    return _REGISTRY[name].problem()


def check_device(name: str) -> None:
    """Raise :class:`DeviceError` unless device ``name`` can run here.

    The message says what to install, or which devices exist.
    """
    problem = device_problem(name)
    if problem:
        raise DeviceError(problem)


def problem_elsewhere(name: str, python) -> str | None:
    """:func:`device_problem` of ``name`` as the Python ``python`` (another environment)
    sees it."""
    code = ("import sys; from brian_stdp.backends.devices import device_problem; "
            "print(device_problem(sys.argv[1]) or '', end='')")
    try:
        out = subprocess.run([str(python), "-c", code, name], capture_output=True, text=True,
                             timeout=300)
    except (OSError, subprocess.SubprocessError) as err:
        return f"--device {name}: cannot start the Python of its environment, {python}: {err}"
    if out.returncode != 0:
        return (f"--device {name}: the Python of its environment, {python}, failed: "
                f"{out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
    return out.stdout.strip() or None


# -- the devices, in the order of the help texts (each registers itself) -------------------
from brian_stdp.backends.devices import cpp_standalone, runtime  # noqa: E402
from brian_stdp.backends.devices import cuda_standalone, genn  # noqa: E402

#: The device of ``--device`` when none is given.
DEFAULT_DEVICE = cpp_standalone.NAME
