"""The layers of ``brian_stdp`` import only downwards (the order in ``brian_stdp.LAYERS``)."""

import ast
from pathlib import Path

import pytest

import brian_stdp
from brian_stdp import FOUNDATION, LAYERS

pytestmark = pytest.mark.codegen_independent

PACKAGE = Path(brian_stdp.__file__).resolve().parent


def imported_modules(path: Path, root: Path = PACKAGE) -> list:
    """``(line, module)`` of every ``brian_stdp`` import in the file, module level or
    inside a function, relative imports resolved (``root`` is the package folder)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parts = ("brian_stdp",) + path.relative_to(root).with_suffix("").parts
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ((node.module,) if node.module else ()))
            else:
                module = node.module
            found.append((node.lineno, module))
            # ``from brian_stdp import training`` imports the subpackage or module itself
            if module == "brian_stdp":
                found += [(node.lineno, f"brian_stdp.{alias.name}") for alias in node.names
                          if (root / alias.name).is_dir() or (root / f"{alias.name}.py").is_file()]
    return [(line, name) for line, name in found if name.split(".")[0] == "brian_stdp"]


def rank(module: str):
    """Where a module stands: -1 beneath the layers (the package itself and its
    foundation), the index in ``LAYERS``, ``len(LAYERS)`` for a command; None for the
    shipped model files (data, not code)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in FOUNDATION:
        return -1
    if parts[1] == "models":
        return None
    if parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return len(LAYERS)


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(("brian_stdp",) + tuple(p for p in parts if p != "__init__"))


def upward_imports(root: Path = PACKAGE) -> list:
    """``"FILE:LINE imports MODULE"`` for every import from a higher layer."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        here = rank(module_name(path, root))
        for line, module in imported_modules(path, root):
            there = rank(module)
            if there is not None and there > here:
                problems.append(f"{path.relative_to(root)}:{line} imports {module}")
    return problems


def test_every_subpackage_is_a_layer_or_the_model_files():
    subpackages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert subpackages - {"models"} == set(LAYERS)


def test_layers_import_only_downwards():
    assert upward_imports() == []


def test_an_upward_import_is_found(tmp_path):
    # Two layers and a command, with imports planted upwards (data -> training, a layer
    # -> a command) and downwards, absolute, relative and inside a function.
    for layer in ("data", "training"):
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text("")
    (tmp_path / "data" / "low.py").write_text(
        "def load():\n    from brian_stdp.training import trainer\n")
    (tmp_path / "data" / "rel.py").write_text("from ..training.rundir import FIGURES\n")
    (tmp_path / "training" / "high.py").write_text(
        "from brian_stdp.data import low\nfrom brian_stdp import errors, run\n")
    (tmp_path / "run.py").write_text("from brian_stdp.training import high\n")
    assert upward_imports(tmp_path) == [
        "data/low.py:2 imports brian_stdp.training",
        "data/rel.py:1 imports brian_stdp.training.rundir",
        "training/high.py:2 imports brian_stdp.run",
    ]
