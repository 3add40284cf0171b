"""``Identity`` (tf.keras 2.12): returns its input unchanged, mask included (a placeholder
layer, e.g. where a model builder optionally inserts a real layer)."""
from __future__ import annotations

from typing import Sequence

import torch

from .base import Layer, shape_tuple

__all__ = ["Identity"]


class Identity(Layer):
    """``y = x``."""

    supports_masking = True

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return shape_tuple(input_shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs
