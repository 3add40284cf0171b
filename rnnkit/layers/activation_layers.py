"""Activation layers (tf.keras 2.12's ``keras/layers/activation/``): ``ReLU``, ``LeakyReLU``,
``PReLU``, ``ELU``, ``ThresholdedReLU``, ``Softmax``.

* ``ReLU(max_value, negative_slope, threshold)``: ``x`` where ``x >= threshold`` (clipped to
  ``max_value``), else ``negative_slope · (x - threshold)`` (Keras 2's ``backend.relu``).
* ``LeakyReLU(alpha=0.3)``: ``x`` for ``x >= 0``, else ``alpha · x`` (Keras 2's default 0.3).
* ``PReLU``: ``LeakyReLU`` with a learned ``alpha`` per input position (weight ``alpha`` of
  shape ``input_shape[1:]``, 1 on ``shared_axes``): ``relu(x) - alpha · relu(-x)``.
* ``ELU(alpha=1.0)``: ``x`` for ``x > 0``, else ``alpha · (exp(x) - 1)``.
* ``ThresholdedReLU(theta=1.0)``: ``x`` where ``x > theta``, else 0.
* ``Softmax(axis=-1)``: ``softmax`` over ``axis`` (a list: over all of them); a ``mask``
  (1 = keep) adds ``-1e9`` to the masked positions first, as tf.keras 2 does.

Keras 2 stores ``alpha``, ``theta``, ``negative_slope`` ... as float32: the configs carry
their float32 values (``0.3`` is written ``0.30000001192092896``).
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
import torch

from .. import constraints, initializers, regularizers
from .base import Layer, shape_tuple

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax"]


def _float32(layer: Layer, value: Any, argument: str, minimum: float | None = 0.0,
             allow_none: bool = False) -> float | None:
    """A float argument, checked, as the float32 value Keras 2 keeps (``cast_to_floatx``)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": `{argument}` must be a '
                         f"number. Received: {argument}={value!r}")
    if minimum is not None and value < minimum:  # tf.keras 2's wording
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": {argument} of a '
                         f"{type(layer).__name__} layer cannot be a negative value. Received: "
                         f"{value!r}")
    return float(np.float32(value))


class _Elementwise(Layer):
    supports_masking = True  # an incoming mask passes on unchanged

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return shape_tuple(input_shape)


class ReLU(_Elementwise):
    """The rectified linear unit with Keras 2's options (see the module docstring)."""

    _config_keys = ("max_value", "negative_slope", "threshold")

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_value = _float32(self, max_value, "max_value", allow_none=True)
        self.negative_slope = _float32(self, negative_slope, "negative_slope")
        self.threshold = _float32(self, threshold, "threshold")

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        # Keras 2's backend.relu, step by step: the positive part (thresholded, clipped),
        # then minus the slope times the part below the threshold
        x = inputs
        if self.threshold != 0:
            positive = x * (x > self.threshold).to(x.dtype)
        else:
            positive = torch.relu(x)
        if self.max_value is not None:
            positive = positive.clamp(0.0, self.max_value)
        if self.negative_slope != 0:
            positive = positive - self.negative_slope * torch.relu(self.threshold - x)
        return positive


class LeakyReLU(_Elementwise):
    """``x`` for ``x >= 0``, else ``alpha · x``."""

    _config_keys = ("alpha",)

    def __init__(self, alpha: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if alpha is None:
            raise ValueError(f'LeakyReLU layer "{self.name}": the alpha value must be a number '
                             "greater than 0. Received: alpha=None")
        self.alpha = _float32(self, alpha, "alpha")

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.leaky_relu(inputs, self.alpha)


class PReLU(_Elementwise):
    """The parametric ReLU: ``relu(x) - alpha · relu(-x)`` with a learned ``alpha``."""

    _config_keys = ("alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes")

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is not None:
            shared_axes = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes)
            if not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1
                       for a in shared_axes):
                raise ValueError(f'PReLU layer "{self.name}": `shared_axes` must be axes >= 1 '
                                 f"(the batch axis cannot be shared). Received: {shared_axes}")
        self.shared_axes = shared_axes

    def build(self, input_shape: Sequence) -> None:
        shape = list(shape_tuple(input_shape)[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(f'PReLU layer "{self.name}": shared axis {axis} is out of '
                                 f"range for inputs of shape {tuple(input_shape)}.")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f'PReLU layer "{self.name}": every axis that is not shared must '
                             f"have a known size. Received input_shape={tuple(input_shape)}.")
        self.add_weight("alpha", tuple(shape), self.alpha_initializer, self.alpha_regularizer,
                        self.alpha_constraint)
        super().build(input_shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.relu(inputs) - self.alpha * torch.relu(-inputs)


class ELU(_Elementwise):
    """The exponential linear unit: ``x`` for ``x > 0``, else ``alpha · (exp(x) - 1)``."""

    _config_keys = ("alpha",)

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if alpha is None:
            raise ValueError(f'ELU layer "{self.name}": alpha of an ELU layer cannot be None, '
                             "expecting a float. Received: None")
        self.alpha = _float32(self, alpha, "alpha", minimum=None)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.elu(inputs, self.alpha)


class ThresholdedReLU(_Elementwise):
    """``x`` where ``x > theta``, else 0."""

    _config_keys = ("theta",)

    def __init__(self, theta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if theta is None:
            raise ValueError(f'ThresholdedReLU layer "{self.name}": theta of a Thresholded ReLU '
                             "layer cannot be None, expecting a float. Received: None")
        self.theta = _float32(self, theta, "theta")

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * (inputs > self.theta).to(inputs.dtype)


class Softmax(_Elementwise):
    """``softmax(x)`` over ``axis`` (an int or a list of axes); ``mask`` 1 = keep."""

    _config_keys = ("axis",)

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise ValueError(f'Softmax layer "{self.name}": `axis` must be an int or a list of '
                             f"ints. Received: axis={axis!r}")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        if mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device).to(inputs.dtype)
            inputs = inputs + (1.0 - mask) * -1e9  # float16 would use its own minimum
        if isinstance(self.axis, list):
            return torch.exp(inputs - torch.logsumexp(inputs, dim=self.axis, keepdim=True))
        return torch.softmax(inputs, dim=self.axis)
