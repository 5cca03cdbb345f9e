"""Tests of --device cuda_standalone (brian2cuda) on a machine without a GPU.

The default test generates the CUDA project of a small network through the
chunked Session and checks what the package put into it (no compiler run).
The long test compiles it with the local nvcc; running it needs a GPU.
"""

import importlib.util
import shutil
import time
from pathlib import Path

import brian2
import numpy as np
import pytest

from brian_stdp.backends.devices import cuda_standalone, machine
from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import SEED_VARIABLE, CudaStandaloneSession
from brian_stdp.model.spec import load_model

pytestmark = pytest.mark.skipif(importlib.util.find_spec("brian2cuda") is None,
                                reason="brian2cuda is not installed (pip install -e '.[cuda]')")

_PREFS = ("devices.cuda_standalone.cuda_backend.detect_gpus",
          "devices.cuda_standalone.cuda_backend.gpu_id",
          "devices.cuda_standalone.cuda_backend.compute_capability",
          "devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc",
          "codegen.cpp.extra_compile_args_gcc")


@pytest.fixture
def cuda_session(tmp_path, monkeypatch):
    """A Session of a 4-neuron network on cuda_standalone, as if no GPU were visible."""
    monkeypatch.setattr(machine, "visible_gpus", lambda: 0)
    for key in list(cuda_standalone.os.environ):
        if key.startswith("BRIAN_STDP_CUDA_"):
            monkeypatch.delenv(key)
    importlib.import_module("brian2cuda")  # registers the device and its preferences
    saved = {name: brian2.prefs[name] for name in _PREFS}
    saved = {name: list(v) if isinstance(v, list) else v for name, v in saved.items()}
    spec = load_model("diehl_cook_2015")
    session = CudaStandaloneSession(spec, 4, 16, 2,
                                    draw_fixed(spec, 4, 16, np.random.default_rng(0)),
                                    directory=tmp_path / "build")
    yield session
    session.close()
    for name, value in saved.items():
        brian2.prefs[name] = value


def test_generated_cuda_project_has_the_package_settings(cuda_session, monkeypatch):
    build = cuda_session.directory
    calls = []
    monkeypatch.setattr(brian2.get_device(), "compile_source",
                        lambda *args, **kwargs: calls.append(args))
    cuda_session.compile()
    assert len(calls) == 1  # generation done, compiler not run
    backend = brian2.prefs.devices.cuda_standalone.cuda_backend
    assert backend.detect_gpus is False and backend.gpu_id == 0
    assert backend.compute_capability == 9.0
    makefile = (build / "makefile").read_text()
    nvcc_flags = next(line for line in makefile.splitlines() if line.startswith("NVCCFLAGS"))
    # nvcc and the host compiler both take the last -std: C++17 for CUDA 13's Thrust
    assert nvcc_flags.rindex("-std=c++17") > nvcc_flags.index("-std=c++11")
    assert "-std=c++11" not in nvcc_flags.split("-Xcompiler", 1)[1]
    assert "-arch=sm_90" in nvcc_flags
    curand = cuda_standalone.curand_dirs()
    if curand is not None and not cuda_standalone._toolkit_has_curand():
        assert f"-I{curand[0]}" in nvcc_flags
        link = build / "curand_link" / "libcurand.so"
        assert link.is_symlink() and link.resolve() == curand[1].resolve()
        assert f"-L{link.parent}" in makefile
    main = (build / "main.cu").read_text()
    assert f'getenv("{SEED_VARIABLE}")' in main and "random_number_buffer.set_seed" in main
    assert "set_from_command_line(args)" in main  # chunks re-run it with new values


@pytest.mark.long
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
def test_cuda_project_compiles_with_local_nvcc(cuda_session):
    """Compiles the whole project (minutes: about 40 files through nvcc)."""
    start = time.perf_counter()
    cuda_session.compile()
    seconds = time.perf_counter() - start
    binary = Path(cuda_session.directory) / "main"
    assert binary.is_file() and binary.stat().st_size > 0
    print(f"brian2cuda project compiled in {seconds:.0f} s")
