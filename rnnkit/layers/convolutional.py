"""Convolutions as tf.keras 2.12 has them: ``Conv1D``, ``Conv2D``, ``Conv3D``,
``SeparableConv1D``, ``DepthwiseConv1D`` and ``Conv1DTranspose``.

Weights keep Keras shapes: ``kernel (*kernel_size, in_channels / groups, filters)`` and
``bias (filters,)``; the call hands torch's ``conv1d/2d/3d`` a permuted view
(``(filters, in / groups, *kernel_size)``), so there is no copy to keep in sync.
Inputs are channels-last by default (``(B, steps, channels)`` for ``Conv1D``); ``"same"``
padding is TensorFlow's (the extra pad at the end), ``"causal"`` (``Conv1D``) pads the start
only, so step ``t`` of the output sees inputs ``<= t``.

Output length of one spatial axis: ``valid``: ``ceil((n - (k - 1) * d) / s)``;
``same``/``causal``: ``ceil(n / s)``.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from .base import Layer, shape_tuple
from .conv_utils import (channels_first, check_channels, check_min_ndim, checked_padding,
                         normalize_tuple, output_length, pad_spatial, restore_format,
                         symmetric_padding)
from .core import _positive_int
from .reshaping import checked_data_format

__all__ = ["Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "DepthwiseConv1D",
           "Conv1DTranspose", "Convolution1D", "Convolution2D", "Convolution3D",
           "SeparableConvolution1D", "Convolution1DTranspose"]

_TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def torch_kernel(kernel: torch.Tensor, rank: int) -> torch.Tensor:
    """Keras ``(*k, in, out)`` -> torch ``(out, in, *k)`` (a view)."""
    return kernel.permute(rank + 1, rank, *range(rank))


class _Conv(Layer):
    """What every convolution shares: arguments, output shapes, padding, bias, activation."""

    rank = 1
    _paddings: tuple[str, ...] = ("valid", "same")
    _config_keys = ("filters", "kernel_size", "strides", "padding", "data_format",
                    "dilation_rate", "groups", "activation", "use_bias", "kernel_initializer",
                    "bias_initializer", "kernel_regularizer", "bias_regularizer",
                    "activity_regularizer", "kernel_constraint", "bias_constraint")

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        cls = type(self).__name__
        if filters is not None and (isinstance(filters, bool) or not isinstance(filters, int)
                                    or filters <= 0):
            raise ValueError(f'{cls} layer "{self.name}": invalid value for argument `filters`. '
                             f"Expected a strictly positive value. Received filters={filters}.")
        self.filters = filters
        self.kernel_size = normalize_tuple(self, kernel_size, self.rank, "kernel_size")
        self.strides = normalize_tuple(self, strides, self.rank, "strides")
        self.padding = checked_padding(self, padding, self._paddings)
        self.data_format = checked_data_format(self, data_format)
        self.dilation_rate = normalize_tuple(self, dilation_rate, self.rank, "dilation_rate")
        self.groups = _positive_int(cls, self.name, "groups", groups)
        if self.filters is not None and self.filters % self.groups:
            raise ValueError(f'{cls} layer "{self.name}": the number of filters must be evenly '
                             f"divisible by the number of groups. Received: groups={groups}, "
                             f"filters={filters}.")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f'{cls} layer "{self.name}": `strides > 1` not supported in '
                             f"conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    # ------------------------------------------------------------------ shapes
    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape: Sequence) -> int:
        channels = shape_tuple(input_shape)[self._channel_axis]
        if channels is None:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": the channel dimension '
                             "of the inputs should be defined. The input_shape received is "
                             f"{tuple(input_shape)}, where axis {self._channel_axis} (0-based) "
                             "is the channel dimension, which found to be `None`.")
        return channels

    def _spatial(self, input_shape: Sequence) -> tuple:
        shape = shape_tuple(input_shape)
        return shape[1:-1] if self.data_format == "channels_last" else shape[2:]

    def _out_channels(self, in_channels: int | None) -> int:
        return self.filters

    def _spatial_out(self, spatial: Sequence) -> tuple:
        return tuple(output_length(n, k, self.padding, s, d) for n, k, s, d in
                     zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        shape = shape_tuple(input_shape)
        spatial = self._spatial_out(self._spatial(shape))
        channels = self._out_channels(shape[self._channel_axis])
        if self.data_format == "channels_last":
            return (shape[0],) + spatial + (channels,)
        return (shape[0], channels) + spatial

    # ------------------------------------------------------------------ weights
    def build(self, input_shape: Sequence) -> None:
        input_shape = shape_tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": expected inputs of '
                             f"rank {self.rank + 2}, received input shape {input_shape}.")
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": the number of input '
                             f"channels must be evenly divisible by the number of groups. "
                             f"Received groups={self.groups}, but the input has {channels} "
                             f"channels (full input shape is {input_shape}).")
        self._build_weights(channels)
        super().build(input_shape)

    def _build_weights(self, channels: int) -> None:
        self.add_weight("kernel", self.kernel_size + (channels // self.groups, self.filters),
                        self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)
        self._build_bias(self.filters)

    def _build_bias(self, size: int) -> None:
        if self.use_bias:
            self.add_weight("bias", (size,), self.bias_initializer, self.bias_regularizer,
                            self.bias_constraint)
        else:
            self.bias = None

    def _check_input(self, x: torch.Tensor) -> None:
        check_min_ndim(self, x, self.rank + 2)
        if x.dim() != self.rank + 2:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"expected ndim={self.rank + 2}, found ndim={x.dim()}. "
                             f"Full shape received: {tuple(x.shape)}")
        if self.built:
            check_channels(self, x, self._channel_axis, self._built_channels())

    def _built_channels(self) -> int:
        return self.kernel.shape[-2] * self.groups

    # ------------------------------------------------------------------ call
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = channels_first(inputs, self.data_format)
        pads = symmetric_padding(self.padding, x.shape[2:], self.kernel_size, self.strides,
                                 self.dilation_rate)
        if pads is None:  # TensorFlow's uneven "same", or causal: pad first
            x, pads = pad_spatial(x, self.padding, self.kernel_size, self.strides,
                                  self.dilation_rate), 0
        y = self._convolve(x, pads)
        if self.bias is not None:
            y = y + self.bias.view((-1,) + (1,) * self.rank)
        return restore_format(self.activation(y), self.data_format)

    def _convolve(self, x: torch.Tensor, pads: Any = 0) -> torch.Tensor:
        return _TORCH_CONV[self.rank](x, torch_kernel(self.kernel, self.rank), None,
                                      self.strides, pads, self.dilation_rate, self.groups)


class Conv1D(_Conv):
    """1-D convolution over time: (B, steps, channels) -> (B, new_steps, filters).

    ``padding="causal"`` pads the start with ``(kernel_size - 1) * dilation_rate`` zeros
    (WaveNet-style temporal convolution)."""

    rank = 1
    _paddings = ("valid", "same", "causal")

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = 1, **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)
        if self.padding == "causal" and self.data_format != "channels_last":
            raise ValueError(f'Conv1D layer "{self.name}": causal padding is only supported for '
                             "`Conv1D` and `SeparableConv1D` with channels_last data format.")


class Conv2D(_Conv):
    """2-D convolution: (B, rows, cols, channels) -> (B, new_rows, new_cols, filters)."""

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)


class Conv3D(_Conv):
    """3-D convolution: (B, d1, d2, d3, channels) -> (B, n1, n2, n3, filters)."""

    rank = 3

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = (1, 1, 1), **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)


# ----------------------------------------------------------------------- depthwise families
def _depthwise_torch_kernel(kernel: torch.Tensor) -> torch.Tensor:
    """Keras ``(k, in, multiplier)`` -> torch grouped ``(in * multiplier, 1, k)``: output
    channel ``c * multiplier + m`` reads input channel ``c`` (Keras's order)."""
    k, channels, multiplier = kernel.shape
    return kernel.reshape(k, channels * multiplier).t().unsqueeze(1)


class DepthwiseConv1D(_Conv):
    """Each input channel convolved on its own with ``depth_multiplier`` filters:
    (B, steps, C) -> (B, new_steps, C · depth_multiplier). Weights ``depthwise_kernel
    (k, C, depth_multiplier)``, ``bias (C · depth_multiplier,)``."""

    rank = 1
    _config_keys = ("kernel_size", "strides", "padding", "data_format", "dilation_rate",
                    "groups", "activation", "use_bias", "bias_initializer",
                    "bias_regularizer", "activity_regularizer", "bias_constraint",
                    "depth_multiplier", "depthwise_initializer", "depthwise_regularizer",
                    "depthwise_constraint")

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(None, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = _positive_int(type(self).__name__, self.name,
                                              "depth_multiplier", depth_multiplier)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def _out_channels(self, in_channels: int | None) -> int | None:
        return None if in_channels is None else in_channels * self.depth_multiplier

    def _build_weights(self, channels: int) -> None:
        self.add_weight("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
                        self.depthwise_initializer, self.depthwise_regularizer,
                        self.depthwise_constraint)
        self._build_bias(channels * self.depth_multiplier)

    def _built_channels(self) -> int:
        return self.depthwise_kernel.shape[-2]

    def _convolve(self, x: torch.Tensor, pads: Any = 0) -> torch.Tensor:
        return F.conv1d(x, _depthwise_torch_kernel(self.depthwise_kernel), None, self.strides,
                        pads, self.dilation_rate, x.shape[1])


class SeparableConv1D(_Conv):
    """A depthwise convolution (each channel on its own, ``depth_multiplier`` filters each)
    followed by a pointwise (1×1) convolution to ``filters`` channels. Weights
    ``depthwise_kernel (k, C, depth_multiplier)``, ``pointwise_kernel (1, C ·
    depth_multiplier, filters)``, ``bias (filters,)``."""

    rank = 1
    _paddings = ("valid", "same", "causal")
    # tf.keras 2.12 keeps Conv's (unused) kernel_* entries in this layer's config
    _config_keys = _Conv._config_keys + ("depth_multiplier", "depthwise_initializer", "pointwise_initializer",
                    "depthwise_regularizer", "pointwise_regularizer", "depthwise_constraint",
                    "pointwise_constraint")

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1,
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = _positive_int(type(self).__name__, self.name,
                                              "depth_multiplier", depth_multiplier)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def _build_weights(self, channels: int) -> None:
        self.add_weight("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
                        self.depthwise_initializer, self.depthwise_regularizer,
                        self.depthwise_constraint)
        self.add_weight("pointwise_kernel", (1, channels * self.depth_multiplier, self.filters),
                        self.pointwise_initializer, self.pointwise_regularizer,
                        self.pointwise_constraint)
        self._build_bias(self.filters)

    def _built_channels(self) -> int:
        return self.depthwise_kernel.shape[-2]

    def _convolve(self, x: torch.Tensor, pads: Any = 0) -> torch.Tensor:
        depthwise = F.conv1d(x, _depthwise_torch_kernel(self.depthwise_kernel), None,
                             self.strides, pads, self.dilation_rate, x.shape[1])
        return F.conv1d(depthwise, torch_kernel(self.pointwise_kernel, 1))


class Conv1DTranspose(_Conv):
    """The transpose of ``Conv1D`` (a "deconvolution"): (B, steps, C) -> (B, new_steps,
    filters), ``new_steps = steps · strides + max(k - strides, 0)`` (``valid``) or ``steps ·
    strides`` (``same``). Weights ``kernel (k, filters, C)`` (Keras's transposed layout)."""

    rank = 1
    _config_keys = ("filters", "kernel_size", "strides", "padding", "data_format",
                    "dilation_rate", "groups", "activation", "use_bias", "kernel_initializer",
                    "bias_initializer", "kernel_regularizer", "bias_regularizer",
                    "activity_regularizer", "kernel_constraint", "bias_constraint",
                    "output_padding")

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = 1, **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(self, output_padding, 1, "output_padding",
                                                  allow_zero=True)
            if self.output_padding[0] >= self.strides[0]:
                raise ValueError(f'Conv1DTranspose layer "{self.name}": strides '
                                 f"{self.strides} must be greater than output padding "
                                 f"{self.output_padding}.")

    def _length(self, length: int | None) -> int | None:
        """Keras's ``deconv_output_length``."""
        if length is None:
            return None
        k = (self.kernel_size[0] - 1) * self.dilation_rate[0] + 1
        s = self.strides[0]
        if self.output_padding is None:
            return length * s + max(k - s, 0) if self.padding == "valid" else length * s
        pad = k // 2 if self.padding == "same" else 0
        return (length - 1) * s + k - 2 * pad + self.output_padding[0]

    def _spatial_out(self, spatial: Sequence) -> tuple:
        return (self._length(spatial[0]),)

    def _build_weights(self, channels: int) -> None:
        self.add_weight("kernel", self.kernel_size + (self.filters, channels),
                        self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)
        self._build_bias(self.filters)

    def _built_channels(self) -> int:
        return self.kernel.shape[-1]

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = channels_first(inputs, self.data_format)
        length, out = x.shape[-1], self._length(x.shape[-1])
        # torch's full transposed convolution, then TensorFlow's crop: the gradient of a
        # convolution from `out` steps to `length` steps with this padding.
        full = F.conv_transpose1d(x, self.kernel.permute(2, 1, 0), None, self.strides, 0, 0, 1,
                                  self.dilation_rate)
        start = 0
        if self.padding == "same":
            k = (self.kernel_size[0] - 1) * self.dilation_rate[0] + 1
            start = max((length - 1) * self.strides[0] + k - out, 0) // 2
        y = full[..., start:start + out]
        if y.shape[-1] < out:
            y = F.pad(y, [0, out - y.shape[-1]])
        if self.bias is not None:
            y = y + self.bias.view(-1, 1)
        return restore_format(self.activation(y), self.data_format)


# Keras's aliases: the same classes under their longer names.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
SeparableConvolution1D = SeparableConv1D
Convolution1DTranspose = Conv1DTranspose
