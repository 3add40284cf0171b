"""Normalisation layers: ``BatchNormalization``, ``LayerNormalization``, ``UnitNormalization``
(tf.keras 2.12 arguments, defaults, weights and configs).

``BatchNormalization`` normalises each feature of ``axis`` with statistics over every other
axis. In training mode (``fit``, ``training=True``, ``layer.train()``) it uses the batch's
mean and (biased) variance and updates its moving statistics the Keras way,
``moving = moving * momentum + batch * (1 - momentum)`` (``momentum`` is the weight of the
old value, the opposite of torch's). Outside training it uses the moving statistics.
As tf.keras 2 does, a layer with ``trainable=False`` always runs in inference mode (frozen
statistics: the fine-tuning behaviour), and for 4-D and 5-D inputs normalised on their
channel axis (TensorFlow's fused kernel) the moving variance is updated with the
unbiased batch variance (``n / (n - 1)``) and ``epsilon`` is at least ``1.001e-5``.
A (batch, time) mask (``Embedding(mask_zero=True)``, ``Masking``) keeps padded steps out of
the batch statistics, as tf.keras 2.12's weighted moments do.
Weights, in Keras order: ``gamma``, ``beta`` (trainable), ``moving_mean``,
``moving_variance`` (non-trainable; ``summary()`` counts them as such).
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .. import constraints, initializers, regularizers
from .base import Layer, shape_tuple

__all__ = ["BatchNormalization", "LayerNormalization", "UnitNormalization"]

_FUSED_MIN_EPSILON = 1.001e-5


def _axes(layer: Layer, axis: Any) -> list[int] | int:
    if isinstance(axis, (list, tuple)):
        values = list(axis)
    elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    else:
        values = None
    if values is None or not all(isinstance(a, numbers.Integral) for a in values):
        raise TypeError(f'{type(layer).__name__} layer "{layer.name}": expected an int or a '
                        f"list/tuple of ints for the argument 'axis', but received: {axis!r}")
    return [int(a) for a in values]


def _resolve_axes(layer: Layer, axis: list[int] | int, rank: int) -> list[int]:
    """Positive axes for an input of ``rank`` (Keras writes these into the config once built)."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    resolved = [a + rank if a < 0 else a for a in axes]
    if any(not 0 <= a < rank for a in resolved):
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": invalid value for '
                         f"`axis` argument. Expected 0 <= axis < inputs.rank (with "
                         f"inputs.rank={rank}). Received: axis={tuple(axes)}")
    if len(set(resolved)) != len(resolved):
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": duplicate axis: '
                         f"{tuple(axes)}")
    return resolved


class _Normalization(Layer):
    """``gamma``/``beta`` over the normalised axes, shared by batch and layer normalisation."""

    supports_masking = True

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = _axes(self, axis)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _param_shape(self, input_shape: tuple, axes: list[int]) -> tuple[int, ...]:
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f'{type(self).__name__} layer "{self.name}": axis {axes} of input '
                             f"tensor should have a defined dimension but the layer received "
                             f"an input with shape {input_shape}.")
        return shape

    def _build_scale_center(self, shape: tuple[int, ...]) -> None:
        if self.scale:
            self.add_weight("gamma", shape, self.gamma_initializer, self.gamma_regularizer,
                            self.gamma_constraint)
        else:
            self.gamma = None
        if self.center:
            self.add_weight("beta", shape, self.beta_initializer, self.beta_regularizer,
                            self.beta_constraint)
        else:
            self.beta = None

    def _broadcast(self, value: torch.Tensor | None, rank: int) -> torch.Tensor | None:
        """A weight over ``self.axis`` shaped to broadcast against the input."""
        if value is None:
            return None
        shape = [1] * rank
        for a, size in zip(self.axis, value.shape):
            shape[a] = size
        return value.reshape(shape)

    def _check_input(self, x: torch.Tensor) -> None:
        if self.built and x.dim() != len(self._build_input_shape):
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"expected ndim={len(self._build_input_shape)}, found "
                             f"ndim={x.dim()}. Full shape received: {tuple(x.shape)}")


