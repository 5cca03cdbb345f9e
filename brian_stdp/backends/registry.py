"""Which session class drives a device: the one place that maps device names to runners.

The trainer (and anything else that runs chunks) asks :func:`session_class`
for the class and uses only the interface that
:class:`~brian_stdp.backends.session.Session` and
:class:`~brian_stdp.backends.genn.session.GennSession` share: ``adapt_spec``,
``initial_state``, ``compile``, ``run_chunk``, ``handles``, ``slots``,
``fixed``, ``compile_seconds``, ``close`` and ``delete_build``.
"""

from __future__ import annotations


def session_class(device: str) -> type:
    """The session class for ``device``: GennSession for ``genn`` (one build per chunk),
    Session (compiled once, re-run per chunk) for the others."""
    if device == "genn":
        from brian_stdp.backends.genn.session import GennSession

        return GennSession
    from brian_stdp.backends.session import Session

    return Session
