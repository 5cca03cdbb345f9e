"""Which session class drives a device: the one place that maps device names to backends.

The trainer, classification and the benchmark ask :func:`session_class` for the class and
use only the interface of :class:`~brian_stdp.backends.session.Session`. Another backend
registers its class here, by name, as ``"module:Class"`` (imported when first asked for).
"""

from __future__ import annotations

import importlib

from brian_stdp.errors import ConfigError

#: Session class of each device: ``"module:Class"``.
SESSIONS = {
    "cpp_standalone": "brian_stdp.backends.session:StandaloneSession",
    "cuda_standalone": "brian_stdp.backends.session:CudaStandaloneSession",
    "genn": "brian_stdp.backends.genn.session:GennSession",
    "runtime": "brian_stdp.backends.session:RuntimeSession",
}


def session_class(device: str) -> type:
    """The :class:`~brian_stdp.backends.session.Session` subclass that runs ``device``.

    Raises
    ------
    ConfigError
        For a name that is not in :data:`SESSIONS`.
    """
    if device not in SESSIONS:
        raise ConfigError(f"--device {device}: unknown; use one of {', '.join(SESSIONS)}")
    module, name = SESSIONS[device].split(":")
    return getattr(importlib.import_module(module), name)
