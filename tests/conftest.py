"""Session-wide settings: read MNIST from the shared folder and never download."""

import hashlib
import os
from pathlib import Path

import pytest

os.environ.setdefault(
    "BRIAN_STDP_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
)
os.environ["BRIAN_STDP_NO_DOWNLOAD"] = "1"


@pytest.fixture
def edited_model(tmp_path):
    """``edit(source, old, new) -> path``: a copy of the model file ``source`` with the
    first ``old`` replaced by ``new`` (``old`` must be in the file)."""
    def edit(source, old, new):
        text = Path(source).read_text()
        assert old in text, f"test setup: {old!r} not in {source}"
        path = tmp_path / "edited.toml"
        path.write_text(text.replace(old, new, 1))
        return path

    return edit


@pytest.fixture
def folder_digest():
    """``digest(folder) -> {relative path: sha256}`` of every file under ``folder``."""
    def digest(folder):
        folder = Path(folder)
        return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(folder.rglob("*")) if path.is_file()}

    return digest
