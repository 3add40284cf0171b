"""Bundled data: known facts about each series, the text, and the memory-task generators."""
import numpy as np
import pytest

from rnnkit import datasets


def test_airline_passengers_is_the_box_jenkins_series():
    s = datasets.airline_passengers()
    assert len(s) == 144 and s.time[0] == "1949-01" and s.time[-1] == "1960-12"
    # published facts of series G: total 40363, min 104 (Nov 1949), max 622 (Jul 1960)
    assert s.values.sum() == 40363 and s.values.min() == 104 and s.values.max() == 622
    assert s.time[s.values.argmax()] == "1960-07" and s.values.dtype == np.float32


def test_sunspots_yearly():
    s = datasets.sunspots()
    assert len(s) == 309 and s.time[0] == "1700" and s.time[-1] == "2008"
    assert s.values[:4].tolist() == [5, 11, 16, 23] and s.values.min() >= 0
    # the ~11-year cycle: the dominant period of the spectrum
    spectrum = np.abs(np.fft.rfft(s.values - s.values.mean()))
    period = len(s) / (np.argmax(spectrum[1:]) + 1)
    assert 9.5 < period < 12.5


def test_text_corpus():
    text = datasets.text_corpus()
    assert 4000 < len(text) < 20000 and text.startswith("It was the best of times")
    assert "Four score and seven years ago" in text and text.isascii()


def test_unknown_series_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown bundled series 'stocks'"):
        datasets.load_series("stocks")


def test_adding_problem():
    x, y = datasets.adding_problem(200, 30, seed=1)
    assert x.shape == (200, 30, 2) and y.shape == (200, 1)
    assert (x[..., 1].sum(1) == 2).all()
    assert (x[:, :15, 1].sum(1) == 1).all()  # one marker in each half
    np.testing.assert_allclose((x[..., 0] * x[..., 1]).sum(1), y[:, 0], rtol=1e-6)
    assert abs(np.mean((y - 1.0) ** 2) - 1 / 6) < 0.04  # the mean-predictor baseline
    again, _ = datasets.adding_problem(200, 30, seed=1)
    np.testing.assert_array_equal(x, again)
    with pytest.raises(ValueError, match="length must be >= 2"):
        datasets.adding_problem(1, 1)


def test_copy_task_and_delayed_recall():
    x, y = datasets.copy_task(5, length=4, delay=6, n_symbols=3, seed=0)
    assert x.shape == y.shape == (5, 14)
    np.testing.assert_array_equal(y[:, -4:], x[:, :4])
    assert (x[:, 9] == 4).all() and (x[:, 4:9] == 0).all() and (y[:, :10] == 0).all()
    x, y = datasets.delayed_recall(3, length=10, delay=2, seed=0)
    np.testing.assert_array_equal(y[:, 2:], x[:, :-2])
    with pytest.raises(ValueError, match="need 0 < delay < length"):
        datasets.delayed_recall(1, length=3, delay=3)
