"""Keras 2 (tf.keras 2.12) weight regularisers: ``L1``, ``L2``, ``L1L2``.

A regulariser maps a weight to a scalar penalty, ``l1 * sum|w| + l2 * sum(w**2)``, that the
layer adds to its losses. The factors are stored as Keras stores them, cast to floatx, so
``L2(0.01).get_config()`` is ``{"l2": 0.009999999776482582}`` exactly as in a tf.keras 2
``.h5`` file, and the penalty uses the same float32 factor.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import torch

from . import backend
from ._keras_objects import KerasObjects, _instantiate

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2",
           "get", "serialize", "deserialize"]


def _check_penalty_number(x: Any) -> None:
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        raise ValueError(f"Value {x!r} is not a valid regularization penalty number, "
                         "expected an int or float value.")
    if math.isinf(x) or math.isnan(x):
        raise ValueError(f"Value {x} is not a valid regularization penalty number, "
                         "an infinite number or NaN are not valid values.")


def _cast_to_floatx(x: float) -> float:
    # Keras keeps the factor as a floatx NumPy scalar; round-tripping through that dtype
    # reproduces the values (and configs) Keras writes, e.g. 0.01 -> 0.009999999776482582.
    return torch.tensor(float(x), dtype=getattr(torch, backend.floatx())).item()


def _as_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    x = torch.as_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


class Regularizer:
    """Base class: ``__call__(weight) -> scalar tensor``."""

    def __call__(self, x: Any) -> torch.Tensor:
        return _as_tensor(x).new_zeros(())

    def get_config(self) -> dict:
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return _instantiate(cls, config, "regularizer")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``; both factors default to 0 (Keras 2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        l1 = 0.0 if l1 is None else l1
        l2 = 0.0 if l2 is None else l2
        _check_penalty_number(l1)
        _check_penalty_number(l2)
        self.l1 = _cast_to_floatx(l1)
        self.l2 = _cast_to_floatx(l2)

    def __call__(self, x):
        x = _as_tensor(x)
        penalty = x.new_zeros(())
        # Terms with a zero factor are skipped, as Keras does (no 0 * inf = nan surprises).
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self):
        return {"l1": float(self.l1), "l2": float(self.l2)}


class L1(Regularizer):
    """``l1 * sum(|x|)``, default ``l1=0.01``; ``l=`` is accepted as Keras's old spelling."""

    def __init__(self, l1: float = 0.01, **kwargs):
        l1 = kwargs.pop("l", l1)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        l1 = 0.01 if l1 is None else l1
        _check_penalty_number(l1)
        self.l1 = _cast_to_floatx(l1)

    def __call__(self, x):
        return self.l1 * _as_tensor(x).abs().sum()

    def get_config(self):
        return {"l1": float(self.l1)}


class L2(Regularizer):
    """``l2 * sum(x**2)``, default ``l2=0.01``; ``l=`` is accepted as Keras's old spelling."""

    def __init__(self, l2: float = 0.01, **kwargs):
        l2 = kwargs.pop("l", l2)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        l2 = 0.01 if l2 is None else l2
        _check_penalty_number(l2)
        self.l2 = _cast_to_floatx(l2)

    def __call__(self, x):
        return self.l2 * _as_tensor(x).square().sum()

    def get_config(self):
        return {"l2": float(self.l2)}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """``L1L2`` with both factors 0.01: the defaults of the string ``"l1_l2"`` in Keras 2
    (unlike the class, whose defaults are 0)."""
    return L1L2(l1=l1, l2=l2)


# Keras's lower-case aliases are the classes themselves.
l1 = L1
l2 = L2

_REGISTRY: dict[str, Callable] = {
    "L1L2": L1L2, "L1": L1, "L2": L2, "l1": L1, "l2": L2, "l1_l2": l1_l2,
}


_OBJECTS = KerasObjects("regularizer", _REGISTRY, Regularizer)
deserialize, get, serialize = _OBJECTS.deserialize, _OBJECTS.get, _OBJECTS.serialize
