"""Training under faults: NaN, Ctrl-C during fit, a save that fails half way."""
import errno
import os

import numpy as np
import pytest
import torch

from rnnkit import callbacks, layers as L
from rnnkit.models import Sequential


def _model():
    torch.manual_seed(0)
    model = Sequential([L.LSTM(3, input_shape=(4, 2), name="lstm"), L.Dense(1, name="dense")])
    model.compile("sgd", "mse")
    return model


def _data(n=16):
    rng = np.random.default_rng(0)
    return rng.random((n, 4, 2), dtype=np.float32), rng.random((n, 1), dtype=np.float32)


def test_terminate_on_nan_reports_epoch_batch_and_value(capsys):
    x, y = _data()
    y[13] = np.nan  # unshuffled batches of 4: sample 13 is in batch 3 of epoch 1
    model = _model()
    nan = callbacks.TerminateOnNaN()
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0,
                        callbacks=[nan])
    assert nan.report["epoch"] == 0 and nan.report["batch"] == 3
    assert set(nan.report["logs"]) == {"loss"} and np.isnan(nan.report["logs"]["loss"])
    # the NaN target's gradient made every weight NaN in the same step
    assert nan.report["weights"][0].startswith("lstm/")
    out = capsys.readouterr().out
    assert "Batch 3: Invalid loss, terminating training (epoch 1, batch 3: loss=nan; " \
        "first non-finite weights: lstm/" in out
    assert history.epoch == [0]


def test_terminate_on_nan_with_finite_weights_says_so(capsys):
    x, y = _data(8)
    y[5] = np.inf  # an inf target: an inf loss while the (frozen) weights stay finite
    model = _model()
    model.trainable = False
    model.compile("sgd", "mse")
    nan = callbacks.TerminateOnNaN()
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[nan])
    assert nan.report == {"epoch": 0, "batch": 1, "logs": {"loss": float("inf")},
                          "weights": []}
    assert "loss=inf; the weights are still finite" in capsys.readouterr().out


def test_keyboard_interrupt_keeps_history_and_a_usable_model():
    x, y = _data()
    model = _model()

    class CtrlC(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if self.model.optimizer.iterations == 10:  # epoch 3 (index 2), batch 2
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[CtrlC()])
    assert model.history.epoch == [0, 1] and len(model.history.history["loss"]) == 2
    assert not model.training  # inference mode restored, as after a normal fit
    assert np.isfinite(model.predict(x, verbose=0)).all()
    again = model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # and it trains on
    assert model.optimizer.iterations == 14 and again.epoch == [0]


def _failing_savez(written):
    real = np.savez

    def savez(file, **arrays):
        file.write(b"PK\x03\x04 half a file")  # the start of an archive, then the disk fills
        written.append(file.name)
        raise OSError(errno.ENOSPC, "No space left on device")
    return real, savez


def test_checkpoint_save_failing_half_way_keeps_the_previous_file(tmp_path, monkeypatch):
    x, y = _data()
    model = _model()
    path = str(tmp_path / "ckpt.weights.npz")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(path)])
    with open(path, "rb") as f:
        before = f.read()
    written = []
    _, failing = _failing_savez(written)
    monkeypatch.setattr(np, "savez", failing)
    with pytest.raises(OSError, match=r"ModelCheckpoint: could not save epoch 1 to .*ckpt"
                                      r"\.weights\.npz.*No space left on device.*The previous "
                                      r"file there is unchanged"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(path)])
    monkeypatch.undo()
    assert written and not os.path.exists(written[0])  # the half-written temp file is gone
    with open(path, "rb") as f:
        assert f.read() == before
    assert sorted(os.listdir(tmp_path)) == ["ckpt.weights.npz"]
    restored = _model()
    restored.load_weights(path)  # still a whole, loadable file


def test_checkpoint_permission_denied_is_a_clear_error(tmp_path, monkeypatch):
    x, y = _data()
    model = _model()
    path = str(tmp_path / "model.h5")

    def denied(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", dst)
    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(OSError, match=r"could not save epoch 1 to .*model\.h5.*Permission "
                                      r"denied"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(path)])
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []  # no temp file left behind


def test_backup_killed_during_its_write_keeps_the_previous_backup(tmp_path, monkeypatch):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    with open(tmp_path / "backup.npz", "rb") as f:
        before = f.read()
    _, failing = _failing_savez([])
    monkeypatch.setattr(np, "savez", failing)
    with pytest.raises(OSError, match="No space left"):
        model.fit(x, y, epochs=3, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    monkeypatch.undo()
    with open(tmp_path / "backup.npz", "rb") as f:
        assert f.read() == before
