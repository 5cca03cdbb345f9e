"""The package as a user installs it: a wheel carries every module and the model files,
and runs the default model from outside the checkout."""

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: What building the wheel reads from the checkout.
BUILD_FILES = ("pyproject.toml", "setup.cfg", "README.md", "brian_stdp", "models")


def _dependency_path_file(target: Path) -> None:
    """Write ``target``, a .pth file that gives an environment this one's dependencies but
    not brian_stdp: this environment's site-packages folders go on sys.path, and their .pth
    files run (setuptools' distutils shim), except brian_stdp's editable import hook, which
    would load from the checkout whatever the wheel lacks."""
    folders = [folder for folder in site.getsitepackages() if Path(folder).is_dir()]
    path_files = [(folder, path.name) for folder in folders
                  for path in sorted(Path(folder).glob("*.pth"))
                  if not path.name.startswith("__editable__") and "brian_stdp" not in path.name]
    # A .pth file runs its lines that start with "import": one line does it all, in order.
    target.write_text(f"import sys, site; sys.path.extend({folders!r}); "
                      f"[site.addpackage(folder, name, None) for folder, name in "
                      f"{path_files!r}]\n")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A virtual environment with brian_stdp from a freshly built wheel, and the
    dependencies of this environment (no download), which sees neither the checkout nor
    this environment's brian_stdp; returns (python, a folder outside the checkout)."""
    root = tmp_path_factory.mktemp("wheel_install")
    # Built from a copy of what the build reads: a build/ folder left in the checkout
    # would put in the wheel what an earlier setup.cfg listed.
    source = root / "source"
    for name in BUILD_FILES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "--wheel-dir", str(root / "dist"), str(source)],
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
    _dependency_path_file(purelib / "zz_dependencies.pth")  # after the wheel on sys.path
    outside = root / "elsewhere"
    outside.mkdir()
    return venv / "bin" / "python", outside


def _python(installed, *args, timeout=600):
    """Run the environment's Python in the folder outside the checkout, with no
    PYTHONPATH (the tests run with the checkout on it) or user site-packages."""
    python, outside = installed
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")}
    env["PYTHONNOUSERSITE"] = "1"
    return subprocess.run([str(python), *args], cwd=outside, capture_output=True, text=True,
                          timeout=timeout, env=env)


def _checkout_modules() -> set:
    """The dotted names of the checkout's brian_stdp modules (less ``__main__``s)."""
    names = set()
    for path in (REPO / "brian_stdp").rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[-1] != "__main__":
            names.add(".".join(parts))
    return names


#: Imports every module of the installed brian_stdp; prints each one's name and file.
_IMPORT_ALL = """
import importlib, pkgutil, brian_stdp

def fail(name):
    raise ImportError(f"cannot import {name}")

print("brian_stdp", brian_stdp.__file__)
for info in pkgutil.walk_packages(brian_stdp.__path__, "brian_stdp.", onerror=fail):
    if not info.name.endswith("__main__"):
        print(info.name, importlib.import_module(info.name).__file__)
"""


def test_wheel_has_every_module_and_imports_nothing_from_the_checkout(installed):
    result = _python(installed, "-c", _IMPORT_ALL)
    assert result.returncode == 0, result.stderr
    files = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
    venv = installed[0].parent.parent
    outside = [name for name, file in files.items() if not Path(file).is_relative_to(venv)]
    assert not outside, f"not from the wheel: {outside}"
    assert set(files) == _checkout_modules()


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
