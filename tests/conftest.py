"""Session-wide settings: read MNIST from the shared folder and never download."""

import os
from pathlib import Path

os.environ.setdefault(
    "BRIAN_STDP_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
)
os.environ["BRIAN_STDP_NO_DOWNLOAD"] = "1"
