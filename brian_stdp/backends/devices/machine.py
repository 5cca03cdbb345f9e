"""What this machine and environment offer the devices: Brian2's version, visible GPUs.

Shared by the availability checks of several device modules; nothing here imports Brian2
(which would install Brian2's Ctrl-C handler in processes that only plan runs).
"""

from __future__ import annotations

import shutil
import subprocess


def brian2_reruns_programs() -> bool:
    """Whether Brian2's standalone device can re-run a program with new values (>= 2.6).

    Read from the installed version, not by importing Brian2.
    """
    import importlib.metadata
    import re

    try:
        version = importlib.metadata.version("brian2")
    except importlib.metadata.PackageNotFoundError:
        return False
    numbers = re.match(r"(\d+)\.(\d+)", version)
    return numbers is not None and (int(numbers[1]), int(numbers[2])) >= (2, 6)


def rerun_problem(name: str) -> str | None:
    """Why device ``name``, which re-runs one compiled program per chunk, cannot with this
    Brian2 (older than 2.6), or None."""
    if brian2_reruns_programs():
        return None
    import importlib.metadata

    try:
        version = importlib.metadata.version("brian2")
    except importlib.metadata.PackageNotFoundError:
        version = "(not installed)"
    return (f"--device {name}: the chunked runner re-runs one compiled program with new "
            f"values (Brian2's run_args), which needs brian2 >= 2.6; this environment has "
            f"brian2 {version} (the GeNN environment?). Use --device runtime, "
            f"or the single-run formulation (python -m brian_stdp.genn).")


def visible_gpus() -> int:
    """Number of NVIDIA GPUs ``nvidia-smi -L`` lists (0 when it is missing or fails)."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return 0
    if out.returncode != 0:
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))
