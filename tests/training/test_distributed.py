"""Data-parallel fit: 2 CPU processes (gloo, launched by torch.distributed.run) end with
the weights and history of one process on the same global batches; sharding covers every
sample exactly once per epoch."""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnkit.training import data as data_mod, distributed

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(),
                                reason="this torch build has no torch.distributed")

WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(path):
    with np.load(path, allow_pickle=False) as f:
        return [f[f"w{i}"] for i in range(len(f.files) - 1)], json.loads(str(f["history"]))


def test_two_processes_match_one_process_on_the_same_global_batch(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    parallel = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), WORKER,
         str(tmp_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    single = subprocess.run([sys.executable, WORKER, str(tmp_path), "--single"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    stdout, stderr = parallel.communicate(timeout=300)
    assert parallel.returncode == 0, stderr
    # rank 0 alone logs: one "Epoch i/3" line per epoch
    assert stdout.count("Epoch 1/3") == 1 and stdout.count("Epoch 3/3") == 1
    w_single, h_single = _load(tmp_path / "single.npz")
    for rank in (0, 1):
        w_rank, h_rank = _load(tmp_path / f"rank{rank}.npz")
        assert set(h_rank) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        for key in h_single:
            np.testing.assert_allclose(h_rank[key], h_single[key], rtol=1e-5, atol=1e-6,
                                       err_msg=f"rank {rank}: {key}")
        for a, b in zip(w_rank, w_single):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # in the real run, every training sample reached exactly one rank in every epoch
    seen = [json.loads((tmp_path / f"seen{rank}.json").read_text()) for rank in (0, 1)]
    assert len(seen[0]) == len(seen[1]) == 3
    for epoch in range(3):
        assert sorted(seen[0][epoch] + seen[1][epoch]) == list(range(35))
    assert seen[0][0] != seen[0][1]  # a new order each epoch
    # checkpoints written once (rank 0), one per epoch
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith("ckpt")) == \
        [f"ckpt-{e}.weights.npz" for e in (1, 2, 3)]


@pytest.mark.parametrize("n,batch,world", [(36, 8, 2), (37, 8, 3), (10, 4, 2)])
def test_every_sample_once_per_epoch_across_ranks(n, batch, world):
    ids = torch.arange(n, dtype=torch.float32)[:, None]
    orders = []
    for epoch in range(3):
        seen = []
        per_rank = []
        for rank in range(world):
            shard = distributed.ShardedBatches(data_mod.ArrayBatches(ids, batch_size=batch),
                                               True, rank=rank, world=world)
            shard.set_epoch(epoch)
            batches = [[int(v) for v in xb[:, 0]] for xb, _, _ in shard.epoch()]
            per_rank.append([len(b) for b in batches])
            seen += [v for b in batches for v in b]
        assert sorted(seen) == list(range(n))  # every sample, once
        for step_sizes in zip(*per_rank):  # each global batch split evenly (within one)
            assert sum(step_sizes) <= batch and max(step_sizes) - min(step_sizes) <= 1
        orders.append(seen)
    assert orders[0] != orders[1] != orders[2]  # reshuffled per epoch, seeded by the epoch


def test_loss_shares_make_the_global_mean():
    ids = torch.arange(12, dtype=torch.float32)[:, None]
    scales = []
    for rank in range(2):
        shard = distributed.ShardedBatches(data_mod.ArrayBatches(ids, batch_size=5), False,
                                           rank=rank, world=2)
        for xb, _, _ in shard.epoch():
            scales.append((rank, len(xb), shard.last_scale))
    # batches 5, 5, 2 split 3+2, 3+2, 1+1: share = local * world / global
    assert scales == [(0, 3, 1.2), (0, 3, 1.2), (0, 1, 1.0), (1, 2, 0.8), (1, 2, 0.8),
                      (1, 1, 1.0)]


def test_rnnkit_train_nproc_2(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK")}
    done = subprocess.run([sys.executable, "-m", "rnnkit", "train", "--nproc", "2",
                           "--epochs", "2", "--units", "4", "--patience", "0", "--no-plots",
                           "--verbose", "2", "--out", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Training LSTM(4) on 'airline'") == 1  # rank 0 only
    assert done.stdout.count("Epoch 2/2") == 1 and "Test RMSE" in done.stdout
    with open(tmp_path / "report.json") as f:
        report = json.load(f)
    assert report["epochs_run"] == 2 and len(report["history"]["val_loss"]) == 2
    assert os.path.exists(tmp_path / "model.weights.npz")
