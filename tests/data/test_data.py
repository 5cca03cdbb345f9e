"""Tests of brian_stdp.data.datasets, .formats and .sources: idx files, dataset search, download,
index selection."""

import gzip
import hashlib

import numpy as np
import pytest

from brian_stdp.data import sources
from brian_stdp.data.datasets import Dataset, iter_chunks, load_dataset, select_indices, split_validation
from brian_stdp.data.formats import read_idx, write_idx
from brian_stdp.data.sources import DATASETS, find_data_dir
from brian_stdp.errors import DataError

pytestmark = pytest.mark.codegen_independent

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
IDX_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def small_split(n, seed=0, side=28):
    """Random images (n, side, side) uint8 and labels (n,) cycling through 0..9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def write_small_mnist(folder, gz=True, n_train=20, n_test=10):
    """Write the four idx files of a tiny MNIST-like dataset; return its arrays by split."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images, labels = small_split(n, seed=n)
        image_stem, label_stem = IDX_STEMS[split]
        write_idx(folder / f"{image_stem}{suffix}", images)
        write_idx(folder / f"{label_stem}{suffix}", labels)
        arrays[split] = images, labels
    return arrays


def write_keras_npz(path, train, test):
    """Write (images, labels) pairs `train` and `test` as a Keras mnist.npz."""
    np.savez(path, x_train=train[0], y_train=train[1], x_test=test[0], y_test=test[1])


def idx_bytes(array):
    """The uncompressed idx encoding of a uint8 array."""
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No dataset anywhere: empty HOME, cache and BRIAN_STDP_DATA; no Debian Fashion-MNIST."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("BRIAN_STDP_DATA", str(tmp_path / "env" / "mnist"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setattr(sources, "_DEBIAN_FASHION_DIR", tmp_path / "debian" / "fashion-mnist")
    return tmp_path


# --- idx files ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("shape", [(7,), (3, 28, 28), (2, 3, 4, 5)])
def test_idx_round_trip(tmp_path, suffix, shape):
    array = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    path = tmp_path / f"array-idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_read_idx_recognises_gzip_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(path), array)


def test_write_idx_replaces_atomically_without_leftovers(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    write_idx(path, np.zeros(5, dtype=np.uint8))
    write_idx(path, np.arange(3, dtype=np.int64))
    np.testing.assert_array_equal(read_idx(path), [0, 1, 2])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("array", [np.array([0, 256]), np.array([-1, 3]), np.array([0.5])])
def test_write_idx_rejects_values_outside_bytes(tmp_path, array):
    with pytest.raises(DataError, match="outside integers 0..255"):
        write_idx(tmp_path / "x-idx1-ubyte", array)
    assert list(tmp_path.iterdir()) == []


# --- loading from folders ----------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_load_small_folder(tmp_path, gz):
    arrays = write_small_mnist(tmp_path, gz=gz)
    for split, n in (("train", 20), ("test", 10)):
        dataset = load_dataset("mnist", split, data_dir=tmp_path)
        assert (dataset.name, dataset.split, dataset.source) == ("mnist", split, str(tmp_path))
        assert dataset.images.shape == (n, 28, 28) and dataset.images.dtype == np.uint8
        assert dataset.labels.shape == (n,) and dataset.labels.dtype == np.int64
        assert len(dataset) == n and dataset.shape == (28, 28) and dataset.n_classes == 10
        np.testing.assert_array_equal(dataset.images, arrays[split][0])
        np.testing.assert_array_equal(dataset.labels, arrays[split][1])


@pytest.mark.parametrize(
    "split, n, counts",
    [("train", 60000, MNIST_TRAIN_COUNTS), ("test", 10000, MNIST_TEST_COUNTS)],
)
def test_real_mnist(split, n, counts):
    dataset = load_dataset("mnist", split)
    assert dataset.images.shape == (n, 28, 28) and dataset.images.dtype == np.uint8
    assert dataset.labels.shape == (n,) and dataset.labels.dtype == np.int64
    assert sum(counts) == n
    assert np.bincount(dataset.labels).tolist() == counts


def test_keras_npz_in_data_dir(tmp_path):
    train, test = small_split(12, seed=3), small_split(5, seed=4)
    write_keras_npz(tmp_path / "mnist.npz", train, test)
    dataset = load_dataset("mnist", "test", data_dir=tmp_path)
    np.testing.assert_array_equal(dataset.images, test[0])
    np.testing.assert_array_equal(dataset.labels, test[1])
    assert dataset.labels.dtype == np.int64
    assert dataset.source == str(tmp_path / "mnist.npz")


def test_keras_npz_in_keras_cache(isolated):
    keras_dir = isolated / "home" / ".keras" / "datasets"
    keras_dir.mkdir(parents=True)
    train, test = small_split(12), small_split(5)
    write_keras_npz(keras_dir / "mnist.npz", train, test)
    assert find_data_dir("mnist") == keras_dir
    assert len(load_dataset("mnist", "train")) == 12


def test_search_order_env_then_cache(isolated):
    cache_dir = isolated / "cache" / "brian_stdp" / "mnist"
    write_small_mnist(cache_dir, n_train=7)
    assert find_data_dir("mnist") == cache_dir
    env_dir = isolated / "env" / "mnist"
    write_small_mnist(env_dir, n_train=9)
    assert find_data_dir("mnist") == env_dir
    assert len(load_dataset("mnist", "train")) == 9


def test_explicit_data_dir_lacking_files_is_an_error(isolated):
    write_small_mnist(isolated / "env" / "mnist")
    empty = isolated / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"empty.*missing train-images-idx3-ubyte.*--data-dir"):
        load_dataset("mnist", data_dir=empty)
    with pytest.raises(DataError, match=r"nowhere.*does not exist"):
        load_dataset("mnist", data_dir=isolated / "nowhere")


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert sources.default_cache_dir() == tmp_path / "xdg" / "brian_stdp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sources.default_cache_dir() == tmp_path / "home" / ".cache" / "brian_stdp"


