"""Numeric preprocessing layers (tf.keras 2.12): ``Normalization`` (with ``adapt``) and
``Rescaling``, the two that sequence models put in front of their recurrent layers.

* ``Normalization(axis=-1, mean=None, variance=None, invert=False)``:
  ``(x - mean) / max(sqrt(variance), 1e-7)`` (``invert=True``: the inverse), one mean and
  variance per index of the kept ``axis`` (``None``: one for everything). Without ``mean``
  and ``variance`` they are non-trainable weights ``mean``, ``variance`` and ``count``
  (int64), set by ``adapt(data)`` from batches of 32 the way tf.keras 2 combines them, and
  saved in ``.h5`` files; with them given they are constants (no weights).
* ``Rescaling(scale, offset=0.0)``: ``x · scale + offset``.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import torch

from .base import Layer, shape_tuple

__all__ = ["Normalization", "Rescaling"]

_EPSILON = 1e-7  # Keras's backend.epsilon()


class Normalization(Layer):
    """Standardises features with a mean and variance given or learned by ``adapt``."""

    supports_masking = True
    _config_keys = ("axis",)

    def __init__(self, axis: Any = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = (axis,)
        elif isinstance(axis, (list, tuple)) and all(
                isinstance(a, int) and not isinstance(a, bool) for a in axis):
            axis = tuple(axis)
        else:
            raise TypeError(f'Normalization layer "{self.name}": `axis` must be an integer, '
                            f"tuple of integers, or None. Received: axis={axis!r}")
        if 0 in axis:
            raise ValueError(f'Normalization layer "{self.name}": the batch axis cannot be '
                             f"normalized over. Received: axis={axis}")
        if (mean is None) != (variance is None):
            raise ValueError(f'Normalization layer "{self.name}": when setting values directly, '
                             "both `mean` and `variance` must be set. Received: "
                             f"mean={mean!r} and variance={variance!r}")
        self.axis = axis
        # the constructor's values (config); after build, `self.mean` / `self.variance` are
        # the weights, as in Keras
        self._init_mean = _plain(mean)
        self._init_variance = _plain(variance)
        self.invert = bool(invert)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(mean=self._init_mean, variance=self._init_variance)
        return config

    # ------------------------------------------------------------------ shapes
    def _keep_axes(self, ndim: int) -> tuple[int, ...]:
        keep = tuple(sorted(a % ndim for a in self.axis))
        if any(not 0 < a < ndim for a in keep) or any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(f'Normalization layer "{self.name}": all `axis` values must be in '
                             f"the range [-ndim, ndim). Received inputs with ndim={ndim}, while "
                             f"axis={self.axis}")
        return keep

    def build(self, input_shape: Sequence) -> None:
        shape = shape_tuple(input_shape)
        keep = self._keep_axes(len(shape))
        if any(shape[a] is None for a in keep):
            raise ValueError(f'Normalization layer "{self.name}": all `axis` values to be kept '
                             f"must have known shape. Received axis={self.axis}, inputs.shape="
                             f"{shape}, with unknown axis at index "
                             f"{next(a for a in keep if shape[a] is None)}")
        self._broadcast = tuple(shape[a] if a in keep else 1 for a in range(len(shape)))
        stats_shape = tuple(shape[a] for a in keep)
        if self._init_mean is None:
            self.add_weight("mean", stats_shape, "zeros", trainable=False)
            self.add_weight("variance", stats_shape, "ones", trainable=False)
            self.add_weight("count", (), lambda s: torch.zeros(s, dtype=torch.int64),
                            trainable=False)
        else:  # constants, broadcast to the kept axes (no weights, as tf.keras 2)
            ones = torch.ones(stats_shape)
            self.register_buffer("_mean_constant", torch.as_tensor(
                np.asarray(self._init_mean, "float32")) * ones, persistent=False)
            self.register_buffer("_variance_constant", torch.as_tensor(
                np.asarray(self._init_variance, "float32")) * ones, persistent=False)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return shape_tuple(input_shape)

    # ------------------------------------------------------------------ adapt
    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Set ``mean`` and ``variance`` from ``data`` (an array, or an iterable of batches),
        combined batch by batch (32 samples each, or ``batch_size``) as tf.keras 2 does."""
        if self._init_mean is not None:
            raise RuntimeError(f'Normalization layer "{self.name}": `adapt` cannot be used when '
                               "`mean` and `variance` were passed to the constructor.")
        batches = list(_batches(data, batch_size or 32, steps))
        if not batches:
            raise ValueError(f'Normalization layer "{self.name}": `adapt` received no data.')
        if not self.built:
            if self._batch_input_shape is None:  # tf.keras 2 records an all-None shape
                self._batch_input_shape = (None,) * batches[0].ndim
            self.build((None,) + tuple(batches[0].shape[1:]))
        keep = self._keep_axes(batches[0].ndim)
        reduce = tuple(a for a in range(batches[0].ndim) if a not in keep)
        mean = self.mean_weight().detach().clone()
        variance = self.variance_weight().detach().clone()
        count = int(self.count)
        for batch in batches:
            x = torch.as_tensor(batch, dtype=torch.float32)
            batch_mean = x.mean(dim=reduce) if reduce else x
            batch_variance = x.var(dim=reduce, unbiased=False) if reduce else torch.zeros_like(x)
            batch_count = int(np.prod([x.shape[a] for a in reduce])) if reduce else 1
            total = batch_count + count
            batch_weight = batch_count / total
            existing_weight = 1.0 - batch_weight
            total_mean = mean * existing_weight + batch_mean * batch_weight
            variance = ((variance + (mean - total_mean) ** 2) * existing_weight
                        + (batch_variance + (batch_mean - total_mean) ** 2) * batch_weight)
            mean, count = total_mean, total
        with torch.no_grad():
            self.mean_weight().copy_(mean)
            self.variance_weight().copy_(variance)
            self.count.fill_(count)

    def mean_weight(self) -> torch.Tensor:
        return self._parameters["mean"]

    def variance_weight(self) -> torch.Tensor:
        return self._parameters["variance"]

    # ------------------------------------------------------------------ call
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs.to(self.compute_dtype) if inputs.dtype != self.compute_dtype else inputs
        if self._init_mean is None:
            mean, variance = self.mean_weight(), self.variance_weight()
        else:
            mean, variance = self._mean_constant, self._variance_constant
        mean = mean.reshape(self._broadcast).to(x.dtype)
        std = torch.clamp(torch.sqrt(variance.reshape(self._broadcast).to(x.dtype)),
                          min=_EPSILON)
        return mean + x * std if self.invert else (x - mean) / std


