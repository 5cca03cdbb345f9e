"""``cuda_standalone``, brian2cuda's GPU device: its availability, install steps and settings.

It drives the same chunked session as ``cpp_standalone``
(:class:`~brian_stdp.backends.session.CudaStandaloneSession`): the program is compiled
once and re-run per chunk. brian2cuda is imported only by the session, never here.

brian2cuda settings
-------------------
:func:`configure_cuda` fills in what brian2cuda 1.0b1 needs on the machines
this project targets, where its defaults fail:

* Without a visible GPU (no ``nvidia-smi`` listing one) brian2cuda's GPU
  detection fails, so ``detect_gpus`` is turned off and an explicit ``gpu_id``
  (0) and ``compute_capability`` (9.0, an H100/H200) are set.
* A CUDA toolkit without cuRAND: the headers and library of the
  ``nvidia-curand-cu12`` wheel are added to the nvcc and linker flags.
* brian2cuda's makefile asks for C++11, but the Thrust of CUDA 13 needs
  C++17: ``-std=c++17`` is appended to the nvcc flags (nvcc uses the last
  ``-std`` it is given), and Brian2's ``-std=c++11`` among the host compiler's
  flags (``codegen.cpp.extra_compile_args_gcc``, which nvcc passes on last) is
  replaced with it. That preference is global: a ``cpp_standalone`` session
  later in the same process also compiles as C++17, which Brian2's C++ code
  allows.

A user overrides these with environment variables (read when a session is
built): ``BRIAN_STDP_CUDA_DETECT_GPUS`` (``1``/``0``),
``BRIAN_STDP_CUDA_GPU_ID``, ``BRIAN_STDP_CUDA_COMPUTE_CAPABILITY`` (e.g.
``8.0``), ``BRIAN_STDP_CUDA_STD`` (e.g. ``c++20``, or ``none`` to keep
brian2cuda's own). Brian2 preferences a user sets before the session (``gpu_id``,
``compute_capability``, or a ``-std=`` flag in ``extra_compile_args_nvcc``) are
kept as they are.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from brian_stdp.backends.devices import Device, machine, register
from brian_stdp.errors import DeviceError

NAME = "cuda_standalone"

#: Compute capability assumed when no GPU is visible to detect it from (H100/H200).
DEFAULT_COMPUTE_CAPABILITY = 9.0

#: C++ standard that CUDA 13's Thrust needs (brian2cuda's makefile says c++11).
DEFAULT_CUDA_STD = "c++17"

#: How to install brian2cuda.
INSTALL = (
    "brian2cuda is not installed. Install it into this environment with\n"
    "    pip install 'brian2cuda==1.0b1' nvidia-curand-cu12\n"
    "(or pip install -e '.[cuda]'). brian2cuda 1.0b1 is a pre-release that pins "
    "brian2 2.10.1; nvidia-curand-cu12 provides cuRAND where the CUDA toolkit lacks it. "
    "nvcc (the CUDA toolkit) must be on PATH.")


# -- availability ------------------------------------------------------------------------
def cuda_problem() -> str | None:
    """What is missing for brian2cuda (brian2 >= 2.6, the package, nvcc, cuRAND, a GPU),
    with install steps, or None."""
    rerun = machine.rerun_problem(NAME)
    if rerun:
        return rerun
    if importlib.util.find_spec("brian2cuda") is None:
        return f"--device {NAME}: {INSTALL}"
    if shutil.which("nvcc") is None and not os.environ.get("CUDA_PATH"):
        return (f"--device {NAME}: nvcc (the CUDA toolkit's compiler) is not on PATH "
                "and CUDA_PATH is not set. Install the CUDA toolkit "
                "(https://developer.nvidia.com/cuda-downloads) and put its bin/ on PATH.")
    if curand_dirs() is None and not _toolkit_has_curand():
        return (f"--device {NAME}: cuRAND is missing (neither the CUDA toolkit nor "
                "the nvidia-curand-cu12 wheel provides curand.h). Install it with\n"
                "    pip install nvidia-curand-cu12")
    if machine.visible_gpus() == 0 and not Path("/dev/nvidia0").exists():
        return (f"--device {NAME}: no NVIDIA GPU is visible here (nvidia-smi lists "
                "none, no /dev/nvidia0). brian2cuda can generate and compile the program "
                "without one (tests/backends/test_cuda.py), but running it needs a GPU.")
    return None


DEVICE = register(Device(
    name=NAME,
    description="brian2cuda's GPU device: compiled once, re-run per chunk like cpp_standalone",
    session="brian_stdp.backends.session:CudaStandaloneSession",
    problem=cuda_problem, install=INSTALL))


# -- brian2cuda --------------------------------------------------------------------------
def curand_dirs() -> tuple | None:
    """(include folder, library file) of the ``nvidia-curand`` wheel, or None if absent."""
    spec = importlib.util.find_spec("nvidia")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        include = Path(root) / "curand" / "include"
        libs = sorted((Path(root) / "curand" / "lib").glob("libcurand.so*"))
        if (include / "curand.h").is_file() and libs:
            return include, libs[0]
    return None


def _toolkit_has_curand() -> bool:
    nvcc = shutil.which("nvcc")
    roots = [os.environ.get("CUDA_PATH", ""), "/usr/local/cuda"]
    if nvcc:
        roots.append(str(Path(nvcc).resolve().parent.parent))
    return any(root and (Path(root) / "include" / "curand.h").is_file() for root in roots)


@dataclass(frozen=True)
class CudaSettings:
    """What :func:`configure_cuda` sets for brian2cuda.

    Attributes
    ----------
    detect_gpus : bool
        brian2cuda's GPU detection (needs a visible GPU).
    gpu_id : int or None
        GPU to run on (None: brian2cuda picks the best detected one).
    compute_capability : float or None
        Architecture to compile for (None: that of the detected GPU).
    nvcc_flags : tuple of str
        Flags appended to ``extra_compile_args_nvcc`` (C++ standard, cuRAND headers).
    curand_library : Path or None
        The cuRAND shared library to link against, if the toolkit lacks one.
    """

    detect_gpus: bool
    gpu_id: int | None
    compute_capability: float | None
    nvcc_flags: tuple
    curand_library: Path | None


def cuda_settings(environ: Mapping, gpus: int, curand=None, user_gpu_id=None,
                  user_compute_capability=None, user_nvcc_flags=()) -> CudaSettings:
    """Decide brian2cuda's settings (pure: no side effects).

    Parameters
    ----------
    environ : mapping
        Environment variables (``BRIAN_STDP_CUDA_*`` overrides; see the module).
    gpus : int
        Number of visible GPUs.
    curand : (Path, Path) or None
        cuRAND include folder and library file (:func:`curand_dirs`), if needed.
    user_gpu_id, user_compute_capability, user_nvcc_flags
        The user's current brian2cuda preferences; values set there are kept.

    Raises
    ------
    DeviceError
        For an environment variable that does not parse.
    """
    def number(key, kind):
        text = environ.get(key, "").strip()
        if not text:
            return None
        try:
            return kind(text)
        except ValueError:
            raise DeviceError(f"environment variable {key}={text!r}: not a valid "
                              f"{'whole number' if kind is int else 'number such as 9.0'}"
                              ) from None

    detect_text = environ.get("BRIAN_STDP_CUDA_DETECT_GPUS", "").strip().lower()
    if detect_text in ("", "auto"):
        detect = gpus > 0
    elif detect_text in ("1", "true", "yes"):
        detect = True
    elif detect_text in ("0", "false", "no"):
        detect = False
    else:
        raise DeviceError(f"environment variable BRIAN_STDP_CUDA_DETECT_GPUS={detect_text!r}: "
                          f"use 1, 0 or auto")
    gpu_id = user_gpu_id
    if gpu_id is None:
        gpu_id = number("BRIAN_STDP_CUDA_GPU_ID", int)
    if gpu_id is None and not detect:
        gpu_id = 0
    capability = user_compute_capability
    if capability is None:
        capability = number("BRIAN_STDP_CUDA_COMPUTE_CAPABILITY", float)
    if capability is None and not detect:
        capability = DEFAULT_COMPUTE_CAPABILITY
    flags = []
    std = environ.get("BRIAN_STDP_CUDA_STD", DEFAULT_CUDA_STD).strip() or DEFAULT_CUDA_STD
    if std.lower() != "none" and not any(f.startswith(("-std", "--std")) for f in
                                         user_nvcc_flags):
        flags.append(f"-std={std}")
    library = None
    if curand is not None:
        include, library = curand
        if f"-I{include}" not in user_nvcc_flags:
            flags.append(f"-I{include}")
    return CudaSettings(detect_gpus=detect, gpu_id=gpu_id, compute_capability=capability,
                        nvcc_flags=tuple(flags), curand_library=library)


def configure_cuda(directory) -> CudaSettings:
    """Set brian2cuda's preferences for this machine (after ``set_device("cuda_standalone")``).

    Parameters
    ----------
    directory : path
        The build folder; a folder ``curand_link`` inside it gets a
        ``libcurand.so`` link to the wheel's library for the linker.

    Returns
    -------
    CudaSettings
        What was decided (see :func:`cuda_settings`).
    """
    import brian2

    backend = brian2.prefs.devices.cuda_standalone.cuda_backend
    curand = None if _toolkit_has_curand() else curand_dirs()
    settings = cuda_settings(os.environ, machine.visible_gpus(), curand,
                             user_gpu_id=backend.gpu_id,
                             user_compute_capability=backend.compute_capability,
                             user_nvcc_flags=list(backend.extra_compile_args_nvcc))
    backend.detect_gpus = settings.detect_gpus
    backend.gpu_id = settings.gpu_id
    backend.compute_capability = settings.compute_capability
    backend.extra_compile_args_nvcc = (list(backend.extra_compile_args_nvcc)
                                       + list(settings.nvcc_flags))
    std = next((flag for flag in settings.nvcc_flags if flag.startswith("-std=")), None)
    host_args = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    if std is not None and "-std=c++11" in host_args:
        # nvcc hands these to the host compiler after its own flags, so they decide
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = [std if arg == "-std=c++11" else arg
                                                           for arg in host_args]
    if settings.curand_library is not None:
        link_dir = Path(directory) / "curand_link"
        link_dir.mkdir(parents=True, exist_ok=True)
        link = link_dir / "libcurand.so"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(settings.curand_library)
        device = brian2.get_device()
        device.library_dirs = list(device.library_dirs) + [str(link_dir)]
        device.runtime_library_dirs = (list(device.runtime_library_dirs)
                                       + [str(settings.curand_library.parent)])
    return settings


#: Code inserted into brian2cuda's ``main``: reseed cuRAND from the environment.
CUDA_SEED_CODE = """
{{
    const char* _seed_text = getenv("{var}");
    if (_seed_text)
        random_number_buffer.set_seed(strtoull(_seed_text, NULL, 10));
}}
"""
