"""Exceptions that the command-line tools turn into one clear message.

Every error the package raises on bad input derives from :class:`BrianSTDPError`;
its message names the file, flag or key at fault, the problem, and what to do.
The command-line entry points print that message without a traceback.
"""


class BrianSTDPError(Exception):
    """Base class of all errors caused by bad input (files, flags, configs)."""


class DataError(BrianSTDPError):
    """A dataset file is missing, corrupt or inconsistent."""


class ModelFileError(BrianSTDPError):
    """A model file is malformed: a missing section, a unit error, an undefined name."""


class ConfigError(BrianSTDPError):
    """A command-line flag or experiment-config value is invalid."""


class DeviceError(BrianSTDPError):
    """A simulation device is unknown, or its package or toolkit is missing."""


class SimulationError(BrianSTDPError):
    """The simulation produced nonsense, e.g. runaway activity from an unstable integrator."""