class BatchNormalization(_Normalization):
    """Normalises with the batch's statistics in training, the moving ones otherwise
    (see the module docstring): ``gamma * (x - mean) / sqrt(var + epsilon) + beta``."""

    _config_keys = ("axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
                    "gamma_initializer", "moving_mean_initializer",
                    "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
                    "beta_constraint", "gamma_constraint")

    def __init__(self, axis: Any = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, synchronized: bool = False,
                 renorm: bool = False, renorm_clipping: Any = None, renorm_momentum: float = 0.99,
                 fused: Any = None, virtual_batch_size: Any = None, adjustment: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        unsupported = {"renorm": renorm, "virtual_batch_size": virtual_batch_size,
                       "adjustment": adjustment, "renorm_clipping": renorm_clipping}
        for argument, value in unsupported.items():
            if value:
                raise ValueError(f'BatchNormalization layer "{self.name}": `{argument}` is not '
                                 "supported by rnnkit (tf.keras 2's batch renormalisation and "
                                 "ghost batches); leave it at its default.")
        self.momentum = float(momentum)
        self.synchronized = bool(synchronized)  # one device: the same numbers
        self.fused = fused
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape: Sequence) -> None:
        input_shape = shape_tuple(input_shape)
        self.axis = _resolve_axes(self, self.axis, len(input_shape))
        shape = self._param_shape(input_shape, self.axis)
        self._build_scale_center(shape)
        self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", shape, self.moving_variance_initializer,
                        trainable=False)
        rank = len(input_shape)
        # TensorFlow's fused kernel: 4-D/5-D inputs normalised on the first or last axis.
        self._fused = (self.fused is not False and rank in (4, 5)
                       and self.axis in ([1], [rank - 1]))
        super().build(input_shape)

    @property
    def _epsilon(self) -> float:
        return max(self.epsilon, _FUSED_MIN_EPSILON) if self._fused else self.epsilon

    def call(self, inputs: torch.Tensor, training: bool | None = None,
             mask: Any = None) -> torch.Tensor:
        rank = inputs.dim()
        reduce = [a for a in range(rank) if a not in self.axis]
        if training and self.trainable:
            if mask is not None and not self._fused:
                mean, var = self._masked_moments(inputs, mask, reduce)
            else:
                var, mean = torch.var_mean(inputs, dim=reduce, keepdim=True, correction=0)
            self._update_moving(mean, var, inputs.numel() // mean.numel())
        else:
            mean = self._broadcast(self.moving_mean, rank)
            var = self._broadcast(self.moving_variance, rank)
        out = (inputs - mean) * torch.rsqrt(var + self._epsilon)
        if self.gamma is not None:
            out = out * self._broadcast(self.gamma, rank)
        if self.beta is not None:
            out = out + self._broadcast(self.beta, rank)
        return out

    @staticmethod
    def _masked_moments(inputs: torch.Tensor, mask: Any, reduce: list[int]) -> tuple:
        """tf.keras 2.12's ``weighted_moments``: statistics over the unmasked steps only."""
        weights = torch.as_tensor(mask, device=inputs.device).to(inputs.dtype)
        weights = weights.reshape(tuple(weights.shape) + (1,) * (inputs.dim() - weights.dim()))
        weights = weights.expand_as(inputs)
        total = weights.sum(dim=reduce, keepdim=True)
        mean = (inputs * weights).sum(dim=reduce, keepdim=True) / total
        var = ((inputs - mean) ** 2 * weights).sum(dim=reduce, keepdim=True) / total
        return mean, var

    def _update_moving(self, mean: torch.Tensor, var: torch.Tensor, count: int) -> None:
        with torch.no_grad():
            if self._fused and count > 1:
                var = var * (count / (count - 1))
            shape = self.moving_mean.shape
            decay = 1.0 - self.momentum
            mean_now = mean.detach().reshape(shape).to(self.moving_mean.dtype)
            var_now = var.detach().reshape(shape).to(self.moving_variance.dtype)
            self.moving_mean.sub_((self.moving_mean - mean_now) * decay)
            self.moving_variance.sub_((self.moving_variance - var_now) * decay)

    def get_config(self) -> dict:
        config = super().get_config()
        if self.synchronized:
            config["synchronized"] = True
        return config


class LayerNormalization(_Normalization):
    """Normalises each sample over ``axis`` (the features by default) with its own mean and
    variance: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``; no moving statistics.
    ``rms_scaling=True`` (Keras 3): ``gamma * x / sqrt(mean(x²) + epsilon)`` instead."""

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, rms_scaling: bool = False, **kwargs: Any) -> None:
        super().__init__(axis, epsilon, center, scale, **kwargs)
        self.rms_scaling = bool(rms_scaling)

    def get_config(self) -> dict:
        config = super().get_config()
        if self.rms_scaling:
            config["rms_scaling"] = True
        return config

    _config_keys = ("axis", "epsilon", "center", "scale", "beta_initializer",
                    "gamma_initializer", "beta_regularizer", "gamma_regularizer",
                    "beta_constraint", "gamma_constraint")

    def build(self, input_shape: Sequence) -> None:
        input_shape = shape_tuple(input_shape)
        self.axis = _resolve_axes(self, self.axis, len(input_shape))
        self._normalized_shape = self._param_shape(input_shape, self.axis)
        self._build_scale_center(self._normalized_shape)
        super().build(input_shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        rank = inputs.dim()
        if self.rms_scaling:
            out = inputs * torch.rsqrt((inputs * inputs).mean(dim=self.axis, keepdim=True)
                                       + self.epsilon)
            return out if self.gamma is None else out * self._broadcast(self.gamma, rank)
        trailing = self.axis == list(range(rank - len(self.axis), rank))
        if trailing:  # torch's fused kernel normalises the trailing axes
            shape = self._normalized_shape  # ints fixed at build (an exported graph needs them)
            return F.layer_norm(inputs, shape, self.gamma, self.beta, self.epsilon)
        var, mean = torch.var_mean(inputs, dim=self.axis, keepdim=True, correction=0)
        out = (inputs - mean) * torch.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            out = out * self._broadcast(self.gamma, rank)
        if self.beta is not None:
            out = out + self._broadcast(self.beta, rank)
        return out


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis``: ``x / sqrt(max(sum(x²), 1e-12))``."""

    supports_masking = True
    _config_keys = ("axis",)

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = _axes(self, axis)

    def build(self, input_shape: Sequence) -> None:
        input_shape = shape_tuple(input_shape)
        self.axis = _resolve_axes(self, self.axis, len(input_shape))
        super().build(input_shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        squares = (inputs * inputs).sum(dim=axes, keepdim=True)
        return inputs * torch.rsqrt(squares.clamp_min(1e-12))