def test_unknown_name_or_split():
    with pytest.raises(DataError, match=r"unknown dataset 'cifar'.*mnist, fashion-mnist, digits"):
        load_dataset("cifar")
    with pytest.raises(DataError, match=r"unknown split 'valid'.*train, test"):
        load_dataset("mnist", "valid")
    assert DATASETS == ("mnist", "fashion-mnist", "digits")


# --- Fashion-MNIST -------------------------------------------------------------


def test_fashion_mnist_installed():
    if find_data_dir("fashion-mnist") is None:
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    for split, n in (("train", 60000), ("test", 10000)):
        dataset = load_dataset("fashion-mnist", split)
        assert dataset.images.shape == (n, 28, 28) and dataset.images.dtype == np.uint8
        assert dataset.n_classes == 10
        assert np.bincount(dataset.labels).tolist() == [n // 10] * 10


def test_fashion_mnist_next_to_mnist_folder(isolated):
    write_small_mnist(isolated / "env" / "fashion-mnist", n_train=6)
    assert find_data_dir("fashion-mnist") == isolated / "env" / "fashion-mnist"
    assert len(load_dataset("fashion-mnist", "train")) == 6


def test_fashion_mnist_missing_says_how_to_install(isolated, monkeypatch):
    monkeypatch.setattr(sources, "_fetch", lambda url, dest: pytest.fail(f"fetched {url}"))
    pattern = r"(?s)fashion-mnist not found.*dataset-fashion-mnist.*--data-dir"
    with pytest.raises(DataError, match=pattern):
        load_dataset("fashion-mnist", download=True)


# --- digits ------------------------------------------------------------------


def test_digits():
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    assert (len(train), len(test)) == (1347, 450)
    for dataset in (train, test):
        assert dataset.shape == (8, 8) and dataset.images.dtype == np.uint8
        assert dataset.labels.dtype == np.int64 and dataset.n_classes == 10
        assert set(np.unique(dataset.labels)) == set(range(10))
        assert dataset.source == "scikit-learn digits"
    assert train.images.max() == 255 and train.images.min() == 0
    from sklearn.datasets import load_digits

    all_images = load_digits().images
    np.testing.assert_array_equal(train.images, np.rint(all_images[:1347] * 255 / 16))
    np.testing.assert_array_equal(test.images, np.rint(all_images[1347:] * 255 / 16))


# --- subsets and index helpers ---------------------------------------------------


def labels_of(n_per_class, extra_of_class_0=0):
    labels = np.repeat(np.arange(10), n_per_class)
    return np.concatenate([labels, np.zeros(extra_of_class_0, dtype=int)])


def test_select_balanced_per_class():
    labels = labels_of(30, extra_of_class_0=50)
    indices = select_indices(labels, per_class=7, seed=5)
    assert indices.dtype == np.int64 and np.all(np.diff(indices) > 0)
    assert np.bincount(labels[indices]).tolist() == [7] * 10
    np.testing.assert_array_equal(indices, select_indices(labels, per_class=7, seed=5))
    assert not np.array_equal(indices, select_indices(labels, per_class=7, seed=6))


def test_select_first_n_and_all():
    labels = labels_of(3)
    np.testing.assert_array_equal(select_indices(labels, n=4), [0, 1, 2, 3])
    np.testing.assert_array_equal(select_indices(labels), np.arange(30))
    assert select_indices(labels).dtype == np.int64


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 3, "per_class": 1}, "exclude each other"),
        ({"n": 31}, r"n=31.*between 1 and 30"),
        ({"n": 0}, r"n=0"),
        ({"per_class": 0}, r"per_class=0.*positive"),
    ],
)
def test_select_errors(kwargs, message):
    with pytest.raises(DataError, match=message):
        select_indices(labels_of(3), **kwargs)


