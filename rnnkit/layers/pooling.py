"""Pooling layers: global (a sequence or an image to one vector) and windowed
(``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D``), with tf.keras 2.12's arguments and
Keras's aliases (``MaxPool1D``, ``GlobalAvgPool2D``, ...). torch's pooling operators do the
work; ``"same"`` padding is added explicitly, as TensorFlow pads.

``GlobalAveragePooling1D`` and ``GlobalMaxPooling1D``: a sequence to one vector.

Mask-aware: with a (batch, steps) mask (from ``Embedding(mask_zero=True)`` or ``Masking``)
the average is over the valid steps only (as tf.keras 2) and the maximum too (rnnkit's
choice; tf.keras 2.12's max ignores the mask, which gives the same numbers after an RNN,
whose masked steps repeat the last valid output). Neither passes a mask on.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .base import Layer, shape_tuple
from .conv_utils import (channels_first, checked_padding, normalize_tuple, output_length,
                         pad_spatial, restore_format)
from .reshaping import checked_data_format


class _GlobalPooling1D(Layer):
    supports_masking = True
    _input_ndim = 3
    _config_keys = ("data_format", "keepdims")

    def __init__(self, data_format: str = "channels_last", keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = checked_data_format(self, data_format)
        self.keepdims = bool(keepdims)

    @property
    def _steps_axis(self) -> int:
        return 1 if self.data_format == "channels_last" else 2

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        shape = list(shape_tuple(input_shape))
        if self.keepdims:
            shape[self._steps_axis] = 1
            return tuple(shape)
        del shape[self._steps_axis]
        return tuple(shape)

    def compute_mask(self, inputs, mask=None):
        return None

    def _mask(self, inputs: torch.Tensor, mask: Any) -> torch.Tensor | None:
        if mask is None:
            return None
        mask = torch.as_tensor(mask, device=inputs.device).bool()
        return mask.unsqueeze(-1 if self._steps_axis == 1 else 1)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the time steps (the valid ones, when a mask arrives)."""

    def call(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        axis = self._steps_axis
        m = self._mask(inputs, mask)
        if m is None:
            return inputs.mean(dim=axis, keepdim=self.keepdims)
        m = m.to(inputs.dtype)
        return (inputs * m).sum(dim=axis, keepdim=self.keepdims) / \
            m.sum(dim=axis, keepdim=self.keepdims)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Maximum over the time steps (the valid ones, when a mask arrives)."""

    def call(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        axis = self._steps_axis
        m = self._mask(inputs, mask)
        if m is not None:
            inputs = inputs.masked_fill(~m, float("-inf"))
        return inputs.amax(dim=axis, keepdim=self.keepdims)


# ---------------------------------------------------------------------- 2-D and 3-D global
class _GlobalPoolingND(Layer):
    """Mean or maximum over every spatial axis: (B, *spatial, C) -> (B, C)."""

    rank = 2
    _config_keys = ("data_format", "keepdims")

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = checked_data_format(self, data_format)
        self.keepdims = bool(keepdims)
        self._input_ndim = self.rank + 2

    @property
    def _spatial_axes(self) -> tuple[int, ...]:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        shape = list(shape_tuple(input_shape))
        if self.keepdims:
            for axis in self._spatial_axes:
                shape[axis] = 1
            return tuple(shape)
        return tuple(d for k, d in enumerate(shape) if k not in self._spatial_axes)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPoolingND):
    """Mean over rows and columns: (B, rows, cols, C) -> (B, C)."""

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.mean(dim=self._spatial_axes, keepdim=self.keepdims)


class GlobalMaxPooling2D(_GlobalPoolingND):
    """Maximum over rows and columns: (B, rows, cols, C) -> (B, C)."""

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.amax(dim=self._spatial_axes, keepdim=self.keepdims)


class GlobalAveragePooling3D(GlobalAveragePooling2D):
    """Mean over the three spatial axes: (B, d1, d2, d3, C) -> (B, C)."""
    rank = 3


class GlobalMaxPooling3D(GlobalMaxPooling2D):
    """Maximum over the three spatial axes: (B, d1, d2, d3, C) -> (B, C)."""
    rank = 3


# ---------------------------------------------------------------------- windowed pooling
class _Pooling(Layer):
    """Max or average over windows of ``pool_size`` moved by ``strides`` (default: the
    pool size). ``"same"`` pads as TensorFlow does (the extra pad at the end); padded
    positions never win a maximum and are left out of an average, as in TensorFlow."""

    rank = 1
    _config_keys = ("pool_size", "padding", "strides", "data_format")

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(self, pool_size, self.rank, "pool_size")
        self.strides = normalize_tuple(self, pool_size if strides is None else strides,
                                       self.rank, "strides")
        self.padding = checked_padding(self, padding, ("valid", "same"))
        self.data_format = checked_data_format(self, data_format)
        self._input_ndim = self.rank + 2

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        shape = shape_tuple(input_shape)
        if self.data_format == "channels_last":
            spatial, batch, channels = shape[1:-1], shape[0], shape[-1]
        else:
            spatial, batch, channels = shape[2:], shape[0], shape[1]
        out = tuple(output_length(n, k, self.padding, s) for n, k, s in
                    zip(spatial, self.pool_size, self.strides))
        if self.data_format == "channels_last":
            return (batch,) + out + (channels,)
        return (batch, channels) + out

    def compute_mask(self, inputs, mask=None):
        return None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = channels_first(inputs, self.data_format)
        ones = (1,) * self.rank
        return restore_format(self._pool(x, ones), self.data_format)


class _MaxPooling(_Pooling):
    def _pool(self, x: torch.Tensor, ones: tuple) -> torch.Tensor:
        x = pad_spatial(x, self.padding, self.pool_size, self.strides, ones, float("-inf"))
        return _MAX_POOL[self.rank](x, self.pool_size, self.strides)


class _AveragePooling(_Pooling):
    def _pool(self, x: torch.Tensor, ones: tuple) -> torch.Tensor:
        padded = pad_spatial(x, self.padding, self.pool_size, self.strides, ones)
        pooled = _AVG_POOL[self.rank](padded, self.pool_size, self.strides)
        if padded.shape == x.shape:
            return pooled
        # Divide by the number of real (unpadded) positions in each window.
        valid = pad_spatial(x.new_ones((1, 1) + tuple(x.shape[2:])), self.padding,
                            self.pool_size, self.strides, ones)
        return pooled / _AVG_POOL[self.rank](valid, self.pool_size, self.strides)


_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class MaxPooling1D(_MaxPooling):
    """Maximum over windows of time steps: (B, steps, C) -> (B, new_steps, C)."""

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str = "channels_last", **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_AveragePooling):
    """Mean over windows of time steps: (B, steps, C) -> (B, new_steps, C)."""

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str = "channels_last", **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_MaxPooling):
    """Maximum over ``pool_size`` windows of rows and columns."""
    rank = 2

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_AveragePooling):
    """Mean over ``pool_size`` windows of rows and columns."""
    rank = 2

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_MaxPooling):
    """Maximum over ``pool_size`` windows of the three spatial axes."""
    rank = 3

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_AveragePooling):
    """Mean over ``pool_size`` windows of the three spatial axes."""
    rank = 3

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


# Keras's aliases (the same classes; configs name the long form).
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalAvgPool1D = GlobalMaxPooling1D, GlobalAveragePooling1D
GlobalMaxPool2D, GlobalAvgPool2D = GlobalMaxPooling2D, GlobalAveragePooling2D
GlobalMaxPool3D, GlobalAvgPool3D = GlobalMaxPooling3D, GlobalAveragePooling3D
ALIASES = {"MaxPool1D": MaxPooling1D, "MaxPool2D": MaxPooling2D, "MaxPool3D": MaxPooling3D,
           "AvgPool1D": AveragePooling1D, "AvgPool2D": AveragePooling2D,
           "AvgPool3D": AveragePooling3D, "GlobalMaxPool1D": GlobalMaxPooling1D,
           "GlobalAvgPool1D": GlobalAveragePooling1D, "GlobalMaxPool2D": GlobalMaxPooling2D,
           "GlobalAvgPool2D": GlobalAveragePooling2D, "GlobalMaxPool3D": GlobalMaxPooling3D,
           "GlobalAvgPool3D": GlobalAveragePooling3D}
