"""Turn what ``fit``/``evaluate``/``predict`` accept into batches of tensors.

Accepted, as in tf.keras 2: NumPy arrays, torch tensors, (nested) lists of numbers, a list of
arrays (several model inputs), a torch ``Dataset`` (samples, batched here) or ``DataLoader``
(batches), a ``rnnkit.utils.Sequence``, any re-iterable of batches (such as
``timeseries_dataset_from_array``'s result) and one-shot generators/iterators. A batch is
``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterator

import numpy as np
import torch


def is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor)) or np.isscalar(x)


def is_array_like(x: Any) -> bool:
    """Arrays, tensors, and lists/tuples of them or of numbers (not iterables of batches)."""
    if x is None or is_array(x):
        return True
    if isinstance(x, (list, tuple)):
        return all(is_array_like(v) for v in x)
    return False


class PerTensor(list):
    """One array per model input or output, kept a list even when the arrays share a shape."""


def to_tensor(x: Any) -> Any:
    """Arrays -> tensors; a list of same-length arrays of different shapes stays a list."""
    if x is None or isinstance(x, torch.Tensor):
        return x
    if isinstance(x, PerTensor):
        return PerTensor(to_tensor(v) for v in x)
    if isinstance(x, np.ndarray):
        if x.dtype == np.float64:
            x = x.astype(np.float32)  # Keras casts float64 inputs to floatx
        return torch.from_numpy(np.ascontiguousarray(x))
    if isinstance(x, (list, tuple)):
        if x and all(isinstance(v, (np.ndarray, torch.Tensor)) for v in x):
            shapes = {tuple(v.shape) for v in x}
            if len(x) == 1:
                return to_tensor(x[0])
            if len(shapes) > 1 or all(np.ndim(v) > 1 for v in x):
                return [to_tensor(v) for v in x]  # several model inputs
        return to_tensor(np.asarray(x))
    return torch.as_tensor(np.asarray(x))


def num_samples(x: Any) -> int:
    if isinstance(x, list):
        return int(x[0].shape[0])
    return int(x.shape[0])


def take(x: Any, index: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, list):
        return [v[index] for v in x]
    return x[index]


def to_device(x: Any, device: torch.device) -> Any:
    if isinstance(x, torch.Tensor):
        return x.to(device, non_blocking=True) if x.device != device else x
    if isinstance(x, (list, tuple)):
        return type(x)(to_device(v, device) for v in x)
    return x


def unpack(batch: Any) -> tuple[Any, Any, Any]:
    """``x`` | ``(x,)`` | ``(x, y)`` | ``(x, y, sample_weight)`` -> ``(x, y, sw)`` tensors."""
    if isinstance(batch, dict):
        raise TypeError("Batches given as dicts need a functional model with named inputs; "
                        "a Sequential model takes (x, y) or (x, y, sample_weight) tuples.")
    if isinstance(batch, (tuple, list)) and not is_array(batch):
        if len(batch) == 1:
            return to_tensor(batch[0]), None, None
        if len(batch) == 2:
            return to_tensor(batch[0]), to_tensor(batch[1]), None
        if len(batch) == 3:
            return to_tensor(batch[0]), to_tensor(batch[1]), to_tensor(batch[2])
        raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                         f"`(x, y, sample_weight)`, found a tuple of {len(batch)} elements.")
    return to_tensor(batch), None, None


class ArrayBatches:
    """Batches of in-memory tensors; reshuffled each epoch when ``shuffle``."""

    def __init__(self, x, y=None, sample_weight=None, batch_size: int = 32,
                 shuffle: bool = False, steps: int | None = None) -> None:
        self.x, self.y, self.sw = x, y, sample_weight
        self.batch_size, self.shuffle = batch_size, shuffle
        self.n = num_samples(x)
        for name, v in (("y", y), ("sample_weight", sample_weight)):
            if v is not None and num_samples(v) != self.n:
                raise ValueError(f"Data cardinality is ambiguous: x sizes: {self.n}, {name} "
                                 f"sizes: {num_samples(v)}. Make sure all arrays contain the "
                                 "same number of samples.")
        self.steps = steps if steps is not None else math.ceil(self.n / batch_size)
        # fit with steps_per_epoch: tf.keras 2.12 reads one stream of `passes` (its epochs)
        # shuffled passes over the arrays, epoch after epoch; when it runs dry, training
        # stops with a warning (`ran_out`). None: every epoch cycles the data (evaluate).
        self.passes: int | None = None
        self.ran_out = False
        self._stream: Iterator[tuple] | None = None

    def __len__(self) -> int:
        return self.steps

    def _pass(self) -> Iterator[tuple]:
        x, y, sw = self.x, self.y, self.sw
        if self.shuffle:
            perm = torch.randperm(self.n)
            x, y, sw = take(x, perm), take(y, perm), take(sw, perm)
        for start in range(0, self.n, self.batch_size):
            end = start + self.batch_size
            yield take(x, slice(start, end)), take(y, slice(start, end)), \
                take(sw, slice(start, end))

    def _streamed(self) -> Iterator[tuple]:
        if self._stream is None:
            self._stream = (batch for _ in range(self.passes) for batch in self._pass())
        for _ in range(self.steps):
            batch = next(self._stream, None)
            if batch is None:
                self.ran_out = True
                return
            yield batch

    def epoch(self) -> Iterator[tuple]:
        if self.n == 0:
            return
        if self.passes is not None and self.steps > math.ceil(self.n / self.batch_size) \
                or self._stream is not None:
            yield from self._streamed()
            return
        x, y, sw = self.x, self.y, self.sw
        if self.shuffle:
            perm = torch.randperm(self.n)
            x, y, sw = take(x, perm), take(y, perm), take(sw, perm)
        produced = 0
        while produced < self.steps:
            for start in range(0, self.n, self.batch_size):
                if produced >= self.steps:
                    return
                end = start + self.batch_size
                yield take(x, slice(start, end)), take(y, slice(start, end)), \
                    take(sw, slice(start, end))
                produced += 1
            if self.steps <= math.ceil(self.n / self.batch_size):
                return


class IterableBatches:
    """Batches from a Sequence, DataLoader, re-iterable dataset or one-shot iterator."""

    def __init__(self, data: Any, steps: int | None = None, shuffle: bool = False) -> None:
        self.data, self.shuffle = data, shuffle
        self._iterator = None
        from ..utils import Sequence
        self.is_sequence = isinstance(data, Sequence)
        # An iterator (a generator) is used up once; anything else gives a fresh pass each epoch.
        self.reiterable = self.is_sequence or not hasattr(data, "__next__")
        length = None
        if steps is None:
            try:
                length = len(data)
            except TypeError:
                length = None
        self.steps = steps if steps is not None else length

    def __len__(self) -> int:
        return self.steps

    def _sequence_batches(self) -> Iterator[Any]:
        order = np.random.permutation(len(self.data)) if self.shuffle else range(len(self.data))
        for i in order:
            yield self.data[int(i)]

    def epoch(self) -> Iterator[tuple]:
        if self.is_sequence:
            source = self._sequence_batches()
        elif self.reiterable:
            source = iter(self.data)
        else:
            if self._iterator is None:
                self._iterator = iter(self.data)
            source = self._iterator
        count = 0
        while self.steps is None or count < self.steps:
            try:
                batch = next(source)
            except StopIteration:
                if self.reiterable and self.steps is not None and count < self.steps \
                        and not self.is_sequence:
                    source = iter(self.data)  # steps_per_epoch longer than the data: go round
                    continue
                if self.is_sequence and self.steps is not None and count < self.steps:
                    source = self._sequence_batches()
                    continue
                return
            yield unpack(batch)
            count += 1

    def on_epoch_end(self) -> None:
        if self.is_sequence:
            self.data.on_epoch_end()


def traced_batch_shape(batches: Any) -> tuple[int | None, bool]:
    """``(batch size, ranks only)`` of tf.keras 2.12's data set for these batches, which its
    traced function sees (``rnnkit.layers.call_context.traced_calls``): arrays in full
    batches only have a static batch size; a generator or Sequence has its rank only."""
    if isinstance(batches, ArrayBatches):
        full = batches.n > 0 and batches.n % batches.batch_size == 0
        return (batches.batch_size if full else None), False
    if isinstance(batches, IterableBatches) and (batches.is_sequence
                                                 or hasattr(batches.data, "__next__")):
        return None, True
    return None, False


def adapt(x: Any, y: Any = None, sample_weight: Any = None, batch_size: int | None = None,
          shuffle: bool = False, steps: int | None = None, what: str = "fit"):
    """An object with ``epoch()`` (an iterator of ``(x, y, sw)``) and ``steps``."""
    if isinstance(x, torch.utils.data.Dataset) and not isinstance(
            x, torch.utils.data.IterableDataset) and hasattr(x, "__len__"):
        _no_targets(y, sample_weight, what, "a torch Dataset")
        loader = torch.utils.data.DataLoader(x, batch_size=batch_size or 32, shuffle=shuffle)
        return IterableBatches(loader, steps=steps)
    if is_array_like(x):
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
                batch_size, numbers.Integral) or batch_size < 1):
            raise ValueError(f"{what}: batch_size must be a positive int, got {batch_size!r}.")
        batch_size = None if batch_size is None else int(batch_size)  # a NumPy int too
        return ArrayBatches(to_tensor(x), to_tensor(y), to_tensor(sample_weight),
                            batch_size=batch_size or 32, shuffle=shuffle, steps=steps)
    if hasattr(x, "__iter__") or hasattr(x, "__next__"):
        _no_targets(y, sample_weight, what, "a dataset, generator or Sequence")
        return IterableBatches(x, steps=steps, shuffle=shuffle)
    raise ValueError(f"{what}: unrecognised data type: x={type(x).__name__}. Expected NumPy "
                     "arrays, torch tensors, lists, a torch Dataset/DataLoader, a generator or "
                     "a rnnkit.utils.Sequence.")


def _no_targets(y, sample_weight, what, kind):
    if y is not None:
        raise ValueError(f"`y` argument is not supported when using {kind} as input to "
                         f"{what}; the batches must carry the targets: (x, y).")
    if sample_weight is not None:
        raise ValueError(f"`sample_weight` argument is not supported when using {kind} as "
                         f"input to {what}; yield (x, y, sample_weight) batches instead.")
