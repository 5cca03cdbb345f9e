"""Where each dataset's files come from: the folders searched, and MNIST's download.

MNIST and Fashion-MNIST are read from a folder holding the four standard idx files
(:data:`~brian_stdp.data.formats.IDX_FILES`, each gzipped or raw); a folder holding a
Keras ``mnist.npz`` also holds MNIST. The digits come with scikit-learn and need no folder.

Where a dataset is looked for (first folder holding it wins):

- an explicit ``data_dir`` is the only place looked at; it must hold the dataset;
- MNIST: ``$BRIAN_STDP_DATA``, ``default_cache_dir()/mnist``, ``~/.keras/datasets``;
- Fashion-MNIST: ``$BRIAN_STDP_DATA/../fashion-mnist``,
  ``$BRIAN_STDP_DATA/fashion-mnist``, ``/usr/share/datasets/fashion-mnist``
  (Debian package ``dataset-fashion-mnist``), ``default_cache_dir()/fashion-mnist``,
  ``~/.keras/datasets/fashion-mnist``.

When MNIST is found nowhere and downloading is allowed, its idx files are downloaded
from public mirrors into ``default_cache_dir()/mnist``, each checked against the
sha256 of its uncompressed content and moved into place only when it matches. Setting
``BRIAN_STDP_NO_DOWNLOAD`` to a true value (``1``, ``yes``, ...) forbids downloading;
Fashion-MNIST is never downloaded. A dataset found nowhere, or a folder that lacks it,
raises :class:`~brian_stdp.errors.DataError` saying where it was looked for and what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import shutil
import urllib.request
import zlib
from pathlib import Path

from brian_stdp.data.formats import IDX_FILES, KERAS_FILE, temp_path
from brian_stdp.errors import DataError

#: The dataset names.
DATASETS = ("mnist", "fashion-mnist", "digits")

DATA_ENV = "BRIAN_STDP_DATA"
NO_DOWNLOAD_ENV = "BRIAN_STDP_NO_DOWNLOAD"

_MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
# sha256 of the uncompressed idx files, keyed by file name without ".gz".
_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_DOWNLOAD_TIMEOUT_S = 60

_DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

_log = logging.getLogger(__name__)


def find_or_download(name: str, data_dir=None, download: bool = True) -> Path:
    """Return the folder holding MNIST or Fashion-MNIST, downloading MNIST if allowed.

    Parameters
    ----------
    name : str
        ``"mnist"`` or ``"fashion-mnist"``.
    data_dir : str or os.PathLike, optional
        Folder holding the dataset's files; when given, no other place is searched.
    download : bool
        Whether MNIST may be downloaded into :func:`default_cache_dir` when it is
        found nowhere; the environment variable ``BRIAN_STDP_NO_DOWNLOAD`` overrides
        this. Fashion-MNIST is never downloaded.

    Returns
    -------
    pathlib.Path
        A folder holding the four idx files, or (MNIST only) a Keras ``mnist.npz``.

    Raises
    ------
    DataError
        Unknown name, an explicit `data_dir` that lacks the files, the dataset found
        nowhere (the message lists where it was looked for), or a failed download.
    """
    folder = find_data_dir(name, data_dir)
    if folder is None:
        if name == "mnist" and _download_allowed(download):
            folder = _download_mnist(default_cache_dir() / "mnist")
        else:
            raise DataError(_not_found_message(name, download))
    return folder


def find_data_dir(name: str, data_dir=None) -> Path | None:
    """Return the first folder that holds the dataset `name`, or None.

    A folder holds MNIST or Fashion-MNIST when it contains all four idx files
    (gzipped or raw); a folder holding a Keras ``mnist.npz`` also holds MNIST.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`; ``"digits"`` needs no folder and gives None.
    data_dir : str or os.PathLike, optional
        Explicit folder; when given it is the only candidate.

    Returns
    -------
    pathlib.Path or None
        The folder, or None when no searched folder holds the dataset.

    Raises
    ------
    DataError
        Unknown name, or an explicit `data_dir` that is missing or lacks the files.
    """
    check_choice("dataset", name, DATASETS)
    if name == "digits":
        return None
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            raise DataError(f"data folder {folder} does not exist; check --data-dir")
        if not _holds_dataset(name, folder):
            missing = ", ".join(f"{stem}[.gz]" for stem in _missing_idx_files(folder))
            alternative = f" (nor a Keras {KERAS_FILE})" if name == "mnist" else ""
            raise DataError(
                f"data folder {folder} does not hold {name}: missing {missing}"
                f"{alternative}; check --data-dir"
            )
        return folder
    for folder in _search_dirs(name):
        if _holds_dataset(name, folder):
            return folder
    return None


def default_cache_dir() -> Path:
    """Return ``$XDG_CACHE_HOME/brian_stdp``, or ``~/.cache/brian_stdp`` when unset."""
    cache_home = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache_home) if cache_home else Path.home() / ".cache"
    return base / "brian_stdp"


def check_choice(kind: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise DataError naming `kind` and the `choices` unless `value` is one of them."""
    if value not in choices:
        raise DataError(f"unknown {kind} {value!r}; choose one of: {', '.join(choices)}")


def idx_path(folder: Path, stem: str) -> Path | None:
    """Return the gzipped or raw idx file `stem` in `folder` (gzipped first), or None."""
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _env_flag(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() not in ("", "0", "false", "no", "off")


def _download_allowed(download: bool) -> bool:
    return download and not _env_flag(NO_DOWNLOAD_ENV)


def _keras_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _search_dirs(name: str) -> list[Path]:
    """Folders searched for `name` when no data_dir is given, in order."""
    env_dir = os.environ.get(DATA_ENV)
    if name == "mnist":
        env_dirs = [Path(env_dir)] if env_dir else []
        return [*env_dirs, default_cache_dir() / "mnist", _keras_dir()]
    env_dirs = (
        [Path(env_dir).resolve().parent / "fashion-mnist", Path(env_dir) / "fashion-mnist"]
        if env_dir
        else []
    )
    return [
        *env_dirs,
        _DEBIAN_FASHION_DIR,
        default_cache_dir() / "fashion-mnist",
        _keras_dir() / "fashion-mnist",
    ]


def _missing_idx_files(folder: Path) -> list[str]:
    stems = [stem for pair in IDX_FILES.values() for stem in pair]
    return [stem for stem in stems if idx_path(folder, stem) is None]


def _holds_dataset(name: str, folder: Path) -> bool:
    if not _missing_idx_files(folder):
        return True
    return name == "mnist" and (folder / KERAS_FILE).is_file()


def _not_found_message(name: str, download: bool) -> str:
    searched = "\n".join(f"  {folder}" for folder in _search_dirs(name))
    if name == "mnist":
        if download:
            reason, allow = f"{NO_DOWNLOAD_ENV} is set", f"unset {NO_DOWNLOAD_ENV}"
        else:
            reason, allow = "download=False", "download=True"
        why = f"downloading is off ({reason})"
        fix = (
            "pass --data-dir FOLDER holding the four idx files (or mnist.npz), "
            f"set {DATA_ENV}=FOLDER, or allow downloading ({allow})"
        )
    else:
        why = "Fashion-MNIST is never downloaded"
        fix = (
            "install the Debian package dataset-fashion-mnist "
            "(apt-get install dataset-fashion-mnist) or pass --data-dir FOLDER "
            "holding the four Fashion-MNIST idx files"
        )
    return f"{name} not found; looked in:\n{searched}\n{why}. To fix: {fix}."


def _fetch(url: str, dest_path: Path) -> None:
    """Copy the resource at `url` into the file `dest_path`."""
    with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:
        with open(dest_path, "wb") as out:
            shutil.copyfileobj(response, out)


def _download_mnist(folder: Path) -> Path:
    """Download the MNIST idx files missing from `folder`; return `folder`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot create the download folder {folder} ({err.strerror}); "
            f"set XDG_CACHE_HOME, or {DATA_ENV} to a folder holding MNIST"
        ) from None
    for stem, sha256 in _MNIST_SHA256.items():
        if idx_path(folder, stem) is None:
            _download_verified(folder / f"{stem}.gz", sha256)
    return folder


def _download_verified(target: Path, sha256: str) -> None:
    """Fetch `target` from the first mirror whose file's uncompressed sha256 matches."""
    tmp = temp_path(target)
    problems = []
    try:
        for mirror in _MNIST_MIRRORS:
            url = mirror + target.name
            _log.info("downloading %s", url)
            try:
                _fetch(url, tmp)
                actual = _gunzipped_sha256(tmp)
            except (OSError, EOFError, zlib.error, http.client.HTTPException) as err:
                problems.append(f"{url}: {err}")
                continue
            if actual == sha256:
                os.replace(tmp, target)
                return
            problems.append(f"{url}: checksum mismatch (sha256 {actual}, expected {sha256})")
    finally:
        tmp.unlink(missing_ok=True)
    raise DataError(
        f"could not download {target.name}:\n  " + "\n  ".join(problems) + "\n"
        f"Download the four MNIST idx files yourself into {target.parent}, or pass "
        f"--data-dir / set {DATA_ENV} to a folder that holds them."
    )


def _gunzipped_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with gzip.open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
