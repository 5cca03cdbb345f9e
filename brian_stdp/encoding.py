"""Encoders: images to the per-input values that drive the input layer.

The input layer itself lives in the simulation (see :mod:`brian_stdp.network`);
an encoder only prepares one row of stimulus values per image. For the
``poisson`` encoder the value is the pixel intensity (0..255); the network
turns it into a rate ``pixel * rate_scale * intensity``.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError

ENCODERS = ("poisson",)


def encode(images: np.ndarray, encoder: str = "poisson") -> np.ndarray:
    """Stimulus values for a batch of images.

    Parameters
    ----------
    images : ndarray, shape (n, height, width), uint8
    encoder : str
        One of :data:`ENCODERS`.

    Returns
    -------
    ndarray, shape (n, height*width), float64
        One row per image, one column per input neuron (row-major pixels).
    """
    if encoder not in ENCODERS:
        raise ConfigError(f"unknown encoder {encoder!r} (known: {', '.join(ENCODERS)})")
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width), not {images.shape}")
    return images.reshape(len(images), -1).astype(np.float64)
