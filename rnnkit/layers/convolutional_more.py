"""The 2-D and 3-D members of the convolution families whose 1-D members live in
``convolutional.py`` (tf.keras 2.12): ``Conv2DTranspose``, ``Conv3DTranspose``,
``DepthwiseConv2D``, ``SeparableConv2D`` (and the aliases ``Convolution2DTranspose``,
``Convolution3DTranspose``, ``SeparableConvolution2D``).

Weights in Keras's layouts: transposed kernels ``(*k, filters, in)``; depthwise kernels
``(*k, in, depth_multiplier)`` (output channel ``c · multiplier + m`` reads input channel
``c``); pointwise kernels ``(1, 1, in · multiplier, filters)``.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .conv_utils import channels_first, normalize_tuple, restore_format
from .convolutional import (_TORCH_CONV, Conv1DTranspose, DepthwiseConv1D, SeparableConv1D,
                            _Conv, torch_kernel)

__all__ = ["Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv2D", "SeparableConv2D",
           "Convolution2DTranspose", "Convolution3DTranspose", "SeparableConvolution2D"]

_TORCH_CONV_TRANSPOSE = {2: F.conv_transpose2d, 3: F.conv_transpose3d}


def depthwise_torch_kernel(kernel: torch.Tensor, rank: int) -> torch.Tensor:
    """Keras ``(*k, in, multiplier)`` -> torch grouped ``(in · multiplier, 1, *k)``."""
    spatial = tuple(kernel.shape[:rank])
    flat = kernel.reshape(spatial + (-1,))
    return flat.permute(rank, *range(rank)).unsqueeze(1)


class _ConvTranspose(Conv1DTranspose):
    """``Conv1DTranspose`` on ``rank`` spatial axes: torch's full transposed convolution,
    then TensorFlow's crop (``same``) and ``output_padding`` per axis."""

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = 1, **kwargs: Any) -> None:
        _Conv.__init__(self, filters, kernel_size, strides=strides, padding=padding,
                       data_format=data_format, dilation_rate=dilation_rate, **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(self, output_padding, self.rank,
                                                  "output_padding", allow_zero=True)
            for stride, out_pad in zip(self.strides, self.output_padding):
                if out_pad >= stride:
                    raise ValueError(f'{type(self).__name__} layer "{self.name}": strides '
                                     f"{self.strides} must be greater than output padding "
                                     f"{self.output_padding}.")

    def _axis_length(self, length: int | None, axis: int) -> int | None:
        """Keras's ``deconv_output_length`` for one spatial axis."""
        if length is None:
            return None
        k = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
        s = self.strides[axis]
        if self.output_padding is None:
            return length * s + max(k - s, 0) if self.padding == "valid" else length * s
        pad = k // 2 if self.padding == "same" else 0
        return (length - 1) * s + k - 2 * pad + self.output_padding[axis]

    def _spatial_out(self, spatial: Sequence) -> tuple:
        return tuple(self._axis_length(n, a) for a, n in enumerate(spatial))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = channels_first(inputs, self.data_format)
        rank = self.rank
        weight = self.kernel.permute(rank + 1, rank, *range(rank))   # (in, filters, *k)
        y = _TORCH_CONV_TRANSPOSE[rank](x, weight, None, self.strides, 0, 0, 1,
                                        self.dilation_rate)
        for axis in range(rank):
            length = x.shape[2 + axis]
            out = self._axis_length(length, axis)
            start = 0
            if self.padding == "same":
                k = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
                start = max((length - 1) * self.strides[axis] + k - out, 0) // 2
            y = y.narrow(2 + axis, start, min(out, y.shape[2 + axis] - start))
            if y.shape[2 + axis] < out:   # output_padding beyond the full result: zeros
                pads = [0, 0] * rank
                pads[2 * (rank - 1 - axis) + 1] = out - y.shape[2 + axis]
                y = F.pad(y, pads)
        if self.bias is not None:
            y = y + self.bias.view((-1,) + (1,) * rank)
        return restore_format(self.activation(y), self.data_format)


class Conv2DTranspose(_ConvTranspose):
    """The transpose of ``Conv2D``: (B, rows, cols, C) -> (B, new_rows, new_cols, filters);
    weights ``kernel (kh, kw, filters, C)``, ``bias (filters,)``."""

    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """The transpose of ``Conv3D``; weights ``kernel (k1, k2, k3, filters, C)``."""

    rank = 3

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("dilation_rate")  # tf.keras 2.12 writes none for this layer
        return config


class DepthwiseConv2D(DepthwiseConv1D):
    """Each input channel convolved on its own with ``depth_multiplier`` filters:
    (B, rows, cols, C) -> (B, new_rows, new_cols, C · depth_multiplier)."""

    rank = 2

    def _convolve(self, x: torch.Tensor, pads: Any = 0) -> torch.Tensor:
        return F.conv2d(x, depthwise_torch_kernel(self.depthwise_kernel, 2), None,
                        self.strides, pads, self.dilation_rate, x.shape[1])


class SeparableConv2D(SeparableConv1D):
    """A depthwise 2-D convolution followed by a pointwise (1×1) one to ``filters``."""

    rank = 2
    _paddings = ("valid", "same")

    def _build_weights(self, channels: int) -> None:
        self.add_weight("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
                        self.depthwise_initializer, self.depthwise_regularizer,
                        self.depthwise_constraint)
        self.add_weight("pointwise_kernel", (1, 1, channels * self.depth_multiplier,
                                             self.filters),
                        self.pointwise_initializer, self.pointwise_regularizer,
                        self.pointwise_constraint)
        self._build_bias(self.filters)

    def _convolve(self, x: torch.Tensor, pads: Any = 0) -> torch.Tensor:
        depthwise = F.conv2d(x, depthwise_torch_kernel(self.depthwise_kernel, 2), None,
                             self.strides, pads, self.dilation_rate, x.shape[1])
        return _TORCH_CONV[2](depthwise, torch_kernel(self.pointwise_kernel, 2))


# Keras's aliases: the same classes under their longer names.
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution2D = SeparableConv2D