def test_select_names_the_short_class():
    labels = labels_of(5)
    with pytest.raises(DataError, match=r"class 4 has only 0 images"):
        select_indices(labels[labels != 4], per_class=2)
    with pytest.raises(DataError, match=r"class 9 has only 4 images.*per_class=5"):
        select_indices(labels[:-1], per_class=5)


def test_dataset_subset():
    dataset = load_dataset("digits", "test")
    indices = select_indices(dataset.labels, per_class=3, seed=1)
    part = dataset.subset(indices)
    assert (part.name, part.split, part.source) == (dataset.name, dataset.split, dataset.source)
    assert len(part) == 30 and part.images.shape == (30, 8, 8)
    np.testing.assert_array_equal(part.images, dataset.images[indices])
    assert np.bincount(part.labels).tolist() == [3] * 10


def test_split_validation():
    indices = np.arange(0, 200, 2)
    train, validation = split_validation(indices, 25, seed=3)
    assert (len(train), len(validation)) == (75, 25)
    assert train.dtype == validation.dtype == np.int64
    assert np.all(np.diff(train) > 0) and np.all(np.diff(validation) > 0)
    assert np.intersect1d(train, validation).size == 0
    np.testing.assert_array_equal(np.union1d(train, validation), indices)
    again = split_validation(indices, 25, seed=3)
    np.testing.assert_array_equal(again[1], validation)
    assert not np.array_equal(split_validation(indices, 25, seed=4)[1], validation)
    np.testing.assert_array_equal(split_validation(indices, 0)[0], indices)


@pytest.mark.parametrize(
    "indices, n_validation", [(np.arange(5), 5), (np.arange(5), -1), ([1, 1, 2], 1)]
)
def test_split_validation_errors(indices, n_validation):
    with pytest.raises(DataError, match="n_validation|repeated"):
        split_validation(indices, n_validation)


def test_iter_chunks():
    indices = np.arange(10, 20)
    chunks = list(iter_chunks(indices, 4))
    assert [chunk.tolist() for chunk in chunks] == [[10, 11, 12, 13], [14, 15, 16, 17], [18, 19]]
    assert list(iter_chunks(np.arange(0), 4)) == []
    with pytest.raises(DataError, match="chunk_size=0"):
        iter_chunks(indices, 0)


# --- malformed files -------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"absent-idx1-ubyte: file not found"):
        read_idx(tmp_path / "absent-idx1-ubyte")


def test_truncated_gzip(tmp_path):
    arrays = write_small_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(arrays["train"][0]))[:-100])
    pattern = r"train-images-idx3-ubyte.gz: corrupt or truncated gzip.*delete it"
    with pytest.raises(DataError, match=pattern):
        load_dataset("mnist", data_dir=tmp_path)


def test_corrupt_gzip(tmp_path):
    write_small_mnist(tmp_path)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(path.read_bytes())
    content[12:20] = b"\xff" * 8
    path.write_bytes(bytes(content))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: corrupt or truncated gzip"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_wrong_magic_number(tmp_path):
    write_small_mnist(tmp_path, gz=False)
    path = tmp_path / "train-labels-idx1-ubyte"
    content = bytearray(path.read_bytes())
    content[2] = 0x0D
    path.write_bytes(bytes(content))
    pattern = r"train-labels-idx1-ubyte: wrong magic number 0x00000d01.*0x00000801"
    with pytest.raises(DataError, match=pattern):
        load_dataset("mnist", data_dir=tmp_path)


def test_images_and_labels_swapped(tmp_path):
    arrays = write_small_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", arrays["train"][1])
    pattern = r"train-images-idx3-ubyte.gz: wrong magic number 0x00000801.*0x00000803"
    with pytest.raises(DataError, match=pattern):
        load_dataset("mnist", data_dir=tmp_path)


