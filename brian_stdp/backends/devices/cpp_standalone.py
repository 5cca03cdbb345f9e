"""``cpp_standalone``, Brian2's C++ standalone device (the default): the program is compiled
once and re-run per chunk with new values
(:class:`~brian_stdp.backends.session.StandaloneSession`).

It needs a C++ compiler and brian2 >= 2.6 (Brian2's ``run_args``).
"""

from __future__ import annotations

import shutil

from brian_stdp.backends.devices import Device, machine, register

NAME = "cpp_standalone"


def problem() -> str | None:
    """What is missing for ``cpp_standalone`` (a C++ compiler, brian2 >= 2.6), or None."""
    if not (shutil.which("c++") or shutil.which("g++")):
        return (f"--device {NAME} needs a C++ compiler (g++), which is not on PATH. "
                "Install one (Debian: apt-get install g++) or use --device runtime for small "
                "networks.")
    return machine.rerun_problem(NAME)


DEVICE = register(Device(
    name=NAME,
    description="Brian2's C++ standalone device: compiled once, re-run per chunk (default)",
    session="brian_stdp.backends.session:StandaloneSession",
    problem=problem,
    install=("Brian2's C++ standalone device comes with brian2 (pip install 'brian2>=2.6'); it "
             "needs a C++ compiler (g++) on PATH: on Debian, apt-get install g++")))
