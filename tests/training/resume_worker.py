"""A training run for ``test_resume.py``: ``python resume_worker.py OUT BACKUP_DIR [PAUSE_AT]``.

Trains a small LSTM for 4 epochs (shuffled batches, dropout: both draw from the RNGs) with
``BackupAndRestore(BACKUP_DIR)`` and writes the final weights and history to ``OUT`` (.npz).
With ``PAUSE_AT=epoch,batch`` it writes ``OUT.paused`` at that batch and sleeps there, so the
test can SIGKILL it mid-epoch.
"""
import json
import os
import sys
import time

import numpy as np
import torch

from rnnkit import callbacks, layers as L
from rnnkit.models import Sequential


class PauseAt(callbacks.Callback):
    def __init__(self, epoch, batch, marker):
        super().__init__()
        self.target, self.marker, self.epoch = (epoch, batch), marker, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.target:
            with open(self.marker, "w") as f:
                f.write("paused")
            time.sleep(120)  # killed here


def main():
    out, backup_dir = sys.argv[1], sys.argv[2]
    torch.manual_seed(1)
    np.random.seed(1)
    rng = np.random.default_rng(0)
    x = rng.random((48, 6, 3), dtype=np.float32)
    y = (x.sum(axis=(1, 2)) > 9).astype(np.float32)[:, None]
    model = Sequential([L.LSTM(5, input_shape=(6, 3), dropout=0.2), L.Dense(1, "sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    cbs = [callbacks.BackupAndRestore(backup_dir)]
    if len(sys.argv) > 3:
        epoch, batch = map(int, sys.argv[3].split(","))
        cbs.append(PauseAt(epoch, batch, out + ".paused"))
    history = model.fit(x, y, epochs=4, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=cbs)
    arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    arrays["history"] = np.array(json.dumps({"history": history.history,
                                             "epoch": history.epoch}))
    np.savez(out, **arrays)
    print("backup left:", os.path.exists(os.path.join(backup_dir, "backup.npz")))


if __name__ == "__main__":
    main()
