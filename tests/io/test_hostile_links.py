"""Hostile files, round two, items 1-2: nothing outside the file is read, nothing blocks.

HDF5 can make a dataset's bytes come from another file (external storage, virtual datasets)
and a group from another file (external links); each is refused before anything is read,
in every format that holds HDF5 (``.h5``, ``.weights.h5``, the ``.keras`` member). Paths
that are not regular files (a FIFO, a device, a directory) are refused from ``os.stat``,
so nothing can block: those tests run in a child process with a timeout and a memory limit.
"""
import os
import shutil
import stat
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from rnnkit.io import FileFormatError
from rnnkit.layers import LSTM, Dense
from rnnkit.models import Sequential, load_model

from bounded import run_bounded  # tests/io/bounded.py (pytest puts tests/io on sys.path)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LSTM_H5 = FIXTURES / "keras2" / "models" / "lstm_dense.h5"
LSTM_KERAS = FIXTURES / "keras3" / "k3_lstm_dense.keras"
KERNEL = "model_weights/lstm/lstm/lstm_cell/kernel:0"


def _secret(tmp_path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_bytes(b"API_KEY=hunter2 " * 200)
    return path


def _replace(path, name, make):
    with h5py.File(path, "r+") as f:
        shape, dtype = f[name].shape, f[name].dtype
        del f[name]
        make(f, name, shape, dtype)


def _external_storage(target):
    def make(f, name, shape, dtype):
        f.create_dataset(name, shape=shape, dtype=dtype,
                         external=[(str(target), 0, int(np.prod(shape)) * dtype.itemsize)])
    return make


def _h5_with(tmp_path, make, name=KERNEL, file="m.h5"):
    path = tmp_path / file
    shutil.copy(LSTM_H5, path)
    _replace(path, name, make)
    return path


def _model():
    return Sequential([LSTM(32, input_shape=(None, 4)), Dense(1)])


def test_external_storage_reading_another_file_is_refused(tmp_path):
    path = _h5_with(tmp_path, _external_storage(_secret(tmp_path)))
    with pytest.raises(FileFormatError, match=r"keeps its data in external files; rnnkit reads "
                                              r"only what the file itself holds"):
        load_model(path)
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(FileFormatError, match="external files"):
        model.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_external_storage_in_a_weights_file_and_optimizer_group_is_refused(tmp_path):
    model = _model()
    weights = tmp_path / "w.weights.h5"
    model.save_weights(weights)
    with h5py.File(weights) as f:
        name = next(n for n in ["layers/lstm/cell/vars/0"] if n in f)
    _replace(weights, name, _external_storage(_secret(tmp_path)))
    with pytest.raises(FileFormatError, match="external files"):
        model.load_weights(weights)


def test_external_storage_inside_a_keras_archive_is_refused(tmp_path):
    with zipfile.ZipFile(LSTM_KERAS) as z:
        members = {n: z.read(n) for n in z.namelist()}
    inner = tmp_path / "inner.h5"
    inner.write_bytes(members["model.weights.h5"])
    _replace(inner, "layers/lstm/cell/vars/0", _external_storage(_secret(tmp_path)))
    members["model.weights.h5"] = inner.read_bytes()
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    with pytest.raises(FileFormatError, match="external files"):
        load_model(path)


def test_external_link_to_another_file_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    shutil.copy(LSTM_H5, other)
    path = tmp_path / "m.h5"
    shutil.copy(LSTM_H5, path)
    with h5py.File(path, "r+") as f:
        del f["model_weights/lstm"]
        f["model_weights/lstm"] = h5py.ExternalLink(str(other), "/model_weights/lstm")
    with pytest.raises(FileFormatError, match=r"is reached through an external link \(to "
                                              r"another file\) at 'lstm'; rnnkit reads only"):
        load_model(path)
    with pytest.raises(FileFormatError, match="external link"):
        _model().load_weights(path)


def test_soft_links_and_virtual_datasets_are_refused(tmp_path):
    def soft(f, name, shape, dtype):
        f.create_dataset("/elsewhere", shape=shape, dtype=dtype)
        f[name] = h5py.SoftLink("/elsewhere")
    with pytest.raises(FileFormatError, match="soft link"):
        load_model(_h5_with(tmp_path, soft, file="soft.h5"))

    source = tmp_path / "source.h5"
    with h5py.File(source, "w") as f:
        f.create_dataset("data", data=np.ones((4, 128), np.float32))

    def virtual(f, name, shape, dtype):
        layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
        layout[:] = h5py.VirtualSource(str(source), "data", shape=shape)
        f.create_virtual_dataset(name, layout)
    with pytest.raises(FileFormatError, match="virtual dataset"):
        load_model(_h5_with(tmp_path, virtual, file="virtual.h5"))


def test_the_same_dataset_listed_many_times_is_refused_before_reading(tmp_path):
    # issue 16 item 3: 500 references to one 4 MB dataset took 2.2 GB before the count check
    path = tmp_path / "many.h5"
    shutil.copy(LSTM_H5, path)
    with h5py.File(path, "r+") as f:
        group = f["model_weights/lstm"]
        group.create_dataset("big", data=np.zeros(2 ** 20, np.float32))
        group.attrs["weight_names"] = np.array([b"big"] * 500)
    with pytest.raises(FileFormatError, match=r"layer 'lstm' \(LSTM\) expects 3 weights.*but "
                                              r"the file has 500 for it"):
        load_model(path)


# ---------------------------------------------------------------------- never blocking
def test_fifos_devices_and_directories_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.h5"
    os.mkfifo(fifo)
    fifo_target = tmp_path / "pipe"
    os.mkfifo(fifo_target)
    path = _h5_with(tmp_path, _external_storage(fifo_target), file="ext_fifo.h5")
    link = tmp_path / "link.h5"
    shutil.copy(LSTM_H5, link)
    with h5py.File(link, "r+") as f:
        del f["model_weights/lstm"]
        f["model_weights/lstm"] = h5py.ExternalLink(str(fifo_target), "/x")
    (tmp_path / "saved_model").mkdir()
    result = run_bounded(f"""
        from rnnkit.io import FileFormatError
        from rnnkit.io.saving import read_config
        from rnnkit.layers import LSTM, Dense
        from rnnkit.models import Sequential, load_model
        from rnnkit.io.cli_commands import summarize_file
        model = Sequential([LSTM(32, input_shape=(None, 4)), Dense(1)])
        cases = [("fifo load_model", lambda: load_model({str(fifo)!r})),
                 ("fifo load_weights", lambda: model.load_weights({str(fifo)!r})),
                 ("fifo read_config", lambda: read_config({str(fifo)!r})),
                 ("fifo summary", lambda: summarize_file({str(fifo)!r})),
                 ("external storage on a fifo", lambda: load_model({str(path)!r})),
                 ("external link to a fifo", lambda: load_model({str(link)!r})),
                 ("device", lambda: load_model("/dev/zero")),
                 ("directory", lambda: load_model({str(tmp_path / 'saved_model')!r}))]
        for name, case in cases:
            try:
                case()
                print("RESULT", name, "loaded")
            except FileFormatError as error:
                print("RESULT", name, "|", error)
    """, timeout=120, memory_mb=3000)
    assert result["outcome"] == "ok", result
    lines = [line for line in result["stdout"].splitlines() if line.startswith("RESULT")]
    assert len(lines) == 8, result["stdout"]
    text = "\n".join(lines)
    assert text.count("is a named pipe (FIFO), not a regular file") == 4, text
    assert "external storage on a fifo | " in text and "external files" in text
    assert "external link to a fifo | " in text and "external link" in text
    assert "'/dev/zero' is a character device, not a regular file" in text
    assert "is a directory, not a regular file (a TensorFlow SavedModel?)" in text


def test_open_regular_refuses_a_fifo_swapped_in_after_the_check(tmp_path, monkeypatch):
    from rnnkit._files import reading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    regular = os.stat(LSTM_H5)
    monkeypatch.setattr(reading, "check_regular", lambda path, label: regular)
    with pytest.raises(FileFormatError, match=r"is a named pipe \(FIFO\)"):
        reading.open_regular(fifo, "'pipe'")  # O_NONBLOCK: returns at once, fstat refuses
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_thousands_of_name_chunks_are_refused_quickly(tmp_path):
    import time

    path = tmp_path / "chunks.h5"
    shutil.copy(LSTM_H5, path)
    with h5py.File(path, "r+") as f:
        root = f["model_weights"]
        del root.attrs["layer_names"]
        for index in range(6000):
            root.attrs[f"layer_names{index}"] = np.array([b"lstm"])
    load_model(LSTM_H5)  # imports done: what is timed is the refusal
    start = time.perf_counter()
    with pytest.raises(FileFormatError, match="split into more than 1024 chunks"):
        load_model(path)
    assert time.perf_counter() - start < 10  # was 16 s


def test_a_deflated_keras_member_larger_than_the_model_needs_is_not_inflated(tmp_path):
    with zipfile.ZipFile(LSTM_KERAS) as z:
        members = {n: z.read(n) for n in z.namelist()}
    inner = tmp_path / "inner.h5"
    inner.write_bytes(members["model.weights.h5"])
    with h5py.File(inner, "r+") as f:
        runs = np.random.default_rng(0).integers(0, 256, 400_000).astype(np.uint8)
        f.create_dataset("padding", data=np.repeat(runs, 100))  # 40 MB, deflates ~50x
    members["model.weights.h5"] = inner.read_bytes()
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for n, data in members.items():
            z.writestr(n, data)
    assert path.stat().st_size < 4 * 2 ** 20
    with pytest.raises(FileFormatError, match=r"'model.weights.h5' is \d+ bytes, more than the "
                                              r"model its config describes can use"):
        load_model(path)
