"""timeseries_dataset_from_array and TimeseriesGenerator against the Keras docstring examples."""
import numpy as np
import pytest
import torch

from rnnkit.preprocessing.sequence import TimeseriesGenerator
from rnnkit.utils import timeseries_dataset_from_array


def test_windows_and_targets_keras_example():
    data = np.arange(100)
    ds = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10,
                                       batch_size=16)
    batches = list(ds)
    x, y = batches[0]
    np.testing.assert_array_equal(x[0].numpy(), np.arange(10))
    assert int(y[0]) == 10 and len(ds) == len(batches) == 6
    assert sum(len(b[1]) for b in batches) == 81
    # every window's target is the value right after it
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, -1].numpy() + 1, yb.numpy())


def test_sampling_rate_stride_and_index_range():
    data = np.arange(50)
    ds = timeseries_dataset_from_array(data, None, sequence_length=3, sampling_rate=2,
                                       sequence_stride=5, start_index=4, end_index=30,
                                       batch_size=None)
    windows = [w.numpy().tolist() for w in ds]
    assert windows[0] == [4, 6, 8] and windows[1] == [9, 11, 13]
    assert max(max(w) for w in windows) < 30


def test_window_count_with_sampling_rate_is_tf_keras_2_12s():
    # tf.keras 2.12 (keras/utils/timeseries_dataset.py): 150 rows, length 5, rate 3 -> 136
    ds = timeseries_dataset_from_array(np.arange(150), None, sequence_length=5,
                                       sampling_rate=3, batch_size=1000)
    assert sum(len(b) for b in ds) == 136


def test_shuffle_is_a_reproducible_permutation_each_pass():
    data = np.arange(30)
    ds = timeseries_dataset_from_array(data, data, 4, batch_size=5, shuffle=True, seed=7)
    first = torch.cat([x[:, 0] for x, _ in ds])
    second = torch.cat([x[:, 0] for x, _ in ds])
    assert sorted(first.tolist()) == list(range(27)) and first.tolist() != second.tolist()
    again = timeseries_dataset_from_array(data, data, 4, batch_size=5, shuffle=True, seed=7)
    assert torch.cat([x[:, 0] for x, _ in again]).tolist() == first.tolist()


def test_multivariate_and_take():
    data = np.random.rand(20, 3).astype("float32")
    ds = timeseries_dataset_from_array(data, None, 5, batch_size=4)
    (x,), = [ds.take(1)]
    assert x.shape == (4, 5, 3) and x.dtype == torch.float32


def test_argument_errors():
    with pytest.raises(ValueError, match="`sequence_length` must be a positive integer"):
        timeseries_dataset_from_array(np.arange(5), None, 0)
    with pytest.raises(ValueError, match="`start_index` must be 0 <= start_index < len"):
        timeseries_dataset_from_array(np.arange(5), None, 2, start_index=7)
    with pytest.raises(ValueError, match="`end_index` must be start_index < end_index"):
        timeseries_dataset_from_array(np.arange(5), None, 2, end_index=9)


def test_timeseries_generator_keras_example():
    data = np.array([[i] for i in range(50)])
    gen = TimeseriesGenerator(data, data, length=10, sampling_rate=2, batch_size=2)
    assert len(gen) == 20
    x, y = gen[0]
    np.testing.assert_array_equal(x, [[[0], [2], [4], [6], [8]], [[1], [3], [5], [7], [9]]])
    np.testing.assert_array_equal(y, [[10], [11]])
    with pytest.raises(ValueError, match="is disallowed"):
        TimeseriesGenerator(data[:5], data[:5], length=10)
