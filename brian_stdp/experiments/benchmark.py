"""Compile time, training speed and memory of a network on this machine
(``python -m brian_stdp.bench``).

For every device and network size it compiles the model once, then streams
MNIST training images through the network with learning on, in chunks, as the
trainer does. It prints one table and writes the figures as JSON.

Figures per row:

builds, compile s
    Programs generated and compiled, and the seconds that took (one build for
    cpp_standalone, before the first chunk; ``genn`` builds its plastic network
    when the first chunk runs, once, and re-runs it for every chunk).
img/s
    Training images completed per wall-clock second spent in
    ``Session.run_chunk`` (simulation plus reading and writing its arrays).
    Re-presentations, and the idle slots at the end of the last chunk, are
    part of the cost, as in the trainer's own figure.
img/s full chunks
    The same over every chunk but the last (all of whose slots show images):
    the rate of a long run, without the idle tail that weighs on a short one.
    ``-`` when all images fit into one chunk.
slots/s
    Presentation slots (each ``t_present + t_rest`` of simulated time)
    simulated per wall-clock second, idle ones included.
spikes/img, shown again %
    Output spikes of each image's last presentation; share of images shown
    more than once.
peak MiB
    ``py``: peak resident memory of this Python process (``ru_maxrss`` of
    ``RUSAGE_SELF``); ``children``: the largest peak of any child process so
    far (``RUSAGE_CHILDREN``). The compiler counts too, and Linux counts in a
    child the memory it shared with this process between ``fork`` and
    ``exec``, so this figure is at least the Python process's size when it
    started a child. ``sim``: peak of the simulation program itself
    (``VmHWM``), sampled from ``/proc`` every 0.2 s while it runs, from the
    moment it runs its own program (Linux).
    Both ``ru_maxrss`` figures only ever grow within one bench run.

After that table comes a second one, images/s per device and size, for
``--devices cpp_standalone,cuda_standalone,genn --neurons 400,1600,6400`` on a
GPU machine. A device that is not available here (package, toolkit or GPU
missing) gets a note with the install steps instead of figures. ``genn`` runs
the same chunk loop through :class:`~brian_stdp.backends.brian2genn.session.GennSession`
(the reference model replaced by its GeNN variant,
``models/diehl_cook_2015_genn.toml``; give ``--model diehl_cook_2015_genn`` to run
the same model on every device), which builds when the first chunk runs: its
img/s leaves that build out. Run
from the main environment, ``genn`` is measured in the GeNN environment
(``.venv-genn``) by the same command there.

The JSON file also records the memory after compiling, after the first chunk
and after the last chunk, to show that it does not grow with the number of
images, and the machine (CPU model and count) and versions.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brian_stdp.backends import devices as registry
from brian_stdp.backends.devices import DEFAULT_DEVICE, session_class
from brian_stdp.backends.network import draw_fixed
from brian_stdp.cli import check_positive, check_seed
from brian_stdp.data.datasets import load_dataset
from brian_stdp.errors import BrianSTDPError, ConfigError
from brian_stdp.model.spec import load_model
from brian_stdp.training import rundir
from brian_stdp.training.chunks import chunk_seed, stream
from brian_stdp.training.config import resolve_threads

DEFAULT_NEURONS = (100, 400, 1600)
DEFAULT_IMAGES = 2000
DEFAULT_CHUNK = 1000

@dataclass(frozen=True)
class BenchSettings:
    """What one benchmark measures (``python -m brian_stdp.bench`` flags of the same names).

    Attributes
    ----------
    neurons : tuple of int
        Network sizes (excitatory neurons).
    images : int
        Training images per size.
    chunk : int
        Presentation slots per compiled run.
    threads : int or None
        Threads of each simulation (cpp_standalone); None (``auto``): per size, as
        :func:`brian_stdp.training.config.resolve_threads` gives them (1 with ``profile``).
    profile : bool
        Time every code object (devices whose session can profile).
    model : str
        Model file name or path.
    devices : tuple of str
        Device names, measured one after the other.
    seed : int
        In [0, 2**32).
    data_dir : str or None
        Folder with MNIST's idx files; None: the usual places.
    """

    neurons: tuple = DEFAULT_NEURONS
    images: int = DEFAULT_IMAGES
    chunk: int = DEFAULT_CHUNK
    threads: int | None = None
    profile: bool = False
    model: str = "diehl_cook_2015"
    devices: tuple = (DEFAULT_DEVICE,)
    seed: int = 0
    data_dir: str | None = None


COLUMNS = (  # (heading, row key, format)
    ("device", "device", "{}"),
    ("size", "neurons", "{:d}"),
    ("threads", "threads", "{:d}"),
    ("builds", "builds", "{:d}"),
    ("compile s", "compile_seconds", "{:.1f}"),
    ("img/s", "images_per_second", "{:.2f}"),
    ("img/s full chunks", "full_chunk_images_per_second", "{:.2f}"),
    ("img/CPU-s full chunks", "full_chunk_images_per_cpu_second", "{:.2f}"),
    ("slots/s", "slots_per_second", "{:.2f}"),
    ("spikes/img", "spikes_per_image", "{:.1f}"),
    ("shown again %", "shown_again_percent", "{:.1f}"),
    ("peak MiB py", "peak_python_mib", "{:.0f}"),
    ("peak MiB children", "peak_children_mib", "{:.0f}"),
    ("peak MiB sim", "peak_sim_mib", "{:.0f}"),
)


def _children_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process's finished child processes (the
    simulation programs): unlike the wall time, they do not grow when other jobs share the
    cores, so old and new code compare on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- memory ------------------------------------------------------------------------------
def _kib_to_mib(kib) -> float:
    return float(kib) / 1024.0  # ru_maxrss and /proc figures are in KiB on Linux


def _proc_status_kib(pid, field: str):
    """A ``kB`` field of ``/proc/<pid>/status`` (e.g. VmRSS, VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _proc_exe(pid):
    """The program ``/proc/<pid>/exe`` points to, or None where it cannot be read."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def memory_snapshot() -> dict:
    """Current and peak memory of this process and its children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rss = _proc_status_kib("self", "VmRSS")
    return {"python_rss_mib": None if rss is None else _kib_to_mib(rss),
            "peak_python_mib": _kib_to_mib(own), "peak_children_mib": _kib_to_mib(children)}


class ChildPeakSampler:
    """Samples the peak resident memory (VmHWM) of this process's children.

    Used around one ``run_chunk``: a thread scans ``/proc`` for processes whose parent
    is this one until it finds some, then reads their ``VmHWM`` (a high-water mark)
    every ``interval`` seconds and keeps the largest seen. A child that still runs this
    process's program (forked, not yet ``exec``'d) is skipped: until ``exec`` it shares
    this process's memory, and its ``VmHWM`` would be this process's size. Growth in the
    last moments of a child can be missed; where ``/proc`` is not there the peak stays
    None. It wakes rarely and reads little: a simulation on threads waits for each of
    them at every time step, so a sampler that takes a core now and then slows all of
    them.
    """

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak_kib = interval, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._pid = str(os.getpid())
        self._own_exe = _proc_exe(self._pid)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    @property
    def peak_mib(self):
        return None if self.peak_kib is None else _kib_to_mib(self.peak_kib)

    def _children(self):
        try:
            entries = os.listdir("/proc")
        except OSError:
            return []
        pids = []
        for entry in entries:
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    # "pid (comm) state ppid ...": comm may hold spaces, so split after ")"
                    ppid = f.read().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if ppid == self._pid:
                pids.append(entry)
        return pids

    def _runs_this_program(self, pid) -> bool:
        return self._own_exe is not None and _proc_exe(pid) == self._own_exe

    def _loop(self):
        children = []
        while True:
            # A child on this program is skipped, not kept: one not yet exec'd is found
            # again at the next scan, and one that stays (a worker of this Python) must
            # not stop the scans that find the simulation.
            children = children or [pid for pid in self._children()
                                    if not self._runs_this_program(pid)]
            for pid in children:
                hwm = _proc_status_kib(pid, "VmHWM")
                if hwm is not None and (self.peak_kib is None or hwm > self.peak_kib):
                    self.peak_kib = hwm
            if self._stop.wait(self.interval if children else 0.02):
                break


# -- machine -----------------------------------------------------------------------------
def cpu_model() -> str | None:
    """The CPU's model name from ``/proc/cpuinfo``, or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return None


def machine_info(seed: int, devices) -> dict:
    prov = rundir.provenance(seed, ",".join(devices))
    return {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
            "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else None,
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "versions": prov["versions"], "git_commit": prov["git_commit"],
            "host": prov["host"], "platform": prov["platform"], "started": prov["started"],
            "command": prov["command"]}


# -- measuring ---------------------------------------------------------------------------
def bench_size(spec, dataset, neurons: int, images: int, chunk: int = DEFAULT_CHUNK,
               device: str = DEFAULT_DEVICE, threads: int = 1, seed: int = 0,
               log=None, profile: bool = False) -> dict:
    """Compile one network size and train it on ``images`` images; return its figures.

    With ``profile`` the row also holds ``profile_seconds``: the seconds spent in each
    code object, summed over the chunks (Brian2's profiler; it adds a clock reading
    before and after every code object, so the img/s of a profiled row are lower).
    """
    n_input = int(np.prod(dataset.shape))
    if images > len(dataset):
        raise ConfigError(f"--images {images}: the training split has only {len(dataset)}")
    order = np.random.default_rng([seed, 2, 1]).permutation(images)  # first `images`, shuffled
    slots = min(chunk, images)
    rec = {"spikes": np.zeros(images, dtype=np.uint32),
           "presentations": np.zeros(images, dtype=np.uint8)}
    build = Path(tempfile.mkdtemp(prefix=f"brian_stdp_bench_{neurons}n_"))
    session = None
    chunks = []
    try:
        rng = np.random.default_rng(seed)
        runner = session_class(device)
        spec = runner.adapt_spec(spec)
        session = runner(spec, neurons, n_input, slots, draw_fixed(spec, neurons, n_input, rng),
                         directory=build, threads=threads, profile=profile)
        state = session.initial_state(rng)
        start = time.perf_counter()
        session.compile()
        compile_wall = time.perf_counter() - start
        compile_seconds = session.compile_seconds or compile_wall
        after_compile = memory_snapshot()
        stream_of_chunks = stream(session, dataset.images, order, rec, state=state,
                                  plastic=True, seed_of=lambda k: chunk_seed(seed, 0, k),
                                  where=f"bench {neurons} neurons")
        while True:
            with ChildPeakSampler() as sampler:
                start, cpu_start = time.perf_counter(), _children_cpu_seconds()
                chunk = next(stream_of_chunks, None)
                wall = time.perf_counter() - start
                cpu = _children_cpu_seconds() - cpu_start
            if chunk is None:
                break
            shown = int(np.sum(chunk.result.slot_img < chunk.n_avail))
            chunks.append({"images": int(chunk.consumed), "presentations": shown,
                           "idle_slots": int(slots - shown), "wall_seconds": wall,
                           "cpu_seconds": cpu,
                           "simulation_seconds": chunk.result.seconds,
                           "input_spikes": chunk.result.input_spikes,
                           "sim_peak_mib": sampler.peak_mib, **memory_snapshot()})
            if log is not None:
                log(f"  {device} {neurons} neurons: {chunk.end}/{images} images, "
                    f"{chunk.consumed / max(wall, 1e-9):.2f} img/s in the last chunk")
        # a device that builds when a chunk first needs it (genn) adds that build's time
        # to compile_seconds; its chunk walls hold the build too, taken out of the img/s
        # figures below
        builds_in_chunks = (session.compile_seconds or compile_wall) - compile_seconds
        compile_seconds += builds_in_chunks
    finally:
        if session is not None:
            session.close()
        shutil.rmtree(build, ignore_errors=True)

    wall = sum(c["wall_seconds"] for c in chunks) - builds_in_chunks
    sim = sum(c["simulation_seconds"] for c in chunks)
    total_slots = slots * len(chunks)
    sim_peaks = [c["sim_peak_mib"] for c in chunks if c["sim_peak_mib"] is not None]
    full_wall = sum(c["wall_seconds"] for c in chunks[:-1]) - (builds_in_chunks
                                                              if len(chunks) > 1 else 0.0)
    # CPU seconds of the simulation processes; a lazy build's compiler runs as children
    # during a chunk and would count as simulation, so such devices get no figure
    full_cpu = (None if session.builds_lazily
                else sum(c["cpu_seconds"] for c in chunks[:-1]))
    full_images = sum(c["images"] for c in chunks[:-1])
    last = chunks[-1]
    keep = ("python_rss_mib", "peak_python_mib", "peak_children_mib", "sim_peak_mib")
    extra = {"profile_seconds": session.profile_seconds} if profile else {}
    return {
        **extra,
        "device": device, "neurons": neurons, "images": images, "slots_per_chunk": slots,
        "chunks": len(chunks), "threads": threads,
        "compile_seconds": compile_seconds, "builds": session.builds,
        "images_per_second": images / wall if wall else None,
        "full_chunk_images_per_second": full_images / full_wall if full_wall else None,
        "full_chunk_images_per_cpu_second": full_images / full_cpu if full_cpu else None,
        "images_per_simulation_second": images / sim if sim else None,
        "slots_per_second": total_slots / wall if wall else None,
        "run_chunk_seconds": wall, "simulation_seconds": sim,
        "presentations": int(sum(c["presentations"] for c in chunks)),
        "idle_slots": int(sum(c["idle_slots"] for c in chunks)),
        "spikes_per_image": float(rec["spikes"].mean()),
        "shown_again_percent": 100.0 * float(np.mean(rec["presentations"] > 1)),
        "mean_presentations": float(rec["presentations"].mean()),
        "peak_python_mib": last["peak_python_mib"],
        "peak_children_mib": last["peak_children_mib"],
        "peak_sim_mib": max(sim_peaks) if sim_peaks else None,
        "memory": {"after_compile": after_compile,
                   "after_first_chunk": {k: chunks[0][k] for k in keep},
                   "after_last_chunk": {k: last[k] for k in keep}},
        "per_chunk": chunks,
    }


def format_table(rows) -> str:
    """The rows as one aligned text table."""
    cells = [[heading for heading, _, _ in COLUMNS]]
    for row in rows:
        cells.append(["-" if row.get(key) is None else fmt.format(row[key])
                      for _, key, fmt in COLUMNS])
    widths = [max(len(line[k]) for line in cells) for k in range(len(COLUMNS))]
    lines = []
    for n, line in enumerate(cells):
        text = "  ".join(cell.ljust(w) if k == 0 else cell.rjust(w)
                         for k, (cell, w) in enumerate(zip(line, widths)))
        lines.append(text.rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def row_elsewhere(python, device: str, args: BenchSettings, neurons: int) -> dict:
    """Run the benchmark of one device and size in another environment (``python``, e.g.
    the GeNN environment's): this same command there; return its row."""
    import json
    import subprocess

    with tempfile.TemporaryDirectory(prefix=f"brian_stdp_{device}_") as folder:
        out = Path(folder) / "bench.json"
        command = [str(python), "-m", "brian_stdp.bench", "--devices", device, "--neurons",
                   str(neurons), "--images", str(args.images), "--chunk", str(args.chunk),
                   "--model", args.model, "--seed", str(args.seed), "--out", str(out),
                   "--quiet"]
        if args.data_dir:
            command += ["--data-dir", str(args.data_dir)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["?"]
            raise RuntimeError(f"the environment of {python} failed: {tail[0]}")
        return json.loads(out.read_text())["rows"][0]


def format_profile(row, top: int = 12) -> str:
    """Where the time of one profiled row went: the ``top`` code objects by seconds, each
    with its share of all profiled time."""
    seconds = row["profile_seconds"]
    total = sum(seconds.values()) or 1.0
    lines = [f"where the time goes, {row['device']}, {row['neurons']} neurons "
             f"({total:.1f} s in code objects):"]
    ranked = sorted(seconds.items(), key=lambda item: -item[1])
    width = max((len(name) for name, _ in ranked[:top]), default=0)
    for name, value in ranked[:top]:
        lines.append(f"  {name.ljust(width)}  {value:7.2f} s  {100 * value / total:5.1f} %")
    rest = sum(value for _, value in ranked[top:])
    if rest:
        lines.append(f"  {'the other ' + str(len(ranked) - top):<{width}}  {rest:7.2f} s  "
                     f"{100 * rest / total:5.1f} %")
    return "\n".join(lines)


def format_summary(rows) -> str:
    """Images/s per device (rows) and network size (columns), as one text table.

    A device that is not available here, or that failed, shows a reference
    ``[n]`` in its cells; the notes under the table give the install steps or
    the error.
    """
    devices = list(dict.fromkeys(row["device"] for row in rows))
    sizes = sorted({row["neurons"] for row in rows})
    notes = []
    cells = [["images/s", *[f"{n} neurons" for n in sizes]]]
    for device in devices:
        line = [device]
        for size in sizes:
            row = next((r for r in rows if r["device"] == device and r["neurons"] == size), {})
            text = row.get("unavailable") or row.get("failed")
            if text:
                if text not in notes:
                    notes.append(text)
                kind = "unavailable" if "unavailable" in row else "failed"
                line.append(f"{kind} [{notes.index(text) + 1}]")
            elif row.get("images_per_second") is not None:
                line.append(f"{row['images_per_second']:.2f}")
            else:
                line.append("-")
        cells.append(line)
    widths = [max(len(line[k]) for line in cells) for k in range(len(cells[0]))]
    lines = []
    for n, line in enumerate(cells):
        lines.append("  ".join(cell.ljust(w) if k == 0 else cell.rjust(w)
                               for k, (cell, w) in enumerate(zip(line, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    for k, note in enumerate(notes, start=1):
        lines.append(f"[{k}] {note}")
    return "\n".join(lines)


def run_benchmark(settings: BenchSettings, log=None) -> dict:
    """Measure every device and size of ``settings``; return the JSON document (machine,
    settings, table and summary lines, one row per device and size).

    ``log(text)`` is told what is being measured; None: silent. A device that cannot run
    here gets a row with its install steps (``unavailable``); an optional device that
    fails gets a row with the error (``failed``), so the others' figures are kept.

    Raises
    ------
    ConfigError
        For a setting out of range (named as its flag) or an unknown device.
    """
    chosen = list(settings.devices)
    if not chosen:
        raise ConfigError("--device: give at least one device")
    unavailable, elsewhere = {}, {}
    for device in chosen:
        problem = registry.device_problem(device)
        if problem and device not in registry.names():
            raise ConfigError(problem)
        python = registry.get(device).python_elsewhere() if problem else None
        if python is not None:  # another environment (.venv-genn) runs it
            elsewhere[device] = python
            problem = registry.problem_elsewhere(device, python)
        if problem:
            unavailable[device] = problem
    if settings.profile and not all(registry.session_class(d).can_profile for d in chosen):
        profilers = [d for d in registry.names() if registry.session_class(d).can_profile]
        raise ConfigError(f"--profile times the code objects of {', '.join(profilers)} only: "
                          f"leave it out or use --device {profilers[0]}")
    for flag in ("images", "chunk"):
        check_positive(getattr(settings, flag), f"--{flag}")
    check_positive(settings.threads, "--threads", optional=True)
    check_seed(settings.seed)
    spec = load_model(settings.model)
    dataset = load_dataset("mnist", "train", data_dir=settings.data_dir)
    if settings.images > len(dataset):
        raise ConfigError(f"--images {settings.images}: the MNIST training split has only "
                          f"{len(dataset)} images")
    rows = []
    for device in chosen:
        for neurons in settings.neurons:
            if device in unavailable:
                rows.append({"device": device, "neurons": neurons,
                             "unavailable": unavailable[device]})
                continue
            if log is not None:
                log(f"{device}, {neurons} neurons: compiling")
            try:
                if device in elsewhere:
                    row = row_elsewhere(elsewhere[device], device, settings, neurons)
                else:
                    row = bench_size(spec, dataset, neurons, settings.images,
                                     chunk=settings.chunk, device=device,
                                     threads=1 if settings.profile and settings.threads is None
                                     else resolve_threads(settings.threads, neurons),
                                     seed=settings.seed, log=log,
                                     profile=settings.profile)
            except BrianSTDPError:
                raise
            except Exception as err:  # an optional device's failure keeps the others' figures
                if not registry.session_class(device).optional:
                    raise
                row = {"device": device, "neurons": neurons,
                       "failed": f"{type(err).__name__}: {err}".strip()}
            rows.append(row)
    measured = [row for row in rows if "unavailable" not in row and "failed" not in row]
    return {"machine": machine_info(settings.seed, chosen),
            "settings": {"model": spec.name, "images": settings.images,
                         "chunk": settings.chunk, "threads": settings.threads,
                         "seed": settings.seed, "devices": chosen,
                         "profile": settings.profile, "neurons": list(settings.neurons)},
            "table": format_table(measured).splitlines(),
            "summary": format_summary(rows).splitlines(),
            "rows": rows}
