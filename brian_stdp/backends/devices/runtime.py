"""``runtime``, Brian2's runtime device (Python/Cython): the network is rebuilt and run for
every chunk (:class:`~brian_stdp.backends.session.RuntimeSession`). Slow, for debugging
small networks; it runs wherever Brian2 does.
"""

from __future__ import annotations

from brian_stdp.backends.devices import Device, register

NAME = "runtime"


def problem() -> str | None:
    """Nothing is missing: Brian2's runtime device runs wherever Brian2 does."""
    return None


DEVICE = register(Device(
    name=NAME,
    description="Brian2's runtime device (Python/Cython): slow, for debugging small networks",
    session="brian_stdp.backends.session:RuntimeSession",
    problem=problem,
    install="Brian2's runtime device comes with brian2: pip install brian2"))
