"""Image files and arrays as network input: grayscale uint8 of the run's image shape.

Image files are read with Pillow, turned to grayscale and resized; an image that looks like
dark ink on a light background (mean pixel > 127) is inverted, so that digits are bright on
dark as in MNIST.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brian_stdp.errors import ConfigError

#: Choices of ``invert``: decide from the mean pixel, always, never.
INVERT_CHOICES = ("auto", "yes", "no")


def to_network_input(gray: np.ndarray, shape, invert: str = "auto") -> np.ndarray:
    """A grayscale image as the network sees it.

    Parameters
    ----------
    gray : ndarray, shape (height, width)
        Intensities 0..255 (any real dtype).
    shape : (int, int)
        Target (height, width); resized with Lanczos resampling if different.
    invert : str
        ``"auto"``: invert when the mean pixel is above 127 (dark ink on a light
        background); ``"yes"``: always; ``"no"``: never.

    Returns
    -------
    ndarray, shape ``shape``, uint8
    """
    from PIL import Image

    if invert not in INVERT_CHOICES:
        raise ConfigError(f"invert must be one of {', '.join(INVERT_CHOICES)}, not {invert!r}")
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2:
        raise ValueError(f"a grayscale image has 2 dimensions, not shape {gray.shape}")
    image = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    height, width = shape
    if image.shape != (height, width):
        resized = Image.fromarray(image, mode="L").resize((width, height),
                                                          Image.Resampling.LANCZOS)
        image = np.asarray(resized, dtype=np.uint8)
    if invert == "yes" or (invert == "auto" and image.mean() > 127):
        image = 255 - image
    return np.ascontiguousarray(image, dtype=np.uint8)


def read_grayscale(path) -> np.ndarray:
    """The first frame of an image file as grayscale 0..255, shape (height, width).

    Transparent pixels are laid over white. Raises :class:`ConfigError`
    naming the file if it cannot be read as an image.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P"
                                                    and "transparency" in img.info):
                rgba = img.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return np.asarray(Image.alpha_composite(background, rgba).convert("L"),
                                  dtype=np.float64)
            if img.mode.startswith("I"):  # 16- or 32-bit integer pixels
                values = np.asarray(img, dtype=np.float64)
                return values / 257 if values.max(initial=0) > 255 else values
            if img.mode == "F":
                values = np.asarray(img, dtype=np.float64)
                return values * 255 if values.max(initial=0) <= 1 else values
            return np.asarray(img.convert("L"), dtype=np.float64)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise ConfigError(f"{path}: cannot be read as an image ({err})") from None


def load_image(path, shape, invert: str = "auto") -> np.ndarray:
    """Read an image file and prepare it for the network (see :func:`to_network_input`)."""
    return to_network_input(read_grayscale(path), shape, invert)


def prepare_images(images, shape, invert: str = "auto") -> np.ndarray:
    """Images as a uint8 array (n, height, width).

    ``images`` is either an array (n, height, width) of the run's image shape,
    used as it is (dataset images), or a sequence whose items are image file
    paths (read, resized and maybe inverted) or 2-D arrays (resized and maybe
    inverted).
    """
    shape = tuple(shape)
    if isinstance(images, np.ndarray) and images.ndim == 3:
        if images.shape[1:] != shape:
            raise ConfigError(f"images have shape {images.shape[1:]}, but the run was trained "
                              f"on {shape}")
        if images.size and (images.min() < 0 or images.max() > 255):
            raise ConfigError("image values must lie in 0..255")
        return np.ascontiguousarray(images, dtype=np.uint8)
    if isinstance(images, (str, Path)) or (isinstance(images, np.ndarray) and images.ndim == 2):
        images = [images]  # one image
    out = []
    for item in images:
        if isinstance(item, (str, Path)):
            out.append(load_image(item, shape, invert))
        else:
            out.append(to_network_input(item, shape, invert))
    return np.stack(out) if out else np.zeros((0, *shape), dtype=np.uint8)
