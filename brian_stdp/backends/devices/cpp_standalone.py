"""``cpp_standalone``, Brian2's C++ standalone device (the default): the program is compiled
once and re-run per chunk with new values
(:class:`~brian_stdp.backends.session.StandaloneSession`).

It needs a C++ compiler and brian2 >= 2.6 (Brian2's ``run_args``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from brian_stdp.backends.devices import Device, machine, register

NAME = "cpp_standalone"

#: GCC vectorises a loop whose arrays it cannot prove apart only behind run-time checks
#: that they do not overlap, one per pair of arrays, and at most 10 of them by default
#: (``vect-max-version-for-alias-checks``): Diehl & Cook's excitatory state update, which
#: writes 7 arrays, then stayed scalar (runs/NOTES.md, "Vectorised state updates").
ALIAS_CHECKS_FLAG = "--param=vect-max-version-for-alias-checks=64"


def problem() -> str | None:
    """What is missing for ``cpp_standalone`` (a C++ compiler, brian2 >= 2.6), or None."""
    if not (shutil.which("c++") or shutil.which("g++")):
        return (f"--device {NAME} needs a C++ compiler (g++), which is not on PATH. "
                "Install one (Debian: apt-get install g++) or use --device runtime for small "
                "networks.")
    return machine.rerun_problem(NAME)


@functools.cache
def vectorising_flags() -> tuple:
    """The compiler flags that let the program's loops over many arrays be vectorised:
    ``(ALIAS_CHECKS_FLAG,)`` where the C++ compiler of Brian2's makefile (``$CXX``, else
    ``g++``) takes it, else ``()`` (another compiler: the program is compiled as before)."""
    compiler = os.environ.get("CXX") or "g++"
    try:
        done = subprocess.run([compiler, ALIAS_CHECKS_FLAG, "-x", "c++", "-fsyntax-only", "-"],
                              input="", capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ()
    return (ALIAS_CHECKS_FLAG,) if done.returncode == 0 and not done.stderr.strip() else ()


DEVICE = register(Device(
    name=NAME,
    description="Brian2's C++ standalone device: compiled once, re-run per chunk (default)",
    session="brian_stdp.backends.session:StandaloneSession",
    problem=problem,
    install=("Brian2's C++ standalone device comes with brian2 (pip install 'brian2>=2.6'); it "
             "needs a C++ compiler (g++) on PATH: on Debian, apt-get install g++")))
