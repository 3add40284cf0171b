"""``GlobalAveragePooling1D`` and ``GlobalMaxPooling1D``: a sequence to one vector.

Mask-aware: with a (batch, steps) mask (from ``Embedding(mask_zero=True)`` or ``Masking``)
the average is over the valid steps only (as tf.keras 2) and the maximum too (rnnkit's
choice; tf.keras 2.12's max ignores the mask, which gives the same numbers after an RNN,
whose masked steps repeat the last valid output). Neither passes a mask on.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from .base import Layer, shape_tuple
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
