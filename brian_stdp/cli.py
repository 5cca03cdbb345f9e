"""What every command line shares: one error line for bad input, exit codes, help layout."""

from __future__ import annotations

import argparse
import gc
import sys
import traceback
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
        _release_brian_objects(err)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"\ninterrupted{interrupted_hint()}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _release_brian_objects(err: BaseException) -> None:
    """Free the Brian2 objects that a failed build left in the error's frames, without
    Brian2's "never included in a network" warnings: the error line stands alone."""
    brian2 = sys.modules.get("brian2")
    if brian2 is None:
        return
    prefs = brian2.prefs.logging
    warn = prefs.warn_for_unused_objects
    prefs.warn_for_unused_objects = False
    try:
        chain = []
        while err is not None and err not in chain:  # the error and the ones it replaced
            chain.append(err)
            err = err.__cause__ or err.__context__
        for link in chain:  # drop the frames and errors that hold the objects
            traceback.clear_frames(link.__traceback__)
            link.__traceback__ = link.__cause__ = link.__context__ = None
        del chain, link
        gc.collect()
    finally:
        prefs.warn_for_unused_objects = warn


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with each flag's default, except where there is none (None, False)
    or the help text already says it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default is None or action.default is False or "(default" in text:
            return text
        return super()._get_help_string(action)


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
