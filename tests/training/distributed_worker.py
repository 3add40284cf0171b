"""``test_distributed.py``'s run: ``python -m torch.distributed.run --nproc_per_node 2
distributed_worker.py OUT_DIR`` (data-parallel) or ``python distributed_worker.py OUT_DIR
--single`` (one process on the same global batches and order). Writes rank 0's (or the single
process's) final weights and history to ``OUT_DIR/<mode>.npz``, and a checkpoint per epoch
with ``ModelCheckpoint`` (rank 0 only)."""
import json
import os
import sys

import numpy as np
import torch

from rnnkit import callbacks, layers as L
from rnnkit.models import Sequential
from rnnkit.training import data as data_mod, distributed

EPOCHS, BATCH = 3, 8


def data():
    rng = np.random.default_rng(0)
    x = rng.random((35, 5, 3), dtype=np.float32)  # 4 global batches of 8, one of 3 (2 + 1)
    y = (x.sum(axis=(1, 2)) > 7.5).astype(np.float32)[:, None]
    return x, y


def model():
    torch.manual_seed(0)
    m = Sequential([L.GRU(6, input_shape=(5, 3)), L.Dense(1, "sigmoid")])
    m.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return m


def record_samples(x):
    """Record which training samples this rank is given, per epoch (by their rows)."""
    index = {row.tobytes(): i for i, row in enumerate(x)}
    seen = []
    original = distributed.ShardedBatches.epoch

    def epoch(self):
        if self.shuffle:  # the training data (validation is not shuffled)
            seen.append([])
        for xb, yb, swb in original(self):
            if self.shuffle:
                seen[-1] += [index[row.tobytes()] for row in xb.numpy()]
            yield xb, yb, swb
    distributed.ShardedBatches.epoch = epoch
    return seen


def main():
    out_dir = sys.argv[1]
    single = "--single" in sys.argv
    x, y = data()
    m = model()
    if single:
        # the order the sharded run uses, fed unshuffled: epoch by epoch
        history = {}
        for epoch in range(EPOCHS):
            order = distributed.ShardedBatches(data_mod.ArrayBatches(
                torch.from_numpy(x), batch_size=BATCH), True, rank=0, world=1)
            order.set_epoch(epoch)
            perm = order.global_order().numpy()
            h = m.fit(x[perm], y[perm], batch_size=BATCH, epochs=epoch + 1,
                      initial_epoch=epoch, shuffle=False, verbose=0,
                      validation_data=(x[:12], y[:12]))
            for k, v in h.history.items():
                history.setdefault(k, []).extend(v)
        name = "single"
    else:
        seen = record_samples(x)
        ckpt = os.path.join(out_dir, "ckpt-{epoch}.weights.npz")
        h = m.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=2,
                  validation_data=(x[:12], y[:12]),
                  callbacks=[callbacks.ModelCheckpoint(ckpt, save_weights_only=True)])
        history = h.history
        rank = torch.distributed.get_rank()
        name = f"rank{rank}"
        with open(os.path.join(out_dir, f"seen{rank}.json"), "w") as f:
            json.dump(seen, f)
        torch.distributed.destroy_process_group()
    arrays = {f"w{i}": w for i, w in enumerate(m.get_weights())}
    arrays["history"] = np.array(json.dumps(history))
    np.savez(os.path.join(out_dir, name + ".npz"), **arrays)


if __name__ == "__main__":
    main()
