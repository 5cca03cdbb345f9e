"""The package as a user installs it: a wheel carries the model files and runs the default
model from outside the checkout."""

import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A virtual environment with brian_stdp from a freshly built wheel, and the
    dependencies of this environment (no download); returns (python, a folder outside
    the checkout)."""
    root = tmp_path_factory.mktemp("wheel_install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "--wheel-dir", str(root / "dist"), str(REPO)],
                   check=True, timeout=600, capture_output=True)
    wheel = next((root / "dist").glob("brian_stdp-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv),
                                                       "platbase": str(venv)}))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--target", str(purelib), str(wheel)],
                   check=True, timeout=300, capture_output=True)
    # This environment's site-packages as site dirs (their .pth files count: setuptools'
    # distutils shim); the wheel's copy in purelib comes first on sys.path.
    (purelib / "zz_dependencies.pth").write_text("".join(
        f"import site; site.addsitedir({path!r})\n" for path in site.getsitepackages()))
    outside = root / "elsewhere"
    outside.mkdir()
    return venv / "bin" / "python", outside


def _python(installed, *args, timeout=600):
    python, outside = installed
    return subprocess.run([str(python), *args], cwd=outside, capture_output=True, text=True,
                          timeout=timeout)


def test_wheel_ships_the_model_files(installed):
    result = _python(installed, "-c", "import brian_stdp.model.files as m; "
                     "print(m.__file__); print(m.MODELS_DIR); print(*m.available_models())")
    assert result.returncode == 0, result.stderr
    module, models_dir, names = result.stdout.strip().splitlines()
    assert not Path(module).is_relative_to(REPO), "imported from the wheel, not the checkout"
    assert Path(models_dir) == Path(module).parent.parent / "models"  # brian_stdp/models
    assert names.split() == sorted(p.stem for p in (REPO / "models").glob("*.toml"))
    unknown = _python(installed, "-m", "brian_stdp.run", "--model", "no_such_model",
                      "--out", "x", "--quiet")
    assert unknown.returncode == 2
    assert "unknown model 'no_such_model': choose one of diehl_cook_2015," in unknown.stderr


@pytest.mark.standalone_compatible
def test_wheel_runs_the_default_model_outside_the_checkout(installed):
    result = _python(installed, "-m", "brian_stdp.run", "--dataset", "digits", "--neurons", "20",
                     "--train", "100", "--label", "100", "--test", "50", "--out", "run",
                     "--quiet")
    assert result.returncode == 0, result.stderr
    assert "test accuracy:" in result.stdout
    run_dir = installed[1] / "run"
    assert (run_dir / "model.toml").read_text() == \
        (REPO / "models" / "diehl_cook_2015.toml").read_text()
    assert (run_dir / "metrics.json").is_file()
