"""What every command line shares: one error line for bad input, exit codes."""

from __future__ import annotations

import sys

from .errors import BrianSTDPError

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
