"""``BackupAndRestore``: a run SIGKILLed mid-epoch and restarted ends where an
uninterrupted run ends (same weights, same history); the backup is pickle-free and whole."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from rnnkit import callbacks, layers as L
from rnnkit.models import Sequential

WORKER = os.path.join(os.path.dirname(__file__), "resume_worker.py")


def _run(out, backup_dir, *extra):
    return subprocess.Popen([sys.executable, WORKER, str(out), str(backup_dir), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(path):
    with np.load(path, allow_pickle=False) as f:
        weights = [f[f"w{i}"] for i in range(len(f.files) - 1)]
        return weights, json.loads(str(f["history"]))


def test_sigkill_mid_epoch_then_restart_ends_like_an_uninterrupted_run(tmp_path):
    straight = _run(tmp_path / "straight.npz", tmp_path / "backup_a")
    killed_out = tmp_path / "killed.npz"
    victim = _run(killed_out, tmp_path / "backup_b", "2,2")  # pause in epoch 3, batch 3
    marker = str(killed_out) + ".paused"
    deadline = time.time() + 120
    while not os.path.exists(marker):
        assert victim.poll() is None, victim.communicate()
        assert time.time() < deadline, "the worker never reached the pause"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    backup = tmp_path / "backup_b" / "backup.npz"
    with np.load(backup, allow_pickle=False) as f:  # a whole backup after 2 epochs
        assert json.loads(str(f["__state__"]))["epoch"] == 2
    restarted = _run(killed_out, tmp_path / "backup_b")
    for proc in (straight, restarted):
        stdout, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 0, stderr
        assert "backup left: False" in stdout  # delete_checkpoint once fit finished
    w_straight, h_straight = _result(tmp_path / "straight.npz")
    w_resumed, h_resumed = _result(killed_out)
    assert h_resumed["epoch"] == h_straight["epoch"] == [0, 1, 2, 3]
    assert set(h_resumed["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key, values in h_straight["history"].items():
        np.testing.assert_allclose(h_resumed["history"][key], values, rtol=1e-6, atol=1e-7)
    for a, b in zip(w_resumed, w_straight):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def _model(optimizer="adam"):
    torch.manual_seed(0)
    model = Sequential([L.GRU(3, input_shape=(4, 2)), L.Dense(1)])
    model.compile(optimizer, "mse")
    return model


def _data():
    rng = np.random.default_rng(1)
    return rng.random((16, 4, 2), dtype=np.float32), rng.random((16, 1), dtype=np.float32)


@pytest.mark.parametrize("optimizer", ["adam", "torch"])
def test_restore_in_process_matches_continuing(tmp_path, optimizer):
    """Stop after 2 of 4 epochs (a callback raising), resume: same as 4 straight epochs."""
    x, y = _data()

    def make():
        model = _model()
        if optimizer == "torch":
            model.compile(torch.optim.Adam(model.parameters(), lr=0.01), "mse")
        return model

    straight = make()
    torch.manual_seed(5)
    h1 = straight.fit(x, y, epochs=4, batch_size=4, verbose=0)

    class Crash(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("crash")

    model = make()
    torch.manual_seed(5)
    with pytest.raises(RuntimeError, match="crash"):
        model.fit(x, y, epochs=4, batch_size=4, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(tmp_path), Crash()])
    assert os.path.exists(tmp_path / "backup.npz")
    model = make()
    torch.manual_seed(123)  # a new process would not share the first run's RNG state
    h2 = model.fit(x, y, epochs=4, batch_size=4, verbose=0,
                   callbacks=[callbacks.BackupAndRestore(tmp_path)])
    assert h2.epoch == [0, 1, 2, 3]
    np.testing.assert_allclose(h2.history["loss"], h1.history["loss"], rtol=1e-6)
    for a, b in zip(model.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not os.path.exists(tmp_path / "backup.npz")


def test_backup_file_is_pickle_free_and_versioned(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    with np.load(tmp_path / "backup.npz", allow_pickle=False) as f:  # would fail on pickles
        state = json.loads(str(f["__state__"]))
        assert state["epoch"] == 1 and state["optimizer"]["iterations"] == 2
        assert any(k.startswith("opt/") for k in f.files)


def test_backup_arguments_and_unbuilt_model(tmp_path):
    with pytest.raises(ValueError, match="`backup_dir` is required"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq=5 is not supported"):
        callbacks.BackupAndRestore(tmp_path, save_freq=5)
    x, y = _data()
    _model().fit(x, y, epochs=1, verbose=0,
                 callbacks=[callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    unbuilt = Sequential([L.GRU(3), L.Dense(1)])
    unbuilt.compile("adam", "mse")
    with pytest.raises(ValueError, match="has no weights yet to restore it into"):
        unbuilt.fit(x, y, epochs=2, verbose=0,
                    callbacks=[callbacks.BackupAndRestore(tmp_path)])
