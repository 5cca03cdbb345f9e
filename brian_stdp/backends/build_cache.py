"""A cache of compiled standalone programs: a network compiled once compiles in seconds.

Compiling a standalone program takes 30-60 s, and a grid, a resumed run's workers and the
test suite build the same network again and again. :func:`seed` fills a new build folder
with a cached copy of an earlier build of the same network (same model, size, device,
compiler and CPU: :func:`cache_key`), keeping the files' modification times; Brian2 then
rewrites only the source files whose text differs, and ``make`` recompiles only what
depends on them. So a cached build saves time and does not change the program: an entry
that does not match costs a compile, as without the cache. The exception is a file that
Brian2 copies with its own modification time, which ``make`` does not see change: the
spike queue, which :mod:`.spike_queue` edits in place. Whatever decides such a file is part
of the key (``options``). :func:`store` adds a finished
build that has no entry yet (entries are never replaced, so a folder being copied from
never changes), and drops entries unused for :data:`MAX_AGE_DAYS`, or beyond
:data:`MAX_ENTRIES`.

The cache lives in ``$XDG_CACHE_HOME/brian_stdp/builds`` (``~/.cache/...``); the
environment variable ``BRIAN_STDP_BUILD_CACHE`` names another folder, or ``off``.
A cache that cannot be read or written is skipped with a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Environment variable: the cache folder, or ``off``.
CACHE_VARIABLE = "BRIAN_STDP_BUILD_CACHE"
#: Entries kept at most (each a few MB); the least recently used go first.
MAX_ENTRIES = 40
#: Entries unused for this long are dropped.
MAX_AGE_DAYS = 30
#: An entry used this recently is never dropped (another process may be copying it).
MIN_AGE_SECONDS = 3600
#: Folder in a run's build folder for the program of its label and test phases, where
#: they show the images longer than training does (``[protocol] t_present_eval``).
EVALUATION_BUILD = "evaluation"
#: What a build folder holds that is not the program (not cached, not copied to evaluation
#: workers): a run's inputs and outputs, the evaluation workers' folders and program.
NOT_CACHED = ("results", "static_arrays", "workers", EVALUATION_BUILD, "*.lock")


def cache_folder() -> Path | None:
    """The cache folder, or None when ``BRIAN_STDP_BUILD_CACHE=off``."""
    value = os.environ.get(CACHE_VARIABLE, "").strip()
    if value.lower() in ("off", "0", "no", "false"):
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "brian_stdp" / "builds"


def _cpu_identity() -> str:
    """The CPU's model and feature flags: programs are compiled with ``-march=native``."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    wanted = ("model name", "flags", "Features", "CPU part")
    return "\n".join(sorted({line for line in lines if line.split(":")[0].strip() in wanted}))


def cache_key(device: str, spec, n_neurons: int, n_input: int, slots: int,
              threads: int, profile: bool, **options) -> str:
    """Name of the entry for a network: a hash of everything its program depends on.

    Parameters
    ----------
    device : str
        Brian2 device name (``cpp_standalone``).
    spec : ModelSpec
        The model; its file's path and those of the files it extends are left out, so
        copies of a checkout, and a run's copy of its model, share entries.
    n_neurons, n_input, slots : int
        Excitatory neurons, input neurons, presentation slots per chunk.
    threads : int
        OpenMP threads.
    profile : bool
        Whether the program times its code objects.
    **options
        Anything else the program depends on (the session's flags).
    """
    import brian2
    from brian2 import prefs

    import brian_stdp

    model = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)
             if f.name not in ("path", "bases")}
    parts = [device, brian2.__version__, brian_stdp.__version__, repr(model), n_neurons,
             n_input, slots, threads, profile, os.environ.get("CXX", ""),
             prefs.codegen.cpp.extra_compile_args, prefs.codegen.cpp.extra_link_args,
             platform.machine(), _cpu_identity(), sorted(options.items())]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:24]
    return f"{spec.name}_n{n_neurons}_s{slots}_{digest}"


def seed(directory: Path, key: str) -> bool:
    """Copy the cached build ``key`` into ``directory`` unless it holds a program already.

    Returns
    -------
    bool
        Whether a cached build was copied.
    """
    folder = cache_folder()
    if folder is None or (Path(directory) / "main").exists():
        return False
    entry = folder / key
    if not entry.is_dir():
        return False
    try:
        shutil.copytree(entry, directory, dirs_exist_ok=True)
        os.utime(entry)  # last use, for eviction
    except OSError as error:
        log.warning("build cache %s: cannot copy (%s); compiling without it", entry, error)
        return False
    return True


def store(directory: Path, key: str) -> bool:
    """Add the compiled build in ``directory`` as entry ``key``, unless there is one.

    Returns
    -------
    bool
        Whether an entry was added.
    """
    folder = cache_folder()
    if folder is None or (folder / key).exists():
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder))
        shutil.copytree(directory, partial, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(*NOT_CACHED))
        try:
            partial.rename(folder / key)  # whole or not at all
        except OSError:  # another process stored it first
            shutil.rmtree(partial, ignore_errors=True)
            return False
        _evict(folder)
    except OSError as error:
        log.warning("build cache %s: cannot store the build (%s)", folder, error)
        return False
    return True


def _evict(folder: Path) -> None:
    """Drop entries unused for :data:`MAX_AGE_DAYS`, then the least recently used beyond
    :data:`MAX_ENTRIES`, and partial copies of crashed stores; never one used within
    :data:`MIN_AGE_SECONDS`."""
    now = time.time()
    used = {}
    for entry in folder.iterdir():
        try:
            used[entry] = entry.stat().st_mtime
        except OSError:  # dropped by another process meanwhile
            continue
    for rank, entry in enumerate(sorted(used, key=used.get, reverse=True)):
        age = now - used[entry]
        if age >= MIN_AGE_SECONDS and (rank >= MAX_ENTRIES or age > MAX_AGE_DAYS * 86400
                                       or entry.name.startswith(".")):
            shutil.rmtree(entry, ignore_errors=True)
