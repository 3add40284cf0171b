"""Small helpers that Keras keeps in ``keras.utils``."""
from __future__ import annotations

import random

import numpy as np
import torch


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and torch at once, as ``keras.utils.set_random_seed`` does."""
    if not isinstance(seed, int):
        raise ValueError(f"set_random_seed: expected an int seed, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