def _plain(value: Any) -> Any:
    """A mean or variance as the config writes it: a number or (nested) lists."""
    if value is None:
        return None
    array = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
    return array.item() if array.ndim == 0 else array.tolist()


def _batches(data: Any, batch_size: int, steps: int | None) -> Iterable[np.ndarray]:
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    if isinstance(data, (np.ndarray, list, tuple)):
        array = np.asarray(data, dtype="float32")
        if array.ndim == 0:
            array = array.reshape(1)
        starts = range(0, len(array), batch_size)
        pieces = (array[s:s + batch_size] for s in starts)
    else:  # an iterable of batches (a generator, a DataLoader, ...)
        pieces = (np.asarray(b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else b,
                             dtype="float32") for b in data)
    for k, piece in enumerate(pieces):
        if steps is not None and k >= steps:
            break
        yield piece


class Rescaling(Layer):
    """``x · scale + offset`` (e.g. ``Rescaling(1 / 255)`` for pixel values)."""

    supports_masking = True
    _config_keys = ("scale", "offset")

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return shape_tuple(input_shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs.to(self.compute_dtype) if inputs.dtype != self.compute_dtype else inputs
        scale = torch.as_tensor(self.scale, dtype=x.dtype, device=x.device)
        offset = torch.as_tensor(self.offset, dtype=x.dtype, device=x.device)
        return x * scale + offset
