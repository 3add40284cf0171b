"""``keras.preprocessing.sequence``: ``pad_sequences``, the legacy ``TimeseriesGenerator`` and
the word2vec pairs (``skipgrams``, ``make_sampling_table``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..utils.sequences import Sequence, pad_sequences
from ..utils.timeseries import timeseries_dataset_from_array
from .skipgrams import make_sampling_table, skipgrams

__all__ = ["pad_sequences", "TimeseriesGenerator", "timeseries_dataset_from_array",
           "make_sampling_table", "skipgrams"]


class TimeseriesGenerator(Sequence):
    """Keras 2's window generator: batch ``i`` holds windows ``data[row - length:row:
    sampling_rate]`` with target ``targets[row]`` — the value right *after* each window
    (unlike ``timeseries_dataset_from_array``, whose target is aligned with the window's
    first row)."""

    def __init__(self, data: Any, targets: Any, length: int, sampling_rate: int = 1,
                 stride: int = 1, start_index: int = 0, end_index: int | None = None,
                 shuffle: bool = False, reverse: bool = False, batch_size: int = 128) -> None:
        if len(data) != len(targets):
            raise ValueError("Data and targets have to be of same length. Data length is "
                             f"{len(data)} while target length is {len(targets)}")
        self.data, self.targets = np.asarray(data), np.asarray(targets)
        self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse, self.batch_size = shuffle, reverse, batch_size
        if self.start_index > self.end_index:
            raise ValueError(f"`start_index+length={self.start_index} > end_index="
                             f"{self.end_index}` is disallowed, as no part of the sequence "
                             "would be left to be used as current step.")

    def __len__(self) -> int:
        step = self.batch_size * self.stride
        return (self.end_index - self.start_index + step) // step

    def __getitem__(self, index: int):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            i = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(i, min(i + self.batch_size * self.stride, self.end_index + 1),
                             self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate]
                            for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        if self.reverse:
            return samples[:, ::-1, ...], targets
        return samples, targets
