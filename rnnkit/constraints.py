"""Keras 2 (tf.keras 2.12) weight constraints: ``MaxNorm``, ``NonNeg``, ``UnitNorm``, ``MinMaxNorm``.

A constraint maps a weight to its projection, applied after each optimiser step. Norms are
taken along ``axis`` (default 0: for a Keras kernel ``(in, out)`` that is each unit's incoming
weights) and divided with Keras's ``epsilon() = 1e-7`` added, as Keras's formulas do (which is
why ``UnitNorm`` leaves norms a hair under 1).
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ._keras_objects import KerasObjects, _instantiate

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm",
           "max_norm", "non_neg", "unit_norm", "min_max_norm", "maxnorm", "nonneg", "unitnorm",
           "get", "serialize", "deserialize"]

_EPSILON = 1e-7  # keras.backend.epsilon()


def _as_tensor(w: Any) -> torch.Tensor:
    if isinstance(w, torch.Tensor):
        return w
    w = torch.as_tensor(w)
    return w if w.is_floating_point() else w.to(torch.get_default_dtype())


def _dims(axis: Any) -> int | tuple[int, ...]:
    # Keras takes an int or a list of axes (e.g. [0, 1, 2] for a conv kernel).
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w: torch.Tensor, axis: Any) -> torch.Tensor:
    return torch.sqrt(torch.sum(torch.square(w), dim=_dims(axis), keepdim=True))


class Constraint:
    """Base class: ``__call__(w)`` returns the projected weight (the identity here)."""

    def __call__(self, w: Any) -> torch.Tensor:
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Constraint":
        return _instantiate(cls, config, "constraint")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescale each weight vector whose norm exceeds ``max_value`` down to it."""

    def __init__(self, max_value: float = 2, axis: Any = 0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Zero the negative weights (Keras multiplies by the mask, so -w becomes -0.0)."""

    def __call__(self, w):
        w = _as_tensor(w)
        return w * (w >= 0.0).to(w.dtype)


class UnitNorm(Constraint):
    """Divide each weight vector by its norm (plus epsilon)."""

    def __init__(self, axis: Any = 0):
        self.axis = axis

    def __call__(self, w):
        w = _as_tensor(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each norm towards ``[min_value, max_value]``: ``rate*clip(n) + (1-rate)*n``."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: Any = 0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * torch.clamp(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


# Keras's aliases (and the legacy spellings it still resolves) are the classes themselves.
max_norm = maxnorm = MaxNorm
non_neg = nonneg = NonNeg
unit_norm = unitnorm = UnitNorm
min_max_norm = MinMaxNorm

_REGISTRY: dict[str, Callable] = {
    "MaxNorm": MaxNorm, "max_norm": MaxNorm, "maxnorm": MaxNorm,
    "NonNeg": NonNeg, "non_neg": NonNeg, "nonneg": NonNeg,
    "UnitNorm": UnitNorm, "unit_norm": UnitNorm, "unitnorm": UnitNorm,
    "MinMaxNorm": MinMaxNorm, "min_max_norm": MinMaxNorm,
}


_OBJECTS = KerasObjects("constraint", _REGISTRY, Constraint, identifier_kind="constraint function")
deserialize, get, serialize = _OBJECTS.deserialize, _OBJECTS.get, _OBJECTS.serialize
