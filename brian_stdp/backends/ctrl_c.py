"""A process that ignores Ctrl-C (SIGINT) keeps ignoring it after Brian2's import.

A job started in the background by a script (``cmd &``, ``nohup``, ``setsid``)
ignores SIGINT. Brian2's import (2.10) replaces that with its own handler, which
wraps the ignored disposition and then fails on Ctrl-C (``TypeError: 'Handlers'
object is not callable``); and the compiled program, started from a process with
a Python handler, gets the default disposition and stops. :func:`keep_ignored`
puts SIG_IGN back; the simulation session calls it on import, after Brian2's.
A process that answers Ctrl-C is left as Brian2 sets it (Ctrl-C stops a run at
the end of its time step).
"""

from __future__ import annotations

import signal
import threading


def keep_ignored() -> bool:
    """Ignore SIGINT again where Brian2's handler wraps an ignored SIGINT.

    Returns
    -------
    bool
        True when SIG_IGN was put back; False elsewhere (SIGINT answered, no
        Brian2 handler, or not the main thread, where handlers cannot be set).
    """
    handler = signal.getsignal(signal.SIGINT)
    wrapped = getattr(handler, "previous_handler", None)
    if wrapped is not signal.SIG_IGN or threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return True
