"""Shapes and padding shared by the convolution, pooling and convolutional-recurrent layers.

Keras spells the spatial arguments as an int or a tuple (``kernel_size=3`` or ``(3, 3)``)
and pads ``"same"`` the TensorFlow way: the total padding
``max((ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)`` goes half to the start and the
larger half to the end. torch pads symmetrically, so these layers pad explicitly
(``F.pad``) and run torch's operators with no padding of their own.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .base import Layer


def normalize_tuple(layer: Layer, value: Any, n: int, argument: str,
                    allow_zero: bool = False) -> tuple[int, ...]:
    """``3`` -> ``(3, 3)``; a tuple of ``n`` ints kept; anything else a ValueError naming
    the layer and the argument, as Keras's ``conv_utils.normalize_tuple``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * n
    elif isinstance(value, (list, tuple)) and len(value) == n and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": the `{argument}` '
                         f"argument must be a tuple of {n} integers. Received: {value!r}")
    lowest = 0 if allow_zero else 1
    if any(v < lowest for v in values):
        relation = ">= 0" if allow_zero else "> 0"
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": the `{argument}` '
                         f"argument must be a tuple of {n} integers {relation}. Received: "
                         f"{value!r}")
    return values


def checked_padding(layer: Layer, padding: Any, allowed: Sequence[str]) -> str:
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": the `padding` argument '
                         f"must be one of {', '.join(repr(a) for a in allowed)}. Received: "
                         f"{padding}")
    return value


def output_length(length: int | None, kernel: int, padding: str, stride: int,
                  dilation: int = 1) -> int | None:
    """Keras's ``conv_output_length``."""
    if length is None:
        return None
    dilated = (kernel - 1) * dilation + 1
    if padding in ("same", "causal"):
        out = length
    elif padding == "valid":
        out = length - dilated + 1
    else:  # "full"
        out = length + dilated - 1
    return (out + stride - 1) // stride


def same_pad(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's ``"SAME"`` padding of one axis: ``(before, after)``."""
    dilated = (kernel - 1) * dilation + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + dilated - length, 0)
    return total // 2, total - total // 2


def pad_spatial(x: torch.Tensor, padding: str, kernels: Sequence[int], strides: Sequence[int],
                dilations: Sequence[int], value: float = 0.0) -> torch.Tensor:
    """Pad the spatial axes of a channels-first ``x`` for ``padding`` (valid/same/causal)."""
    if padding == "valid":
        return x
    pads: list[int] = []
    spatial = x.shape[2:]
    for axis in reversed(range(len(kernels))):  # F.pad lists the last axis first
        if padding == "causal":
            pads += [(kernels[axis] - 1) * dilations[axis], 0]
        else:
            pads += list(same_pad(spatial[axis], kernels[axis], strides[axis], dilations[axis]))
    if not any(pads):
        return x
    return F.pad(x, pads, value=value)


def symmetric_padding(padding: str, spatial: Sequence[int], kernels: Sequence[int],
                      strides: Sequence[int], dilations: Sequence[int]) -> tuple | None:
    """The padding torch's convolution can apply itself (the same on both sides of every
    axis), or None when TensorFlow's padding is uneven (then :func:`pad_spatial` pads)."""
    if padding == "valid":
        return (0,) * len(kernels)
    if padding != "same":
        return None
    pads = [same_pad(n, k, s, d) for n, k, s, d in zip(spatial, kernels, strides, dilations)]
    if any(before != after for before, after in pads):
        return None
    return tuple(before for before, _ in pads)


def channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """(B, *spatial, C) -> (B, C, *spatial) for channels_last; channels_first kept."""
    return x.movedim(x.dim() - 1, 1) if data_format == "channels_last" else x


def restore_format(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """The inverse of :func:`channels_first`."""
    return x.movedim(1, x.dim() - 1) if data_format == "channels_last" else x


def check_min_ndim(layer: Layer, x: torch.Tensor, ndim: int) -> None:
    """Keras's ``InputSpec(min_ndim=...)`` message."""
    if x.dim() < ndim:
        raise ValueError(f'Input 0 of layer "{layer.name}" is incompatible with the layer: '
                         f"expected min_ndim={ndim}, found ndim={x.dim()}. "
                         f"Full shape received: {tuple(x.shape)}")


def check_channels(layer: Layer, x: torch.Tensor, axis: int, expected: int) -> None:
    """Keras's ``InputSpec(axes={axis: channels})`` message, once the layer is built."""
    if x.shape[axis] != expected:
        raise ValueError(f'Input 0 of layer "{layer.name}" is incompatible with the layer: '
                         f"expected axis {axis} of input shape "
                         f"to have value {expected}, but received input with shape "
                         f"{tuple(x.shape)}")
