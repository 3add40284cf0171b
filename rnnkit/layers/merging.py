"""Layers that merge a list of tensors: ``Concatenate``, ``Add``, ``Subtract``, ``Multiply``,
``Average``, ``Maximum``, ``Minimum``, ``Dot`` (tf.keras 2.12 arguments and configs).

They are called on a list (``Add()([a, b])``). Masks as Keras: the element-wise merges
and ``Concatenate`` give the AND of the inputs' masks (an input without a mask counts as
all valid), ``Dot`` gives none.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import eager
from .base import Layer, _is_symbolic, shape_tuple


def call_on_list(layer: Layer, inputs: Any, kwargs: dict, min_inputs: int = 2) -> Any:
    """``Layer.__call__`` for layers whose first argument is a list of tensors."""
    if _is_symbolic(inputs, kwargs):
        from .keras_tensor import symbolic_call
        return symbolic_call(layer, inputs, (), kwargs)
    if not isinstance(inputs, (list, tuple)) or len(inputs) < min_inputs:
        count = len(inputs) if isinstance(inputs, (list, tuple)) else "1 (not a list)"
        raise ValueError(f'Layer "{layer.name}" ({type(layer).__name__}) should be called on a '
                         f"list of at least {min_inputs} inputs. Received: {count} input(s).")
    xs = [layer._to_tensor(t) for t in inputs]
    mask = kwargs.pop("mask", None)
    if mask is None:
        mask = [getattr(t, "_keras_mask", None) for t in xs]
    params = layer._call_parameters()
    if "training" in params:
        if kwargs.get("training") is None:
            kwargs["training"] = layer.training
    else:
        kwargs.pop("training", None)
    if "mask" in params:
        kwargs["mask"] = mask
    if not layer.built:
        layer._maybe_build([tuple(t.shape) for t in xs])
    outputs = nn.Module.__call__(layer, xs, **kwargs)
    layer._attach_mask(outputs, layer.compute_mask(xs, mask))
    return eager.keras_outputs(inputs, outputs)   # NumPy in: prints as tf.keras 2's tensors


def _and_masks(masks: Sequence[Any], inputs: Sequence[torch.Tensor]) -> Any:
    masks = list(masks or [])
    if not any(m is not None for m in masks):
        return None
    found = None
    for m in masks:
        if m is None:
            continue
        m = torch.as_tensor(np.asarray(m) if not isinstance(m, torch.Tensor) else m).bool()
        found = m if found is None else (found & m)
    return found


class _Merge(Layer):
    """Element-wise merge of same-shaped (or broadcastable) tensors."""

    supports_masking = True

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return call_on_list(self, inputs, kwargs, self._min_inputs)

    _min_inputs = 1

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, (list, tuple)) or not input_shape \
                or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f'A merge layer ("{self.name}") should be called on a list of '
                             f"inputs. Received: input_shape={input_shape}")
        self._output_shape_of(input_shape)
        super().build([shape_tuple(s) for s in input_shape])

    def _output_shape_of(self, shapes: Sequence) -> tuple:
        shapes = [shape_tuple(s) for s in shapes]
        rank = max(len(s) for s in shapes)
        out = []
        for axis in range(1, rank + 1):  # broadcast from the right, as Keras's _Merge
            dims = {s[-axis] for s in shapes if len(s) >= axis and s[-axis] not in (None, 1)}
            if len(dims) > 1:
                raise ValueError(f'Layer "{self.name}": inputs have incompatible shapes. '
                                 f"Received shapes {[tuple(s) for s in shapes]}")
            if dims:
                out.append(dims.pop())
            elif any(len(s) >= axis and s[-axis] is None for s in shapes):
                out.append(None)
            else:
                out.append(1)
        out = tuple(reversed(out))
        batch = {s[0] for s in shapes if s and s[0] is not None}
        return ((batch.pop() if len(batch) == 1 else None),) + out[1:]

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return self._output_shape_of(input_shape)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return _and_masks(mask, inputs)

    def call(self, inputs: list) -> torch.Tensor:
        result = inputs[0]
        for x in inputs[1:]:
            result = self._merge(result, x)
        return result

    def _merge(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class Add(_Merge):
    """``sum(inputs)``."""

    def _merge(self, a, b):
        return a + b


class Multiply(_Merge):
    """``prod(inputs)`` element-wise."""

    def _merge(self, a, b):
        return a * b


class Maximum(_Merge):
    def _merge(self, a, b):
        return torch.maximum(a, b)


class Minimum(_Merge):
    def _merge(self, a, b):
        return torch.minimum(a, b)


class Average(_Merge):
    def call(self, inputs: list) -> torch.Tensor:
        return super().call(inputs) / len(inputs)

    def _merge(self, a, b):
        return a + b


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    _min_inputs = 2

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != 2:
            raise ValueError(f'A `Subtract` layer ("{self.name}") should be called on exactly 2 '
                             f"inputs. Received: {len(input_shape)} inputs.")
        super().build(input_shape)

    def _merge(self, a, b):
        return a - b


class Concatenate(Layer):
    """Joins the inputs along ``axis`` (default the last, the features)."""

    supports_masking = True
    _config_keys = ("axis",)

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return call_on_list(self, inputs, kwargs, 1)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if not isinstance(input_shape, (list, tuple)) or not input_shape \
                or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f'A `Concatenate` layer ("{self.name}") should be called on a list '
                             f"of inputs. Received: input_shape={input_shape}")
        shapes = [shape_tuple(s) for s in input_shape]
        rank = len(shapes[0])
        axis = self.axis % rank if rank else 0
        for s in shapes:
            same = len(s) == rank and all(
                a == b or a is None or b is None
                for i, (a, b) in enumerate(zip(s, shapes[0])) if i != axis)
            if not same:
                raise ValueError(
                    f'A `Concatenate` layer ("{self.name}") requires inputs with matching shapes '
                    f"except for the concatenation axis. Received: input_shape={shapes}")
        size = None if any(s[axis] is None for s in shapes) else sum(s[axis] for s in shapes)
        out = list(shapes[0])
        out[axis] = size
        for i in range(rank):
            if i != axis and out[i] is None:
                out[i] = next((s[i] for s in shapes if s[i] is not None), None)
        return tuple(out)

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        super().build([shape_tuple(s) for s in input_shape])

    def call(self, inputs: list) -> torch.Tensor:
        return torch.cat(list(inputs), dim=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        # Keras: masks of the feature-wise concatenation are AND-ed per step; along another
        # axis they are joined along it.
        if mask is None or not any(m is not None for m in mask):
            return None
        rank = inputs[0].dim()
        axis = self.axis % rank
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = torch.ones(x.shape[:-1] if x.dim() > 1 else x.shape, dtype=torch.bool,
                               device=x.device)
            full.append(torch.as_tensor(m).bool())
        if axis == rank - 1:
            return _and_masks(full, inputs)
        return torch.cat(full, dim=axis)


class Dot(Layer):
    """Batch dot product of two tensors over ``axes`` (``normalize=True``: cosine)."""

    _config_keys = ("axes", "normalize")

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)) or len(axes) != 2 \
                    or not all(isinstance(a, int) for a in axes):
                raise ValueError(f'Dot layer "{self.name}": invalid format for argument `axes`: '
                                 f"expected an int or a list of 2 ints. Received: axes={axes}")
            axes = list(axes)
        self.axes = axes
        self.normalize = bool(normalize)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return call_on_list(self, inputs, kwargs, 2)

    def _axes(self, shapes: Sequence) -> list[int]:
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % len(s) if a < 0 else a for a, s in zip(axes, shapes)]

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(f'A `Dot` layer ("{self.name}") should be called on a list of 2 '
                             f"inputs. Received: input_shape={input_shape}")
        a, b = (shape_tuple(s) for s in input_shape)
        ax, bx = self._axes([a, b])
        if a[ax] is not None and b[bx] is not None and a[ax] != b[bx]:
            raise ValueError(f'Dot layer "{self.name}": incompatible input shapes: axis values '
                             f"{a[ax]} (at axis {ax}) != {b[bx]} (at axis {bx}). Full input "
                             f"shapes: {a}, {b}")
        out = [d for i, d in enumerate(a) if i != ax] + [d for i, d in enumerate(b[1:], 1)
                                                         if i != bx]
        return tuple(out) if len(out) > 1 else (out[0], 1)

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        super().build([shape_tuple(s) for s in input_shape])

    def call(self, inputs: list) -> torch.Tensor:
        x, y = inputs
        ax, ay = self._axes([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x, y = F.normalize(x, dim=ax, eps=1e-12), F.normalize(y, dim=ay, eps=1e-12)
        batch = x.shape[0]
        xm, ym = x.movedim(ax, -1), y.movedim(ay, 1)
        rest_x, rest_y = xm.shape[1:-1], ym.shape[2:]
        k = xm.shape[-1]
        out = torch.bmm(xm.reshape(batch, -1, k), ym.reshape(batch, k, -1))
        out = out.reshape((batch,) + tuple(rest_x) + tuple(rest_y))
        return out.reshape(batch, 1) if out.dim() == 1 else out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None


# ------------------------------------------------------------------ functional helpers
# tf.keras 2's lowercase forms, which tutorials use in functional models:
# `concatenate([a, b])` is `Concatenate()([a, b])`.
def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs: list, **kwargs: Any) -> Any:
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Any:
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Any:
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    return Minimum(**kwargs)(inputs)


def dot(inputs: list, axes: Any, normalize: bool = False, **kwargs: Any) -> Any:
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
