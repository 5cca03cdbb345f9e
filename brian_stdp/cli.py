"""What every command line shares: one error line for bad input, exit codes, help layout."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import sys
import tomllib
import traceback
from pathlib import Path

from brian_stdp.errors import BrianSTDPError, ConfigError

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
    if brian2 is None or "logging.warn_for_unused_objects" not in brian2.prefs:
        return  # brian2 < 2.6 (the GeNN environment) has no such switch
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


class _BarSafeHandler(logging.Handler):
    """Writes each message on a line of its own to standard error, above a progress bar
    that is being drawn (tqdm's ``write``) instead of into it."""

    def emit(self, record):
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 (logging's own convention)
            self.handleError(record)


def console_log(quiet: bool) -> None:
    """Log the package's messages to the console only (warnings only if ``quiet``); drop
    every handler set before."""
    logger = logging.getLogger("brian_stdp")
    logger.setLevel(logging.DEBUG)  # the handlers choose what they show
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    console = _BarSafeHandler()
    console.setFormatter(logging.Formatter("%(message)s"))
    console.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.addHandler(console)


def file_log(path: Path) -> logging.Handler:
    """Also log every message, with its time and level, to the file ``path`` (a run's
    log); return the handler, for the caller to remove and close."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger("brian_stdp")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return handler


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


# -- small checks every command shares --------------------------------------------------------
def is_positive_count(value) -> bool:
    """Whether ``value`` is a whole number of at least 1 (an int; True and False are not)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_positive(value, name: str, optional: bool = False) -> None:
    """Raise :class:`ConfigError` ``NAME must be a positive whole number, not VALUE``
    unless :func:`is_positive_count` (or, if ``optional``, None: "left out")."""
    if optional and value is None or is_positive_count(value):
        return
    left_out = " (or left out)" if optional else ""
    raise ConfigError(f"{name} must be a positive whole number{left_out}, not {value!r}")


#: Seeds are 32-bit: the compiled programs' random generators take them so.
SEED_LIMIT = 2**32


def check_seed(value, name: str = "--seed") -> None:
    """Raise :class:`ConfigError` ``NAME must be a whole number in [0, 2**32), not VALUE``
    unless ``value`` is such an int."""
    if not (isinstance(value, int) and not isinstance(value, bool)
            and 0 <= value < SEED_LIMIT):
        raise ConfigError(f"{name} must be a whole number in [0, 2**32), not {value!r}")


def positive_counts(text: str) -> list:
    """Positive whole numbers separated by commas, from a flag's text: ``"100,400"`` ->
    ``[100, 400]`` (spaces and empty items ignored); an argparse ``type``.

    Raises
    ------
    argparse.ArgumentTypeError
        No number, or an item that is not a positive whole number.
    """
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or not all(is_positive_count(v) for v in values):
        raise argparse.ArgumentTypeError(f"{text}: expected positive integers, "
                                         f"comma-separated, e.g. 100,400")
    return values


# -- settings declared once -------------------------------------------------------------------
def whole_number_or(text: str, word: str):
    """A flag's whole number, or None for ``word`` (such as ``all``)."""
    if text.lower() == word:
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number or '{word}': {text!r}") from None


def count(text: str):
    """A whole number of images, or ``all`` (None)."""
    return whole_number_or(text, "all")


def setting(default, help: str, parse=None, metavar=None, choices=None):
    """A config field with its command-line flag's help, declared next to its default.

    Parameters
    ----------
    default
        The default value.
    help : str
        The flag's help text (``--help``; the default is appended there).
    parse : callable, optional
        Turns the flag's text into the value (e.g. :func:`count`); default: the
        type of ``default``. A bool is a flag without a value.
    metavar, choices : optional
        As in :meth:`argparse.ArgumentParser.add_argument`.
    """
    return dataclasses.field(default=default, metadata={
        "help": help, "parse": parse, "metavar": metavar, "choices": choices})


def add_setting_flags(p: argparse.ArgumentParser, config_type, help_extra=None) -> None:
    """Add a ``--name`` flag for every field of the dataclass ``config_type`` that was
    declared with :func:`setting` (``_`` becomes ``-``).

    ``help_extra`` maps a field name to text appended to its help (e.g. a list
    that is only known at run time).
    """
    for field in dataclasses.fields(config_type):
        if "help" not in field.metadata:
            continue
        meta, flag = field.metadata, "--" + field.name.replace("_", "-")
        text = meta["help"] + (help_extra or {}).get(field.name, "")
        if isinstance(field.default, bool):
            p.add_argument(flag, action="store_true", help=text)
            continue
        parse = meta["parse"] or (type(field.default) if field.default is not None else str)
        p.add_argument(flag, type=parse, default=field.default, help=text,
                       metavar=meta["metavar"], choices=meta["choices"])


def settings_from_args(args, config_type) -> dict:
    """The values of every :func:`setting` field of ``config_type`` in parsed ``args``."""
    return {field.name: getattr(args, field.name) for field in dataclasses.fields(config_type)
            if "help" in field.metadata}
