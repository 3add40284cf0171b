"""rnnkit's own .npz files and the BackupAndRestore backup: the Keras formats' safety.

Issue 16 items 3 and 5: raw RecursionError / BadZipFile / MemoryError / "pickled data"
became FileFormatErrors naming the file; a config declaring ``units=60000`` is refused
from the stored shapes before anything is allocated; an unused huge member is never read;
a tampered backup changes nothing.
"""
import io
import json
import zipfile

import numpy as np
import pytest

from rnnkit import backend, callbacks, utils
from rnnkit.io import FileFormatError, WeightMismatchError
from rnnkit.io import native
from rnnkit.layers import LSTM, Dense
from rnnkit.models import Sequential, load_model
from rnnkit.training import backup

from bounded import run_bounded  # tests/io/bounded.py


def _model(units=3):
    backend.clear_session()
    utils.set_random_seed(0)
    return Sequential([LSTM(units, input_shape=(4, 2)), Dense(1)], name="m")


def _rewrite(path, change):
    """Rewrite an .npz with ``change(dict of arrays)`` applied."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_load_model_load_weights_and_summary_read_rnnkit_npz(tmp_path, capsys):
    from rnnkit.io.cli_commands import summarize_file

    model = _model()
    model.save(tmp_path / "m.npz")
    model.save_weights(tmp_path / "w.npz")
    x = np.random.rand(2, 4, 2).astype("float32")
    clone = load_model(tmp_path / "m.npz")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    other = _model()
    other.set_weights([w * 0 for w in other.get_weights()])
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0))
    lines = []
    summarize_file(tmp_path / "m.npz", print_fn=lines.append)
    assert "Total params: 76" in "\n".join(lines)
    lines = []
    summarize_file(tmp_path / "w.npz", print_fn=lines.append)
    assert "weights only" in lines[0] and "lstm/lstm_cell/kernel:0: (2, 12)" in lines[1]
    with pytest.raises(FileFormatError, match="holds weights only"):
        load_model(tmp_path / "w.npz")


def test_model_checkpoint_npz_is_loadable(tmp_path):
    model = _model()
    model.compile("adam", "mse")
    x, y = np.random.rand(8, 4, 2).astype("float32"), np.random.rand(8, 1).astype("float32")
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "best.npz"), monitor="loss")])
    clone = load_model(tmp_path / "best.npz")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_hdf5_json_and_zip_damage_are_clear_errors(tmp_path):
    model = _model()
    h5 = tmp_path / "model.npz"
    model.save(tmp_path / "m.h5")
    h5.write_bytes((tmp_path / "m.h5").read_bytes())
    with pytest.raises(FileFormatError, match="is an HDF5 file, not an rnnkit .npz file"):
        native.load_weights(model, h5)  # was: "This file contains pickled data"
    model.load_weights(h5)  # the public loader goes by content: an HDF5 file is read as one
    path = tmp_path / "deep.npz"
    model.save(path)
    _rewrite(path, lambda a: a.update({"__config__": np.array("[" * 100_000 + "]" * 100_000)}))
    with pytest.raises(FileFormatError, match="nested deeper than 64 levels"):
        load_model(path)
    broken = tmp_path / "broken.npz"
    model.save(broken)
    broken.write_bytes(broken.read_bytes()[:-40])
    with pytest.raises(FileFormatError, match="broken.npz' is not a readable"):
        load_model(broken)


def test_pickled_object_arrays_are_refused(tmp_path):
    path = tmp_path / "obj.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("lstm/lstm_cell/kernel:0.npy", buffer.getvalue())
    with pytest.raises(FileFormatError, match="object arrays would need pickle"):
        _model().load_weights(path)


def test_huge_units_in_an_npz_config_fail_before_allocation(tmp_path):
    model = _model()
    path = tmp_path / "m.npz"
    model.save(path)

    def huge(arrays):
        config = json.loads(str(arrays["__config__"]))
        config["layers"][1]["config"]["units"] = 60000
        arrays["__config__"] = np.array(json.dumps(config))
    _rewrite(path, huge)
    result = run_bounded(f"""
        from rnnkit.models import load_model
        load_model({str(path)!r})
    """, timeout=120, memory_mb=3000)
    assert result["outcome"] == "WeightMismatchError", result
    assert "has shape (2, 240000) in the model, but the file stores shape (2, 12)" in result["detail"]


def test_an_unused_huge_member_is_never_read(tmp_path):
    # 1 MB on disk, 2 GiB declared: deflated zeros; the old loader read it (2.3 GB)
    path = tmp_path / "m.npz"
    _model().save(path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (2 ** 29,)})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("unused.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(2 ** 24)
            for _ in range(2 ** 31 // len(zeros)):
                member.write(zeros)
    assert path.stat().st_size < 4 * 2 ** 20
    result = run_bounded(f"""
        from rnnkit.models import load_model
        load_model({str(path)!r})
    """, timeout=180, memory_mb=3000)
    assert result["outcome"] == "FileFormatError", result
    assert "corrupt or a zip bomb" in result["detail"]


def test_wrong_shapes_are_refused_from_headers_and_reads_keep_to_the_budget(tmp_path):
    from rnnkit._files.npz import NpzReader

    model = _model()
    path = tmp_path / "w.npz"
    model.save_weights(path)
    _rewrite(path, lambda a: a.update({"lstm/lstm_cell/kernel:0": np.zeros((200, 12)),
                                       "extra": np.zeros(10 ** 6)}))
    with pytest.raises(WeightMismatchError, match=r"has shape \(2, 12\) in the model, but the "
                                                  r"file stores shape \(200, 12\)"):
        _model().load_weights(path)
    with NpzReader(path, "'w.npz'", budget=2 ** 16) as reader:
        assert reader.entries["extra"].shape == (10 ** 6,)  # known from the header alone
        with pytest.raises(FileFormatError, match=r"'extra' is 8000000 bytes, more than is left"):
            reader.read("extra")


# ---------------------------------------------------------------------- the backup
def _backup(tmp_path):
    model = _model()
    model.compile("adam", "mse")
    x, y = np.random.rand(8, 4, 2).astype("float32"), np.random.rand(8, 1).astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "backup.npz"
    backup.save(model, str(path), 1, {"loss": [0.5]}, [0])
    return model, path


def _state(change):
    def edit(arrays):
        state = json.loads(str(arrays["__state__"]))
        change(state)
        arrays["__state__"] = np.array(json.dumps(state))
    return edit


TAMPERING = {
    "bad torch RNG": (lambda a: a.update({"rng/torch": a["rng/torch"][:100]}),
                      "torch random state is missing or has the wrong size"),
    "missing weight": (lambda a: a.pop("w/1"), "it holds 4 weights"),
    "wrong slot shape": (lambda a: a.update({k: np.zeros(7, np.float32) for k in list(a)
                                            if k.startswith("opt/0/")}),
                         "optimizer slot 'opt/0/.*' has shape \\(7,\\)"),
    "negative iterations": (_state(lambda s: s["optimizer"].update(iterations=-1e6)),
                            "step count is -1000000.0"),
    "negative epoch": (_state(lambda s: s.update(epoch=-3)), "epoch is -3; expected"),
    "bad python RNG": (_state(lambda s: s["python_rng"][1].pop()), "Python random state"),
    "bad numpy RNG": (lambda a: a.update({"rng/numpy": a["rng/numpy"][:10]}),
                      "NumPy random state"),
    "history mismatch": (_state(lambda s: s["history"].update(loss=[1, 2])), "'history'"),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampered_backup_is_refused_and_changes_nothing(tmp_path, case):
    change, message = TAMPERING[case]
    model, path = _backup(tmp_path)
    _rewrite(path, change)
    before = [w.copy() for w in model.get_weights()]
    slots = {k: {n: v.clone() for n, v in d.items()} for k, d in model.optimizer._slots.items()}
    iterations = model.optimizer.iterations
    model.set_weights([w + 1 for w in before])
    changed = [w.copy() for w in model.get_weights()]
    with pytest.raises(FileFormatError, match=message):
        backup.restore(model, str(path))
    assert all(np.array_equal(a, b) for a, b in zip(changed, model.get_weights()))
    assert model.optimizer.iterations == iterations
    assert all(all(np.array_equal(v, slots[k][n]) for n, v in d.items())
               for k, d in model.optimizer._slots.items())


def test_a_valid_backup_restores(tmp_path):
    model, path = _backup(tmp_path)
    saved = [w.copy() for w in model.get_weights()]
    model.set_weights([w * 0 for w in saved])
    state = backup.restore(model, str(path))
    assert state["epoch"] == 1
    assert all(np.array_equal(a, b) for a, b in zip(saved, model.get_weights()))


def test_fit_with_a_negative_epoch_backup_refuses_before_training(tmp_path):
    model, _ = _backup(tmp_path)
    backup_dir = tmp_path / "b"
    backup_dir.mkdir()
    (tmp_path / "backup.npz").rename(backup_dir / "backup.npz")
    _rewrite(backup_dir / "backup.npz", _state(lambda s: s.update(epoch=-3)))
    x, y = np.random.rand(8, 4, 2).astype("float32"), np.random.rand(8, 1).astype("float32")
    with pytest.raises(FileFormatError, match="epoch is -3"):
        model.fit(x, y, epochs=2, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(str(backup_dir))])
