"""Data-parallel ``fit`` under ``torchrun`` (or a ``torch.distributed`` group the user set up).

When a process group of more than one process exists (``fit`` also starts one from
torchrun's ``RANK``/``WORLD_SIZE``/``MASTER_ADDR`` environment: gloo on CPU, nccl on CUDA),
``fit``:

- wraps the model in ``DistributedDataParallel`` (PyTorch's gradient all-reduce; the
  weights are broadcast from rank 0 when it is built, so every rank starts equal);
- splits each *global* batch of ``batch_size`` samples across the ranks (as tf.keras's
  distribution strategies take ``batch_size`` as the global batch); the order is a
  permutation drawn from a generator seeded with ``seed + epoch``, the same on every rank,
  so every sample is seen exactly once per epoch; a rank's loss is scaled by its share of
  the global batch so the averaged gradient is the global batch's gradient, and one
  process with the same global batch (and order) takes the same steps;
- sums the metrics' states (totals, counts, confusion counts) over the ranks with
  ``all_reduce`` before each epoch's logs, for training and the sharded validation data;
- prints progress and writes checkpoints on rank 0 only (``model._is_rank_zero``).
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import torch
import torch.distributed as dist

from . import data as data_mod

_STATE_ATTRS = ("_total", "_count", "tp", "fp", "tn", "fn")


def init_from_env() -> bool:
    """Start the default process group from torchrun's environment when there is one."""
    if not dist.is_available() or dist.is_initialized():
        return dist.is_available() and dist.is_initialized()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and "MASTER_ADDR" in os.environ:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return True
    return False


def active() -> bool:
    return init_from_env() and dist.get_world_size() > 1


class ShardedBatches:
    """One rank's part of each global batch of in-memory arrays (see the module docstring)."""

    def __init__(self, batches: data_mod.ArrayBatches, shuffle: bool, seed: int = 0,
                 rank: int | None = None, world: int | None = None) -> None:
        self.inner, self.shuffle, self.seed = batches, shuffle, seed
        self.rank = dist.get_rank() if rank is None else rank
        self.world = dist.get_world_size() if world is None else world
        self.steps = batches.steps
        self.epoch_index = 0
        self.last_scale = 1.0

    def __len__(self) -> int:
        return self.steps

    def set_epoch(self, epoch: int) -> None:
        self.epoch_index = epoch

    def global_order(self) -> torch.Tensor:
        n = self.inner.n
        if not self.shuffle:
            return torch.arange(n)
        generator = torch.Generator().manual_seed(self.seed + self.epoch_index)
        return torch.randperm(n, generator=generator)

    def epoch(self) -> Iterator[tuple]:
        inner, order = self.inner, self.global_order()
        size = inner.batch_size
        for step, start in enumerate(range(0, inner.n, size)):
            if step >= self.steps:
                return
            batch = order[start:start + size]
            parts = torch.tensor_split(batch, self.world)
            if min(len(p) for p in parts) == 0:
                # a last global batch smaller than the number of ranks: a rank would have
                # nothing to run; dropped (as DistributedSampler's drop_last)
                return
            mine = parts[self.rank]
            self.last_scale = len(mine) * self.world / len(batch)
            yield (data_mod.take(inner.x, mine), data_mod.take(inner.y, mine),
                   data_mod.take(inner.sw, mine))


def shard(batches: Any, shuffle: bool, seed: int = 0) -> Any:
    """Array batches are sharded; other data (a DataLoader with its own
    ``DistributedSampler``, a generator) is the user's to shard and passes through."""
    if isinstance(batches, data_mod.ArrayBatches):
        return ShardedBatches(batches, shuffle, seed)
    return batches


def wrap(model: Any) -> Any:
    """``DistributedDataParallel`` around the (built) model."""
    from torch.nn.parallel import DistributedDataParallel
    device = model._device()
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)


def reduce_metrics(metrics: list) -> None:
    """Sum every metric's state over the ranks (one all_reduce for all of them)."""
    slots = [(m, a) for m in metrics for a in _STATE_ATTRS if hasattr(m, a)]
    if not slots:
        return
    flat = [torch.as_tensor(getattr(m, a), dtype=torch.float64).reshape(-1).cpu()
            for m, a in slots]
    packed = torch.cat(flat)
    if dist.get_backend() == "nccl":
        packed = packed.cuda()
    dist.all_reduce(packed)
    packed = packed.cpu()
    offset = 0
    for (m, a), t in zip(slots, flat):
        value = packed[offset:offset + t.numel()]
        offset += t.numel()
        old = getattr(m, a)
        setattr(m, a, value.reshape(old.shape).to(old.dtype) if torch.is_tensor(old)
                else float(value[0]))


def is_rank_zero() -> bool:
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0
