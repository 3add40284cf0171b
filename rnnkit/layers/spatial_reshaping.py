"""Cropping, zero padding and up-sampling of steps and images (tf.keras 2.12):
``Cropping1D``, ``ZeroPadding1D``, ``UpSampling1D`` on (batch, steps, features);
``Cropping2D``, ``ZeroPadding2D``, ``UpSampling2D`` on (batch, rows, cols, channels);
``Cropping3D``, ``ZeroPadding3D``, ``UpSampling3D`` on (batch, dim1, dim2, dim3, channels)
(or channels first). None passes a mask on.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .base import Layer, shape_tuple
from .conv_utils import normalize_tuple
from .reshaping import checked_data_format

__all__ = ["Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding2D",
           "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D"]


def _pairs(layer: Layer, value: Any, rank: int, argument: str) -> tuple[tuple[int, int], ...]:
    """Keras's ``1`` / ``(1, 2)`` / ``((1, 2), (3, 4))`` forms as one (before, after) per axis."""
    if rank == 1:
        return (normalize_tuple(layer, value, 2, argument, allow_zero=True),)
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": `{argument}` should have '
                         f"{rank} elements. Received: {value!r}.")
    pairs = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            item = (item, item)
        pairs.append(normalize_tuple(layer, item, 2, argument, allow_zero=True))
    return tuple(pairs)


class _SpatialLayer(Layer):
    rank = 1

    def _spatial_axes(self) -> tuple[int, ...]:
        first = 2 if getattr(self, "data_format", "channels_last") == "channels_first" else 1
        return tuple(range(first, first + self.rank))

    def compute_mask(self, inputs, mask=None):
        return None

    def _with_sizes(self, input_shape: Sequence, sizes: Any) -> tuple:
        shape = list(shape_tuple(input_shape))
        for axis, fn in zip(self._spatial_axes(), sizes):
            shape[axis] = None if shape[axis] is None else fn(shape[axis])
        return tuple(shape)


class _Cropping(_SpatialLayer):
    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = checked_data_format(self, data_format)
        self.cropping = _pairs(self, cropping, self.rank, "cropping")
        self._input_ndim = self.rank + 2

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        shape = self._with_sizes(input_shape, [lambda n, c=c: n - c[0] - c[1]
                                               for c in self.cropping])
        if any(d is not None and d <= 0 for d in shape[1:]):
            raise ValueError(f'{type(self).__name__} layer "{self.name}": `cropping` parameter '
                             f"{self.cropping} is too large for input shape "
                             f"{tuple(input_shape)}.")
        return shape

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        self.compute_output_shape(tuple(inputs.shape))
        index = [slice(None)] * inputs.dim()
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]


class Cropping1D(_Cropping):
    """Removes ``cropping = (start, end)`` steps: (B, T, D) -> (B, T - start - end, D)."""

    _config_keys = ("cropping",)

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["cropping"] = self.cropping[0]
        return config


class Cropping2D(_Cropping):
    """Removes rows and columns: ``((top, bottom), (left, right))``."""

    rank = 2
    _config_keys = ("cropping", "data_format")

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Removes ``((left_dim1, right_dim1), (left_dim2, right_dim2), (left_dim3, right_dim3))``."""

    rank = 3
    _config_keys = ("cropping", "data_format")

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class _ZeroPadding(_SpatialLayer):
    def __init__(self, padding: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = checked_data_format(self, data_format)
        self.padding = _pairs(self, padding, self.rank, "padding")
        self._input_ndim = self.rank + 2

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return self._with_sizes(input_shape, [lambda n, p=p: n + p[0] + p[1]
                                              for p in self.padding])

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        pads = [0, 0] * inputs.dim()
        for axis, (before, after) in zip(self._spatial_axes(), self.padding):
            k = 2 * (inputs.dim() - 1 - axis)  # F.pad lists the last axis first
            pads[k:k + 2] = [before, after]
        return F.pad(inputs, pads)


class ZeroPadding1D(_ZeroPadding):
    """Adds ``padding = (start, end)`` zero steps (an int pads both ends alike)."""

    _config_keys = ("padding",)

    def __init__(self, padding: Any = 1, **kwargs: Any) -> None:
        super().__init__(padding, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["padding"] = self.padding[0]
        return config


class ZeroPadding2D(_ZeroPadding):
    """Adds zero rows and columns: ``((top, bottom), (left, right))``."""

    rank = 2
    _config_keys = ("padding", "data_format")

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Adds zeros on the three spatial axes: ``((left, right),) * 3`` (an int pads all alike)."""

    rank = 3
    _config_keys = ("padding", "data_format")

    def __init__(self, padding: Any = (1, 1, 1), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class UpSampling1D(_SpatialLayer):
    """Repeats each step ``size`` times: (B, T, D) -> (B, T · size, D)."""

    _config_keys = ("size",)

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = normalize_tuple(self, size, 1, "size")[0]
        self._input_ndim = 3

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return self._with_sizes(input_shape, [lambda n: n * self.size])

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.repeat_interleave(self.size, dim=1)


class UpSampling2D(_SpatialLayer):
    """Repeats rows and columns (``interpolation="nearest"``) or interpolates them
    (``"bilinear"``, as TensorFlow's ``resize`` with half-pixel centres)."""

    rank = 2
    _config_keys = ("size", "data_format", "interpolation")

    def __init__(self, size: Any = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = normalize_tuple(self, size, 2, "size")
        self.data_format = checked_data_format(self, data_format)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f'UpSampling2D layer "{self.name}": `interpolation` argument should '
                             'be one of: "nearest" or "bilinear". Received: '
                             f'"{interpolation}".')
        self.interpolation = interpolation
        self._input_ndim = 4

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return self._with_sizes(input_shape, [lambda n, s=s: n * s for s in self.size])

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.interpolation == "nearest":
            rows, cols = self._spatial_axes()
            return inputs.repeat_interleave(self.size[0], dim=rows).repeat_interleave(
                self.size[1], dim=cols)
        x = inputs.movedim(inputs.dim() - 1, 1) if self.data_format == "channels_last" else inputs
        y = F.interpolate(x, scale_factor=self.size, mode="bilinear", align_corners=False)
        return y.movedim(1, y.dim() - 1) if self.data_format == "channels_last" else y


class UpSampling3D(_SpatialLayer):
    """Repeats each of the three spatial axes ``size`` times (nearest neighbour only, as
    tf.keras 2.12)."""

    rank = 3
    _config_keys = ("size", "data_format")

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = normalize_tuple(self, size, 3, "size")
        self.data_format = checked_data_format(self, data_format)
        self._input_ndim = 5

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return self._with_sizes(input_shape, [lambda n, s=s: n * s for s in self.size])

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        for axis, size in zip(self._spatial_axes(), self.size):
            inputs = inputs.repeat_interleave(size, dim=axis)
        return inputs
