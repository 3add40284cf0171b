"""``GroupNormalization`` (tf.keras 2.12): the channels of ``axis`` split into ``groups``;
each sample is normalised over every axis but the batch, within each group:
``(x - mean_g) / sqrt(var_g + epsilon) · gamma + beta``, with ``gamma`` and ``beta``
per channel (weights ``gamma``, ``beta`` of shape ``(channels,)``, in that order).
``groups=-1`` (instance normalisation) takes one group per channel.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from .. import constraints, initializers, regularizers
from .base import Layer, shape_tuple

__all__ = ["GroupNormalization"]


class GroupNormalization(Layer):
    """Normalises each sample within groups of channels (batch-size independent)."""

    supports_masking = True
    _config_keys = ("groups", "axis", "epsilon", "center", "scale", "beta_initializer",
                    "gamma_initializer", "beta_regularizer", "gamma_regularizer",
                    "beta_constraint", "gamma_constraint")

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int):
            raise ValueError(f'GroupNormalization layer "{self.name}": `groups` must be an '
                             f"integer. Received: groups={groups!r}")
        self.groups = groups
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape: Sequence) -> None:
        shape = shape_tuple(input_shape)
        channels = shape[self.axis]
        if channels is None:
            raise ValueError(f'GroupNormalization layer "{self.name}": axis {self.axis} of the '
                             f"input tensor should have a defined dimension but the layer "
                             f"received an input with shape {shape}.")
        if self.groups == -1:
            self.groups = channels
        if channels < self.groups:
            raise ValueError(f'GroupNormalization layer "{self.name}": number of groups '
                             f"({self.groups}) cannot be more than the number of channels "
                             f"({channels}).")
        if channels % self.groups:
            raise ValueError(f'GroupNormalization layer "{self.name}": number of groups '
                             f"({self.groups}) must be a multiple of the number of channels "
                             f"({channels}).")
        if self.scale:
            self.add_weight("gamma", (channels,), self.gamma_initializer,
                            self.gamma_regularizer, self.gamma_constraint)
        else:
            self.gamma = None
        if self.center:
            self.add_weight("beta", (channels,), self.beta_initializer, self.beta_regularizer,
                            self.beta_constraint)
        else:
            self.beta = None
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return shape_tuple(input_shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        axis = self.axis % inputs.dim()
        channels = inputs.shape[axis]
        group_shape = list(inputs.shape)
        group_shape[axis:axis + 1] = [self.groups, channels // self.groups]
        x = inputs.reshape(group_shape)
        reduce = [d for d in range(1, x.dim()) if d != axis]   # all but batch and group
        mean = x.mean(dim=reduce, keepdim=True)
        variance = x.var(dim=reduce, unbiased=False, keepdim=True)
        weight_shape = [1] * x.dim()
        weight_shape[axis:axis + 2] = [self.groups, channels // self.groups]
        inv = torch.rsqrt(variance + self.epsilon)   # as tf.nn.batch_normalization
        if self.gamma is not None:
            inv = inv * self.gamma.reshape(weight_shape)
        offset = -mean * inv
        if self.beta is not None:
            offset = offset + self.beta.reshape(weight_shape)
        return (x * inv + offset).reshape(inputs.shape)
