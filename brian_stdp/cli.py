"""What every command line shares: one error line for bad input, exit codes."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from .errors import BrianSTDPError, ConfigError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def guarded(body, interrupted_hint=lambda: "") -> int:
    """Run ``body()`` and return its exit code.

    Bad input (any :class:`BrianSTDPError`) prints ``error: MESSAGE`` and
    returns 2, without a traceback; Ctrl-C prints ``interrupted`` plus
    ``interrupted_hint()`` and returns 130.
    """
    try:
        return body()
    except BrianSTDPError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"\ninterrupted{interrupted_hint()}", file=sys.stderr)
        return EXIT_INTERRUPTED


def read_toml_file(path: Path, where: str, missing: str = "file not found") -> dict:
    """The contents of a TOML file given on the command line.

    Raises
    ------
    ConfigError
        ``WHERE: MISSING`` when the file does not exist, ``WHERE: not valid
        TOML (...)`` when it does not parse.
    """
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{where}: {missing}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{where}: not valid TOML ({err})") from None
