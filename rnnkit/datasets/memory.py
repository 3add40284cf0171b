"""Generators for the classic long-memory tasks.

- **Adding problem** (Hochreiter & Schmidhuber 1997; the form of Le, Jaitly & Hinton 2015):
  each step carries a random value in [0, 1) and a marker; exactly two steps are marked,
  one in each half of the sequence, and the target is the sum of the two marked values.
  Predicting the mean (1.0) gives an MSE of about 0.167: a model below that remembers.
- **Copy task** (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): ``length`` random
  symbols, a pause of ``delay`` blanks ending in a delimiter, then the model must output
  the symbols again.
- **Delayed recall**: at every step output the symbol seen ``delay`` steps earlier.
"""
from __future__ import annotations

import numpy as np


def _rng(seed):
    return np.random.default_rng(seed)


def adding_problem(n_samples: int, length: int, seed: int | None = None):
    """``x`` (n, length, 2) float32 [value, marker], ``y`` (n, 1) sum of the marked values."""
    if length < 2:
        raise ValueError(f"adding_problem: length must be >= 2, got {length}.")
    rng = _rng(seed)
    values = rng.random((n_samples, length), dtype=np.float32)
    half = length // 2
    first = rng.integers(0, half, n_samples)
    second = rng.integers(half, length, n_samples)
    markers = np.zeros((n_samples, length), np.float32)
    rows = np.arange(n_samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None].astype(np.float32)
    return x, y


def copy_task(n_samples: int, length: int = 10, delay: int = 20, n_symbols: int = 8,
              seed: int | None = None):
    """Integer sequences of ``2*length + delay`` steps: ``x`` = symbols (1..n_symbols),
    ``delay - 1`` blanks (0), the delimiter ``n_symbols + 1``, ``length`` blanks; ``y`` =
    blanks for ``length + delay`` steps, then the symbols. Use an Embedding (or one-hot)
    input and a per-step softmax over ``n_symbols + 2`` classes."""
    if length < 1 or delay < 1:
        raise ValueError(f"copy_task: length and delay must be >= 1, got {length}, {delay}.")
    rng = _rng(seed)
    symbols = rng.integers(1, n_symbols + 1, (n_samples, length))
    total = 2 * length + delay
    x = np.zeros((n_samples, total), np.int64)
    y = np.zeros((n_samples, total), np.int64)
    x[:, :length] = symbols
    x[:, length + delay - 1] = n_symbols + 1
    y[:, length + delay:] = symbols
    return x, y


def delayed_recall(n_samples: int, length: int = 30, delay: int = 5, n_symbols: int = 8,
                   seed: int | None = None):
    """``x`` random symbols (1..n_symbols) of ``length`` steps; ``y[t] = x[t - delay]``
    (0 for the first ``delay`` steps)."""
    if not 0 < delay < length:
        raise ValueError(f"delayed_recall: need 0 < delay < length, got delay={delay}, "
                         f"length={length}.")
    rng = _rng(seed)
    x = rng.integers(1, n_symbols + 1, (n_samples, length))
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :-delay]
    return x, y
