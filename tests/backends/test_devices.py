"""Tests of brian_stdp.backends.devices: the registry, availability messages and brian2cuda's
settings (no GPU)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from brian_stdp.backends import devices
from brian_stdp.backends.devices import check_device, device_problem, genn, machine
from brian_stdp.backends.devices.cuda_standalone import DEFAULT_COMPUTE_CAPABILITY, cuda_settings
from brian_stdp.experiments.benchmark import format_summary
from brian_stdp.bench import main as bench_main
from brian_stdp.errors import ConfigError, DeviceError

pytestmark = pytest.mark.codegen_independent

CURAND = ("/opt/curand/include", "/opt/curand/lib/libcurand.so.10")


# -- brian2cuda settings (pure) -------------------------------------------------------------
def test_no_gpu_turns_detection_off_and_sets_gpu_and_architecture():
    s = cuda_settings({}, gpus=0, curand=CURAND)
    assert s.detect_gpus is False
    assert s.gpu_id == 0 and s.compute_capability == DEFAULT_COMPUTE_CAPABILITY == 9.0
    assert s.nvcc_flags == ("-std=c++17", "-I/opt/curand/include")
    assert str(s.curand_library).endswith("libcurand.so.10")


def test_visible_gpu_leaves_detection_to_brian2cuda():
    s = cuda_settings({}, gpus=2)
    assert s.detect_gpus is True and s.gpu_id is None and s.compute_capability is None
    assert s.nvcc_flags == ("-std=c++17",) and s.curand_library is None


def test_environment_overrides_package_defaults():
    env = {"BRIAN_STDP_CUDA_COMPUTE_CAPABILITY": "8.0", "BRIAN_STDP_CUDA_GPU_ID": "1",
           "BRIAN_STDP_CUDA_STD": "none"}
    s = cuda_settings(env, gpus=0)
    assert (s.gpu_id, s.compute_capability, s.nvcc_flags) == (1, 8.0, ())
    assert cuda_settings({"BRIAN_STDP_CUDA_DETECT_GPUS": "1"}, gpus=0).detect_gpus is True
    assert cuda_settings({"BRIAN_STDP_CUDA_DETECT_GPUS": "0"}, gpus=4).gpu_id == 0
    assert cuda_settings({"BRIAN_STDP_CUDA_STD": "c++20"}, gpus=1).nvcc_flags == ("-std=c++20",)


def test_preferences_the_user_set_are_kept():
    s = cuda_settings({"BRIAN_STDP_CUDA_COMPUTE_CAPABILITY": "8.0"}, gpus=0, curand=CURAND,
                      user_gpu_id=3, user_compute_capability=7.5,
                      user_nvcc_flags=["-w", "-std=c++20", "-I/opt/curand/include"])
    assert (s.gpu_id, s.compute_capability) == (3, 7.5)
    assert s.nvcc_flags == ()  # neither a second -std nor a repeated -I


@pytest.mark.parametrize("key,value", [("BRIAN_STDP_CUDA_GPU_ID", "first"),
                                       ("BRIAN_STDP_CUDA_COMPUTE_CAPABILITY", "sm_90"),
                                       ("BRIAN_STDP_CUDA_DETECT_GPUS", "maybe")])
def test_bad_environment_value_is_named(key, value):
    with pytest.raises(DeviceError, match=key):
        cuda_settings({key: value}, gpus=0)


# -- the registry --------------------------------------------------------------------------
def _fresh_import(code: str) -> str:
    """What ``code`` prints after importing the registry in a fresh interpreter (so that no
    device module is imported by anything but the package)."""
    out = subprocess.run([sys.executable, "-c",
                          "import sys; from brian_stdp.backends import devices; " + code],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_registry_lists_the_four_devices_each_with_session_install_and_check():
    from brian_stdp.backends.session import Session

    assert _fresh_import("print(sorted(devices.names()))") == str(
        ["cpp_standalone", "cuda_standalone", "genn", "runtime"])
    assert devices.DEFAULT_DEVICE == "cpp_standalone"
    for name in devices.names():
        device = devices.get(name)
        assert device.name == name and device.description
        session = devices.session_class(name)
        assert issubclass(session, Session) and session.device_name == name
        assert isinstance(device.install, str) and device.install
        problem = device.problem()
        assert problem is None or (isinstance(problem, str) and name in problem)


def test_unknown_or_repeated_device_name_is_refused():
    with pytest.raises(ConfigError, match="--device tpu: unknown; use one of cpp_standalone"):
        devices.session_class("tpu")
    with pytest.raises(ValueError, match="registered twice"):
        devices.register(genn.DEVICE)


def test_importing_the_registry_imports_no_simulator():
    """brian2cuda and brian2genn are imported by their sessions only, never to list devices."""
    assert _fresh_import("devices.names(); print(sorted(m for m in ('brian2', 'brian2cuda', "
                         "'brian2genn') if m in sys.modules))") == "[]"


# -- availability --------------------------------------------------------------------------
def test_unknown_device_lists_the_known_ones():
    with pytest.raises(DeviceError) as err:
        check_device("tpu")
    assert "unknown device" in str(err.value)
    assert all(name in str(err.value) for name in devices.names())


def _pretend_missing(monkeypatch, package):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == package else real(name, *a))


def test_missing_brian2cuda_gives_install_steps(monkeypatch):
    _pretend_missing(monkeypatch, "brian2cuda")
    monkeypatch.setattr(machine, "brian2_reruns_programs", lambda: True)  # as brian2 >= 2.6
    with pytest.raises(DeviceError) as err:
        check_device("cuda_standalone")
    assert "pip install 'brian2cuda==1.0b1' nvidia-curand-cu12" in str(err.value)
    assert "Traceback" not in str(err.value)


def test_missing_nvcc_or_gpu_is_named(monkeypatch):
    if importlib.util.find_spec("brian2cuda") is None:
        pytest.skip("brian2cuda is not installed")
    from brian_stdp.backends.devices import cuda_standalone

    monkeypatch.setattr(cuda_standalone.shutil, "which", lambda name: None)
    monkeypatch.delenv("CUDA_PATH", raising=False)
    assert "nvcc" in device_problem("cuda_standalone")
    monkeypatch.undo()
    if cuda_standalone.shutil.which("nvcc") is None or cuda_standalone.curand_dirs() is None:
        return  # the GPU check comes after nvcc and cuRAND
    monkeypatch.setattr(machine, "visible_gpus", lambda: 0)
    monkeypatch.setattr(cuda_standalone.Path, "exists", lambda self: False)
    assert "no NVIDIA GPU is visible" in device_problem("cuda_standalone")
    monkeypatch.setattr(machine, "visible_gpus", lambda: 1)
    assert device_problem("cuda_standalone") is None


def test_missing_brian2genn_gives_install_steps(monkeypatch):
    _pretend_missing(monkeypatch, "brian2genn")
    problem = device_problem("genn")
    assert "brian2genn==1.7.0" in problem and "numpy<2" in problem and "GENN_PATH" in problem


def test_brian2genn_with_the_wrong_brian2_or_without_genn(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "brian2genn" else real(name, *a))
    import brian2

    monkeypatch.setattr(brian2, "__version__", "2.10.1")
    assert "needs brian2 2.5.x" in device_problem("genn")
    monkeypatch.setattr(brian2, "__version__", "2.5.4")
    monkeypatch.setattr(sys, "prefix", "/nonexistent")  # no GeNN inside the environment
    monkeypatch.delenv("GENN_PATH", raising=False)
    monkeypatch.setattr(genn.shutil, "which", lambda name: None)
    assert "GeNN 4.x was not found" in device_problem("genn")


def test_chunked_standalone_devices_need_brian2_2_6(monkeypatch):
    monkeypatch.setattr(machine, "brian2_reruns_programs", lambda: False)  # as brian2 2.5
    for name in ("cpp_standalone", "cuda_standalone"):
        assert "needs brian2 >= 2.6" in device_problem(name)
    assert device_problem("runtime") is None


def test_runner_takes_genn_and_drives_it_with_the_genn_session(monkeypatch):
    from brian_stdp.backends.devices import session_class
    from brian_stdp.backends.session import StandaloneSession

    monkeypatch.setattr(devices, "device_problem", lambda name: None)
    check_device("genn")  # no error: the trainer runs genn, one build per network
    assert session_class("genn").__name__ == "GennSession"
    assert session_class("cpp_standalone") is StandaloneSession


def test_genn_is_found_inside_the_environment_before_genn_path(tmp_path):
    bundled = tmp_path / "env" / genn.GENN_FOLDER
    (bundled / "bin").mkdir(parents=True)
    (bundled / "bin" / "genn-buildmodel.sh").write_text("")
    other = tmp_path / "other"
    other.mkdir()
    assert genn.genn_path(tmp_path / "env", {"GENN_PATH": str(other)}) == bundled
    assert genn.genn_path(tmp_path / "none", {"GENN_PATH": str(other)}) == other


# -- the benchmark's device table ----------------------------------------------------------
def test_summary_table_puts_figures_and_notes_in_cells():
    rows = [{"device": "cpp_standalone", "neurons": 400, "images_per_second": 12.5},
            {"device": "cpp_standalone", "neurons": 1600, "images_per_second": 3.25},
            {"device": "genn", "neurons": 400, "unavailable": "brian2genn is not installed"},
            {"device": "genn", "neurons": 1600, "unavailable": "brian2genn is not installed"},
            {"device": "cuda_standalone", "neurons": 400, "failed": "RuntimeError: boom"}]
    lines = format_summary(rows).splitlines()
    assert lines[0].split() == ["images/s", "400", "neurons", "1600", "neurons"]
    assert lines[2].split() == ["cpp_standalone", "12.50", "3.25"]
    assert lines[3].split() == ["genn", "unavailable", "[1]", "unavailable", "[1]"]
    assert lines[4].split() == ["cuda_standalone", "failed", "[2]", "-"]
    assert lines[5] == "[1] brian2genn is not installed" and lines[6] == "[2] RuntimeError: boom"
    assert len({len(line) for line in lines[:3]}) == 1  # heading, rule and rows line up


def test_bench_prints_install_steps_for_an_unavailable_device(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(devices, "device_problem",
                        lambda name: f"--device {name}: pip install something")
    monkeypatch.setattr(genn, "genn_python", lambda: None)  # no GeNN environment
    out = tmp_path / "b.json"
    assert bench_main(["--devices", "genn,cuda_standalone", "--neurons", "10,20", "--images",
                       "10", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "unavailable [1]" in printed and "unavailable [2]" in printed
    assert "[1] --device genn: pip install something" in printed
    result = json.loads(out.read_text())
    assert [row["unavailable"][:13] for row in result["rows"]] == ["--device genn"] * 2 + [
        "--device cuda"] * 2


def test_bench_runs_genn_in_the_separate_environment(tmp_path, capsys, monkeypatch):
    """Where brian2genn is not importable, the GeNN environment's Python runs each size."""
    if importlib.util.find_spec("brian2genn") is not None:
        pytest.skip("brian2genn is importable here: the benchmark runs it in-process")
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\n"
                    "if [ \"$1\" = \"-c\" ]; then exit 0; fi\n"  # genn_problem(): nothing missing
                    "while [ $# -gt 0 ]; do\n"
                    "  case \"$1\" in --neurons) n=$2;; --out) out=$2;; esac; shift\n"
                    "done\n"
                    "echo \"{\\\"rows\\\": [{\\\"device\\\": \\\"genn\\\", "
                    "\\\"neurons\\\": $n, \\\"images_per_second\\\": 7.5}]}\" "
                    "> \"$out\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BRIAN_STDP_GENN_PYTHON", str(fake))
    out = tmp_path / "b.json"
    assert bench_main(["--devices", "genn", "--neurons", "10,20", "--images", "10",
                       "--out", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    summary = [line for line in lines if line.startswith("genn")][-1]  # after the details
    assert summary.split() == ["genn", "7.50", "7.50"]
    assert [row["neurons"] for row in json.loads(out.read_text())["rows"]] == [10, 20]


def test_broken_genn_environment_is_reported(tmp_path):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: brian_stdp' >&2\nexit 1\n")
    broken.chmod(0o755)
    assert "ModuleNotFoundError: brian_stdp" in devices.problem_elsewhere("genn", broken)