@pytest.mark.parametrize("change, problem", [(-5, "truncated"), (+3, "too long")])
def test_file_length_disagrees_with_header(tmp_path, change, problem):
    arrays = write_small_mnist(tmp_path, gz=False)
    content = idx_bytes(arrays["test"][0])
    content = content[:change] if change < 0 else content + b"\0" * change
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(content)
    with pytest.raises(DataError, match=rf"t10k-images-idx3-ubyte: {problem}"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_truncated_header(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(DataError, match=r"x-idx3-ubyte: truncated.*header"):
        read_idx(path)
    path.write_bytes(b"\0\0")
    with pytest.raises(DataError, match=r"x-idx3-ubyte: truncated"):
        read_idx(path)


def test_wrong_image_size(tmp_path):
    write_small_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", small_split(20, side=20)[0])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: wrong image size 20x20"):
        load_dataset("mnist", data_dir=tmp_path)


def test_image_and_label_counts_disagree(tmp_path):
    write_small_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(19, dtype=np.uint8))
    pattern = (
        r"counts disagree.*train-images-idx3-ubyte.gz holds 20 images"
        r".*train-labels-idx1-ubyte.gz holds 19"
    )
    with pytest.raises(DataError, match=pattern):
        load_dataset("mnist", data_dir=tmp_path)


def test_label_out_of_range(tmp_path):
    write_small_mnist(tmp_path)
    labels = np.zeros(10, dtype=np.uint8)
    labels[4] = 12
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: label 12 out of range"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_corrupt_keras_npz(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match=r"mnist.npz: not a valid npz"):
        load_dataset("mnist", data_dir=tmp_path)
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match=r"mnist.npz: missing array y_train"):
        load_dataset("mnist", data_dir=tmp_path)


# --- downloading -------------------------------------------------------------------


@pytest.fixture
def fake_mirror(monkeypatch, isolated):
    """Serve a tiny MNIST as gzipped idx files; return the list of fetched URLs."""
    files = {}
    for split, n in (("train", 20), ("test", 10)):
        for stem, array in zip(IDX_STEMS[split], small_split(n)):
            files[stem] = idx_bytes(array)
    checksums = {stem: hashlib.sha256(content).hexdigest() for stem, content in files.items()}
    monkeypatch.setattr(sources, "_MNIST_SHA256", checksums)
    fetched = []

    def fetch(url, dest_path):
        fetched.append(url)
        stem = url.rsplit("/", 1)[1].removesuffix(".gz")
        dest_path.write_bytes(gzip.compress(files[stem]))

    monkeypatch.setattr(sources, "_fetch", fetch)
    monkeypatch.delenv("BRIAN_STDP_NO_DOWNLOAD")
    return fetched


def test_download_puts_verified_files_in_cache(isolated, fake_mirror):
    dataset = load_dataset("mnist", "train")
    cache_dir = isolated / "cache" / "brian_stdp" / "mnist"
    assert dataset.source == str(cache_dir) and len(dataset) == 20
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted(
        f"{stem}.gz" for stems in IDX_STEMS.values() for stem in stems
    )
    first_mirror = "https://storage.googleapis.com/cvdf-datasets/mnist/"
    assert all(url.startswith(first_mirror) for url in fake_mirror)
    assert len(fake_mirror) == 4


def test_download_tries_next_mirror(isolated, fake_mirror, monkeypatch):
    working_fetch = sources._fetch

    def flaky_fetch(url, dest_path):
        if "googleapis" in url:
            raise OSError("connection refused")
        working_fetch(url, dest_path)

    monkeypatch.setattr(sources, "_fetch", flaky_fetch)
    assert len(load_dataset("mnist", "test")) == 10
    assert all("ossci-datasets" in url for url in fake_mirror)


def test_download_checksum_mismatch_leaves_no_file(isolated, fake_mirror, monkeypatch):
    monkeypatch.setitem(sources._MNIST_SHA256, "train-images-idx3-ubyte", "0" * 64)
    pattern = r"(?s)could not download train-images-idx3-ubyte.gz.*checksum mismatch"
    with pytest.raises(DataError, match=pattern):
        load_dataset("mnist", "train")
    cache_dir = isolated / "cache" / "brian_stdp" / "mnist"
    assert not any("train-images" in p.name for p in cache_dir.iterdir())


@pytest.mark.parametrize("env_value, download", [("1", True), (None, False)])
def test_no_download_when_forbidden(isolated, monkeypatch, env_value, download):
    monkeypatch.setattr(sources, "_fetch", lambda url, dest: pytest.fail(f"fetched {url}"))
    if env_value is None:
        monkeypatch.delenv("BRIAN_STDP_NO_DOWNLOAD")
    else:
        monkeypatch.setenv("BRIAN_STDP_NO_DOWNLOAD", env_value)
    pattern = r"(?s)mnist not found; looked in:.*env/mnist.*--data-dir.*BRIAN_STDP_DATA"
    with pytest.raises(DataError, match=pattern):
        load_dataset("mnist", download=download)


def test_dataset_is_frozen():
    images, labels = np.zeros((1, 8, 8), np.uint8), np.zeros(1, np.int64)
    dataset = Dataset("digits", "train", images, labels, "here")
    with pytest.raises(AttributeError):
        dataset.name = "mnist"
