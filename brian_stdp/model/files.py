"""Where model files are: the shipped ones by name, any other by path, and the files a
variant extends.

A model file may start with ``extends = "NAME_OR_PATH"``: it then holds only
what it changes (tables merge key by key, any other value replaces the
base's), and ``remove = ["parameters.NAME", ...]`` drops keys of the base
(dotted paths, applied before the changes; :func:`remove_keys`).
:func:`model_chain` lists a file and the files it extends. A run directory
keeps the chain verbatim: ``model.toml``, ``model.base.toml``,
``model.base.base.toml``, ... (:func:`base_copy_name`), and ``extends`` is
resolved to that sibling copy first.

Apart from :mod:`brian_stdp.model.spec` (which needs Brian2 to read a file's
units), so that the grid runner can find a point's model file without
importing Brian2.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from brian_stdp.errors import ModelFileError


def _models_dir() -> Path:
    """``brian_stdp/models`` in an installed package, else ``models/`` of the checkout."""
    package = Path(__file__).resolve().parent.parent  # brian_stdp/
    installed = package / "models"
    return installed if installed.is_dir() else package.parent / "models"


#: Labelling rules a model file's ``[protocol] labelling`` may name (the functions are in
#: :mod:`brian_stdp.training.evaluation`, which reads this tuple).
LABELLINGS = ("standard", "last-winner")

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


#: Longest chain of model files extending each other.
MAX_EXTENDS = 8


def base_copy_name(path) -> str:
    """The name of the copy of ``path``'s base next to it in a run directory."""
    return f"{Path(path).stem}.base.toml"


def resolve_base(path: Path, extends) -> Path:
    """The file that the model file ``path`` extends.

    Tried in order: its run-directory copy (:func:`base_copy_name`) next to
    ``path``; ``extends`` as a path relative to ``path``'s folder; the shipped
    model of that name.
    """
    if not isinstance(extends, str) or not extends:
        raise ModelFileError(f"{path}: extends: must be a model name or a path to a .toml file")
    copy = path.parent / base_copy_name(path)
    if copy.is_file():
        return copy
    relative = path.parent / extends
    if extends.endswith(".toml") and relative.is_file():
        return relative
    try:
        return resolve_model_path(extends)
    except ModelFileError as err:
        raise ModelFileError(f"{path}: extends: {err}") from None


def read_model_table(path: Path) -> dict:
    """The TOML of one model file (not merged with a base)."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ModelFileError(f"{path}: not valid TOML: {err}") from None


def model_chain(path) -> list:
    """``path`` and the files it extends, in that order (paths).

    Raises
    ------
    ModelFileError
        A base cannot be found, or the chain is circular or too long.
    """
    chain = [Path(path)]
    while "extends" in (table := read_model_table(chain[-1])):
        base = resolve_base(chain[-1], table["extends"])
        if any(base.resolve() == p.resolve() for p in chain) or len(chain) > MAX_EXTENDS:
            raise ModelFileError(f"{chain[0]}: extends: circular or longer than {MAX_EXTENDS} "
                                 f"files ({' -> '.join(str(p) for p in [*chain, base])})")
        chain.append(base)
    return chain


def merge_tables(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` applied: tables merge key by key, other values replace."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_tables(out[key], value)
        else:
            out[key] = value
    return out


def remove_keys(table: dict, paths, where) -> dict:
    """``table`` without the keys named by ``paths`` (``"groups.exc.initial.post1"``).

    Parameters
    ----------
    table : dict
        The merged tables of the files a variant extends.
    paths : list of str
        Dotted key paths, each naming a key of ``table``.
    where : path
        The variant's file, for errors.

    Raises
    ------
    ModelFileError
        If ``paths`` is not a list of strings or a path names no key of ``table``.
    """
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ModelFileError(f"{where}: remove: must be a list of dotted keys, e.g. "
                             f"[\"parameters.delay_max\"]")
    out = dict(table)
    for path in paths:
        *parents, key = path.split(".")
        node = out
        for name in parents:
            if not isinstance(node.get(name), dict):
                node = None
                break
            node[name] = node = dict(node[name])  # copy: the base's tables stay as read
        if node is None or key not in node:
            raise ModelFileError(f"{where}: remove: {path!r} is not a key of the model it "
                                 f"extends")
        del node[key]
    return out
