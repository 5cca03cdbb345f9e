"""Encoders: images to the per-input values that drive the input layer.

The input layer itself lives in the simulation (see :mod:`brian_stdp.backends.network`);
an encoder only prepares one row of stimulus values per image, in a form the
network's input group reads at the start of each presentation. Any model can
choose any encoder in its ``[protocol]`` section.

``poisson``
    The value is the pixel intensity (0..255); the network draws Poisson spikes
    at ``value * rate_scale * intensity``.
``regular``
    Deterministic, regularly spaced spikes (the rate coding of Wolff et al.,
    2022). Each image is mapped linearly from its own [minimum, maximum] to
    [spikes_min, spikes_max] spikes per presentation window, ``f``; an input
    with value ``x > 0`` then spikes every ``period = ceil(steps / f)`` time
    steps, first at the end of the first period (window steps
    ``period - 1, 2*period - 1, ...`` counted from 0), and an input with
    ``x <= 0`` never spikes. The value handed to the network is ``period``
    (0: silent).

Preprocessing, for either encoder:

``receptive_field``
    The image is correlated with the 5x5 centre-surround kernel of Wolff et al.
    (zero padding) and divided by 255, so values are signed and can exceed 1.
    The Poisson encoder then uses ``255 * max(x, 0)`` (negative values cannot
    be rates); the regular encoder uses ``x`` as above.
"""

from __future__ import annotations

import math

import numpy as np

from brian_stdp.errors import ConfigError

ENCODERS = ("poisson", "regular")

#: Weights of the receptive-field kernel (centre 1) of Wolff et al. (2022).
RF_W1, RF_W2, RF_W3, RF_W4 = 0.625, 0.125, -0.125, -0.5

#: The 5x5 receptive-field kernel, shape (5, 5); symmetric, so correlation and
#: convolution agree.
RECEPTIVE_FIELD_KERNEL = np.array([
    [RF_W4, RF_W3, RF_W2, RF_W3, RF_W4],
    [RF_W3, RF_W2, RF_W1, RF_W2, RF_W3],
    [RF_W2, RF_W1, 1.0, RF_W1, RF_W2],
    [RF_W3, RF_W2, RF_W1, RF_W2, RF_W3],
    [RF_W4, RF_W3, RF_W2, RF_W3, RF_W4],
])


def receptive_field(images: np.ndarray, kernel: np.ndarray = RECEPTIVE_FIELD_KERNEL,
                    scale: float = 255.0) -> np.ndarray:
    """Correlate each image with a kernel, with zero padding, divided by ``scale``.

    Parameters
    ----------
    images : ndarray, shape (n, height, width)
        Pixel intensities (uint8 0..255 or float).
    kernel : ndarray, shape (k, k), k odd
        Weights; the centre weight multiplies the pixel itself.
    scale : float
        Divisor of every product (255 turns uint8 pixels into 0..1 units).

    Returns
    -------
    ndarray, shape (n, height, width), float64
        ``out[n, y, x] = sum_{a,b} kernel[a, b] * images[n, y + a - r, x + b - r] / scale``
        with ``r = k // 2`` and pixels outside the image counted as 0.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width), not {images.shape}")
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] % 2 != 1:
        raise ValueError(f"kernel must be square with an odd side, not {kernel.shape}")
    r = kernel.shape[0] // 2
    _, height, width = images.shape
    padded = np.pad(images, ((0, 0), (r, r), (r, r)))
    out = np.zeros_like(images)
    for a in range(kernel.shape[0]):
        for b in range(kernel.shape[1]):
            out += kernel[a, b] * padded[:, a:a + height, b:b + width] / scale
    return out


def regular_periods(values: np.ndarray, steps: int, spikes_min: float = 1.0,
                    spikes_max: float = 50.0) -> np.ndarray:
    """Spike periods of the regular rate code, per input.

    Parameters
    ----------
    values : ndarray, shape (n, n_input)
        One row per image (e.g. receptive-field output or pixels).
    steps : int
        Time steps in the presentation window.
    spikes_min, spikes_max : float
        Spikes per window (the published code's "frequency") of the image's
        minimum and maximum value; ``0 < spikes_min <= spikes_max``.

    Returns
    -------
    ndarray, shape (n, n_input), int64
        ``ceil(steps / f)`` with ``f = interp(x, [min(row), max(row)],
        [spikes_min, spikes_max])`` where ``x > 0``; 0 (never spikes) where
        ``x <= 0``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must have shape (n, n_input), not {values.shape}")
    if not 0 < spikes_min <= spikes_max:
        raise ConfigError(f"regular encoder: need 0 < spikes_min <= spikes_max, not "
                          f"{spikes_min} and {spikes_max}")
    if int(steps) != steps or steps <= 0:
        raise ValueError(f"steps must be a positive whole number, not {steps!r}")
    periods = np.zeros(values.shape, dtype=np.int64)
    for row, out in zip(values, periods):
        frequency = np.interp(row, [row.min(), row.max()], [spikes_min, spikes_max])
        period = np.array([math.ceil(steps / f) for f in frequency], dtype=np.int64)
        out[:] = np.where(row > 0, period, 0)
    return periods


def encode(images: np.ndarray, encoder="poisson") -> np.ndarray:
    """Stimulus values for a batch of images.

    Parameters
    ----------
    images : ndarray, shape (n, height, width), uint8
    encoder : str or Protocol
        A name in :data:`ENCODERS` (``"poisson"`` only: the regular encoder
        needs the window length), or a model's
        :class:`~brian_stdp.model.spec.Protocol`, whose ``encoder``,
        ``receptive_field``, ``spikes_min``, ``spikes_max`` and
        ``steps_present`` are used.

    Returns
    -------
    ndarray, shape (n, height*width), float64
        One row per image, one column per input neuron (row-major pixels):
        pixel intensities (``poisson``) or spike periods in steps
        (``regular``, 0 for silent inputs).
    """
    if isinstance(encoder, str):
        name, options = encoder, None
    else:
        name, options = encoder.encoder, encoder
    if name not in ENCODERS:
        raise ConfigError(f"unknown encoder {name!r} (known: {', '.join(ENCODERS)})")
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width), not {images.shape}")
    if options is None and name != "poisson":
        raise ConfigError(f"encoder {name!r} needs the model's protocol (its window length "
                          f"and spike range): call encode(images, spec.protocol)")
    use_rf = bool(getattr(options, "receptive_field", False))
    if not use_rf:
        values = images.reshape(len(images), -1).astype(np.float64)
    else:
        values = receptive_field(images).reshape(len(images), -1)
    if name == "poisson":
        return 255.0 * np.maximum(values, 0.0) if use_rf else values
    return regular_periods(values, options.steps_present, options.spikes_min,
                           options.spikes_max).astype(np.float64)
