"""``timeseries_dataset_from_array``: sliding windows over a series, torch-native.

Window ``i`` starts at ``start_index + p_i`` (``p_i = 0, stride, 2*stride, ...``) and holds
``sequence_length`` rows taken every ``sampling_rate`` steps; its target is
``targets[start_index + p_i]`` — the target *aligned with the window's first row*, as in
Keras, so to predict the value after a window pass ``targets=series[sequence_length:]``.
The result is an iterable of ``(x, y)`` batches (``x`` alone without targets) that ``fit``,
``evaluate`` and ``predict`` take directly, re-iterable every epoch.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np
import torch


def _as_tensor(a: Any) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a
    return torch.from_numpy(np.ascontiguousarray(np.asarray(a)))


class TimeseriesDataset(torch.utils.data.IterableDataset):
    """Batches of windows (see the module docstring); ``len()`` is the number of batches."""

    def __init__(self, data, targets, sequence_length, sequence_stride, sampling_rate,
                 batch_size, shuffle, seed, start_index, end_index) -> None:
        super().__init__()
        self.data = _as_tensor(data)[start_index:end_index]
        self.targets = None if targets is None else _as_tensor(targets)[start_index:end_index]
        # tf.keras 2.12's count: the last window must leave `sampling_rate` rows (its rule
        # gives 136 windows for 150 rows, length 5, rate 3, where 138 would fit).
        num_seqs = end_index - start_index - sequence_length * sampling_rate + 1
        if targets is not None:
            num_seqs = min(num_seqs, len(targets))
        self.start_positions = torch.arange(0, max(num_seqs, 0), sequence_stride)
        self.offsets = torch.arange(0, sequence_length * sampling_rate, sampling_rate)
        self.batch_size, self.shuffle = batch_size, shuffle
        self._generator = torch.Generator()
        self._generator.manual_seed(int(seed) if seed is not None
                                    else int(torch.randint(0, 2 ** 31 - 1, ()).item()))

    @property
    def num_windows(self) -> int:
        return len(self.start_positions)

    def __len__(self) -> int:
        if self.batch_size is None:
            return self.num_windows
        return math.ceil(self.num_windows / self.batch_size)

    def _item(self, positions: torch.Tensor) -> Any:
        x = self.data[positions.unsqueeze(-1) + self.offsets]
        if self.targets is None:
            return x
        return x, self.targets[positions]

    def __iter__(self) -> Iterator[Any]:
        positions = self.start_positions
        if self.shuffle:  # a new order each pass, reproducible from `seed`
            positions = positions[torch.randperm(len(positions), generator=self._generator)]
        if self.batch_size is None:
            for p in positions:
                yield self._item(p)
            return
        for start in range(0, len(positions), self.batch_size):
            yield self._item(positions[start:start + self.batch_size])

    def take(self, count: int) -> list:
        """The first ``count`` batches (``dataset.take(1)`` in tf.data)."""
        out = []
        for batch in self:
            if len(out) >= count:
                break
            out.append(batch)
        return out

    def __repr__(self) -> str:
        return (f"TimeseriesDataset(windows={self.num_windows}, window_shape="
                f"{(len(self.offsets),) + tuple(self.data.shape[1:])}, "
                f"batch_size={self.batch_size})")


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int,
                                  sequence_stride: int = 1, sampling_rate: int = 1,
                                  batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> TimeseriesDataset:
    """Windows over ``data`` with Keras's arguments and defaults (see the module docstring)."""
    n = len(data)
    if start_index is None:
        start_index = 0
    if end_index is None:
        end_index = n
    if start_index < 0 or start_index >= n:
        raise ValueError("`start_index` must be 0 <= start_index < len(data). Received: "
                         f"start_index={start_index}")
    if end_index <= start_index or end_index > n:
        raise ValueError("`end_index` must be start_index < end_index <= len(data). "
                         f"Received: start_index={start_index}, end_index={end_index}")
    for name, value in (("sequence_length", sequence_length),
                        ("sequence_stride", sequence_stride),
                        ("sampling_rate", sampling_rate)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value}")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer))
                                   or batch_size <= 0):
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: "
                         f"batch_size={batch_size}")
    # Targets may be longer or shorter than the data: tf.keras 2.12 caps the number of
    # windows by both (keras.io's weather example passes one target more than rows).
    return TimeseriesDataset(data, targets, int(sequence_length), int(sequence_stride),
                             int(sampling_rate), batch_size, shuffle, seed, start_index,
                             end_index)
