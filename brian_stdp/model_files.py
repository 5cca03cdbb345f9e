"""Where model files are: the shipped ones by name, any other by path.

Apart from :mod:`brian_stdp.model` (which needs Brian2 to read a file's
units), so that the grid runner can find a point's model file without
importing Brian2.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ModelFileError

def _models_dir() -> Path:
    """``brian_stdp/models`` in an installed package, else ``models/`` of the checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "models"
    return installed if installed.is_dir() else package.parent / "models"


#: Folder of the model files shipped with the project (setup.cfg installs models/ there).
MODELS_DIR = _models_dir()


def available_models() -> list:
    """Names of the model files shipped in ``models/``."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.toml"))


def model_label(model: str) -> str:
    """A model as folder names and tables show it: a ``.toml`` path by its file name
    without the suffix, a shipped model by its name."""
    return Path(model).stem if str(model).endswith(".toml") else str(model)


def resolve_model_path(model: str | os.PathLike) -> Path:
    """A model file's path, from a path or the name of a shipped model."""
    path = Path(model)
    if path.suffix == ".toml" or path.exists() or os.sep in str(model):
        if not path.is_file():
            raise ModelFileError(f"{path}: model file not found (pass --model with an existing "
                                 f"file, or one of: {', '.join(available_models())})")
        return path
    candidate = MODELS_DIR / f"{model}.toml"
    if not candidate.is_file():
        raise ModelFileError(f"unknown model {str(model)!r}: choose one of "
                             f"{', '.join(available_models())} or pass a path to a .toml file")
    return candidate
