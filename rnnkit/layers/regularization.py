"""Regularisation layers: ``SpatialDropout1D/2D/3D``, ``GaussianNoise``, ``GaussianDropout``,
``AlphaDropout`` and ``ActivityRegularization`` (tf.keras 2.12 arguments and configs).

The noise layers act in training only (``fit``, ``training=True``, ``layer.train()``) and
are the identity otherwise, as in Keras:

* ``SpatialDropout1D``: drops whole channels (the same features at every time step):
  ``Dropout`` with ``noise_shape = (batch, 1, channels)``; 2-D/3-D drop whole feature maps.
* ``GaussianNoise(stddev)``: ``x + N(0, stddev²)``.
* ``GaussianDropout(rate)``: ``x · N(1, rate / (1 - rate))``.
* ``AlphaDropout(rate)``: dropout that keeps a SELU network's mean and variance: dropped
  values become ``α' = -1.7581``, then ``a · x + b`` restores the moments.
* ``ActivityRegularization(l1, l2)``: the identity that adds ``l1 · Σ|x| + l2 · Σx²``
  (divided by the batch size, as tf.keras 2 does) to the model's losses.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import torch

from .. import regularizers
from .base import Layer
from .core import Dropout
from .reshaping import checked_data_format

__all__ = ["SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
           "GaussianDropout", "AlphaDropout", "ActivityRegularization"]


def _rate(layer: Layer, rate: Any, argument: str = "rate") -> float:
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": invalid value {rate!r} '
                         f"received for `{argument}`, expected a value between 0 and 1.")
    return float(rate)


class _SpatialDropout(Dropout):
    rank = 1
    _config_keys = ("rate", "noise_shape", "seed")

    def __init__(self, rate: float, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(rate, **kwargs)
        self.data_format = checked_data_format(self, data_format)
        self._input_ndim = self.rank + 2

    def _noise_shape(self, inputs: torch.Tensor) -> tuple[int, ...]:
        batch, ones = inputs.shape[0], (1,) * self.rank
        if self.data_format == "channels_first":
            return (batch, inputs.shape[1]) + ones
        return (batch,) + ones + (inputs.shape[-1],)


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of a (batch, steps, channels) input (see the module docstring)."""

    def __init__(self, rate: float, **kwargs: Any) -> None:
        super().__init__(rate, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drops whole 2-D feature maps."""
    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops whole 3-D feature maps."""
    rank = 3


class _Noise(Layer):
    supports_masking = True

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self._generator_by_device: dict[str, torch.Generator] = {}

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        key = str(device)
        if key not in self._generator_by_device:
            self._generator_by_device[key] = torch.Generator(device=device).manual_seed(
                int(self.seed))
        return self._generator_by_device[key]

    def _normal(self, like: torch.Tensor) -> torch.Tensor:
        noise = torch.empty_like(like)
        return noise.normal_(generator=self._generator(like.device))


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` in training."""

    _config_keys = ("stddev", "seed")

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        self.stddev = float(stddev)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training:
            return inputs
        return inputs + self.stddev * self._normal(inputs)


class GaussianDropout(_Noise):
    """Multiplies by Gaussian noise of mean 1 and variance ``rate / (1 - rate)`` in training."""

    _config_keys = ("rate", "seed")

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        self.rate = _rate(self, rate)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or not 0 < self.rate < 1:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + stddev * self._normal(inputs))


class AlphaDropout(_Noise):
    """SELU-preserving dropout (see the module docstring); ``noise_shape`` as ``Dropout``."""

    _config_keys = ("rate", "seed")  # tf.keras 2.12 leaves noise_shape out
    _ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946

    def __init__(self, rate: float, noise_shape: Sequence | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        self.rate = _rate(self, rate)
        self.noise_shape = None if noise_shape is None else list(noise_shape)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not training or not 0 < self.rate < 1:
            return inputs
        shape = tuple(inputs.shape) if self.noise_shape is None else tuple(
            int(size) if d is None else int(d) for d, size in zip(self.noise_shape, inputs.shape))
        uniform = torch.empty(shape, dtype=inputs.dtype, device=inputs.device)
        uniform.uniform_(generator=self._generator(inputs.device))
        kept = (uniform >= self.rate).to(inputs.dtype)
        keep = 1.0 - self.rate
        a = (keep * (1 + self.rate * self._ALPHA_P ** 2)) ** -0.5
        b = -a * self._ALPHA_P * self.rate
        return a * (inputs * kept + self._ALPHA_P * (1 - kept)) + b


class ActivityRegularization(Layer):
    """The identity; adds ``l1 · Σ|x| + l2 · Σx²`` (per sample) to the losses."""

    supports_masking = True
    _config_keys = ("l1", "l2")

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("activity_regularizer", None)  # tf.keras 2 sets its own from l1 and l2
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)
