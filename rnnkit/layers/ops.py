"""Operations on symbolic tensors: ``x + 1``, ``a * b``, ``-x``, ``seq[:, -1]`` in a model.

tf.keras 2 turns an operator applied to a symbolic tensor into a layer of its own: a
``TFOpLambda`` named after the TensorFlow function (``tf.__operators__.add``,
``tf.math.subtract``, ``tf.math.multiply``, ``tf.math.truediv``, ``tf.math.negative``,
``tf.math.pow``) or, for indexing, a ``SlicingOpLambda`` (``tf.__operators__.getitem``).
They have no weights, print as summary rows of their own and are saved as
``{"function": "math.subtract"}`` with the call's other arguments in the node
(``{"y": ..., "name": None}``, ``{"slice_spec": ...}``). rnnkit builds the same layers.

A file names the operation by that string; rnnkit maps it to a torch function through
the allow-list ``OPS`` below and never resolves a name any other way, so a file cannot
make rnnkit run anything else. As in tf.keras 2 these layers drop masks.

Keras 3 writes the same operations as ``keras.src.ops.numpy`` operations (``Add``,
``Subtract``, ``Multiply``, ``TrueDivide``, ``Negative``, ``Power``, ``GetItem``) whose
nodes hold the positional arguments; ``KERAS3_NAMES`` is that correspondence.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
import torch

from .. import backend
from .base import Layer


class Op(NamedTuple):
    function: Callable[..., torch.Tensor]
    keras3: str  # the Keras 3 operation class (keras.src.ops.numpy)
    binary: bool
    reduction: bool = False  # `function(x, axis, keepdims)`: a `keras.backend` reduction


def _reduction(name: str) -> Callable[..., torch.Tensor]:
    """``tf.math.reduce_<name>(x, axis, keepdims)`` (``axis`` None: every axis)."""
    def reduce(x: torch.Tensor, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        dims = tuple(range(x.dim())) if axis is None else \
            tuple(axis) if isinstance(axis, (list, tuple)) else (int(axis),)
        if name == "mean":
            return x.mean(dim=dims, keepdim=keepdims)
        if name == "sum":
            return x.sum(dim=dims, keepdim=keepdims)
        return (x.amax if name == "max" else x.amin)(dim=dims, keepdim=keepdims)
    return reduce


def _maximum(x: torch.Tensor, y: Any) -> torch.Tensor:
    return torch.maximum(x, torch.as_tensor(y, dtype=x.dtype, device=x.device))


# The TensorFlow symbols (without "tf.") that op layers may name: the operators tf.keras 2
# records, and the public aliases a hand-written `tf.math.add(a, b)` records.
OPS: dict[str, Op] = {
    "__operators__.add": Op(torch.add, "Add", True),
    "math.add": Op(torch.add, "Add", True),
    "math.subtract": Op(torch.sub, "Subtract", True),
    "math.multiply": Op(torch.mul, "Multiply", True),
    "math.truediv": Op(torch.true_divide, "TrueDivide", True),
    "math.divide": Op(torch.true_divide, "TrueDivide", True),
    "math.pow": Op(torch.pow, "Power", True),
    "math.negative": Op(torch.neg, "Negative", False),
    # what `keras.backend` functions record on symbolic tensors (K.mean, K.square, ...)
    "math.maximum": Op(_maximum, "Maximum", True),
    "math.square": Op(torch.square, "Square", False),
    "math.sqrt": Op(torch.sqrt, "Sqrt", False),
    "math.exp": Op(torch.exp, "Exp", False),
    "math.log": Op(torch.log, "Log", False),
    "math.abs": Op(torch.abs, "Absolute", False),
    "math.tanh": Op(torch.tanh, "Tanh", False),
    "math.sigmoid": Op(torch.sigmoid, "Sigmoid", False),
    "math.reduce_mean": Op(_reduction("mean"), "Mean", False, True),
    "math.reduce_sum": Op(_reduction("sum"), "Sum", False, True),
    "math.reduce_max": Op(_reduction("max"), "Max", False, True),
    "math.reduce_min": Op(_reduction("min"), "Min", False, True),
}
GETITEM = "__operators__.getitem"
# Keras 3 operation class -> the symbol tf.keras 2 records for it (reading .keras files).
KERAS3_NAMES = {"Add": "__operators__.add", "Subtract": "math.subtract",
                "Multiply": "math.multiply", "TrueDivide": "math.truediv",
                "Negative": "math.negative", "Power": "math.pow", "GetItem": GETITEM}


def _symbol(function: Any, layer: str) -> str:
    if not isinstance(function, str):
        raise TypeError(f"{layer}: `function` must be the name of a TensorFlow operation "
                        f"such as 'math.subtract'; got {type(function).__name__}. rnnkit "
                        "creates these layers itself when you use operators on symbolic "
                        "tensors; for your own function use rnnkit.layers.Lambda.")
    return function[3:] if function.startswith("tf.") else function


def _as_tensor(value: Any, like: torch.Tensor | None) -> Any:
    """A NumPy array or list as a tensor; a Python number stays a number (torch then keeps
    the other operand's dtype, as TensorFlow converts a constant to it)."""
    if isinstance(value, (torch.Tensor, int, float, bool)) or value is None:
        return value
    array = np.asarray(value)
    dtype = like.dtype if like is not None and array.dtype.kind == "f" else None
    return torch.as_tensor(array, dtype=dtype)


class _OpLayer(Layer):
    """What both op layers share: a weightless layer with a ``function`` symbol."""

    _config_keys = ("function",)

    def __init__(self, function: str, **kwargs: Any) -> None:
        symbol = _symbol(function, type(self).__name__)
        self._check_symbol(symbol)
        if kwargs.get("name") is None:
            kwargs["name"] = backend.unique_object_name("tf." + symbol)
        kwargs.setdefault("autocast", False)  # Keras: op layers never cast their inputs
        super().__init__(**kwargs)
        self.function = symbol
        self.built = True

    def _check_symbol(self, symbol: str) -> None:
        raise NotImplementedError

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        from .keras_tensor import contains_keras_tensor, symbolic_call
        if contains_keras_tensor(inputs, args, kwargs):
            return symbolic_call(self, inputs, args, kwargs)
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        return self.call(inputs, *args, **kwargs)  # no mask on the result, as in tf.keras 2

    def count_params(self) -> int:
        return 0


class TFOpLambda(_OpLayer):
    """An element-wise operation from ``OPS``: ``function(x, y)`` or ``function(x)``."""

    def _check_symbol(self, symbol: str) -> None:
        if symbol not in OPS:
            raise ValueError(f"TFOpLambda: rnnkit does not know the TensorFlow operation "
                             f"'tf.{symbol}'; it supports {', '.join(sorted(OPS))}, "
                             f"and slicing ('{GETITEM}', a SlicingOpLambda).")

    def call(self, x: Any, y: Any = None, name: Any = None, axis: Any = None,
             keepdims: bool = False) -> torch.Tensor:
        op = OPS[self.function]
        if op.reduction:
            return op.function(_as_tensor(x, None), axis, keepdims)
        if not op.binary:
            return op.function(_as_tensor(x, None))
        y = _as_tensor(y, x if isinstance(x, torch.Tensor) else None)
        x = _as_tensor(x, y if isinstance(y, torch.Tensor) else None)
        if not isinstance(x, torch.Tensor):  # `1 - t`: the constant takes the tensor's dtype
            x = torch.as_tensor(x, dtype=y.dtype, device=y.device)
        return op.function(x, y)

    def output_shape_for_call(self, input_shape: Any, kwargs_shapes: dict) -> tuple:
        """The broadcast shape of ``x`` and ``y`` (a number has shape ``()``); a reduction's
        shape without (or with size-1) reduced axes."""
        if OPS[self.function].reduction:
            return reduced_shape(tuple(input_shape), kwargs_shapes.get("axis"),
                                 bool(kwargs_shapes.get("keepdims")), self.name)
        if not OPS[self.function].binary:
            return input_shape
        # A tensor's shape is a tuple; a constant (a number, nested lists) has NumPy's shape.
        shapes = [s if isinstance(s, tuple) else np.shape(s)
                  for s in (input_shape, kwargs_shapes.get("y"))]
        return broadcast_shapes(shapes, self.name)


def reduced_shape(shape: tuple, axis: Any, keepdims: bool, layer: str) -> tuple:
    axes = range(len(shape)) if axis is None else \
        axis if isinstance(axis, (list, tuple)) else [axis]
    try:
        dims = {int(a) % len(shape) for a in axes} if shape else set()
    except (TypeError, ValueError):
        raise ValueError(f'Layer "{layer}": `axis` must be None, an integer or a list of '
                         f"integers; received {axis!r}.") from None
    if keepdims:
        return tuple(1 if i in dims else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in dims)


def broadcast_shapes(shapes: list, layer: str) -> tuple:
    """NumPy broadcasting of Keras shapes (``None`` broadcasts with anything but a clash)."""
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(1, rank + 1):
        dims = [s[-axis] for s in shapes if len(s) >= axis]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f'Layer "{layer}": the operands have incompatible shapes '
                             f"{[tuple(s) for s in shapes]} (they cannot be broadcast).")
        if known:
            out.append(known.pop())
        elif None in dims:
            out.append(None)
        else:
            out.append(1)
    return tuple(reversed(out))


# ------------------------------------------------------------------ slicing
def slice_spec_to_config(key: Any) -> Any:
    """A ``__getitem__`` key as tf.keras 2 writes it: a tuple becomes a list, a slice
    ``{"start", "stop", "step"}``, ``...`` ``{"class_name": "__ellipsis__"}``."""
    if isinstance(key, tuple):
        return [slice_spec_to_config(k) for k in key]
    if isinstance(key, slice):
        return {"start": key.start, "stop": key.stop, "step": key.step}
    if key is Ellipsis:
        return {"class_name": "__ellipsis__"}
    return key


def _index_from_config(item: Any, layer: str) -> Any:
    if isinstance(item, dict):
        if item.get("class_name") == "__ellipsis__":
            return Ellipsis
        if set(item) == {"start", "stop", "step"}:
            parts = [item[k] for k in ("start", "stop", "step")]
            if all(p is None or _is_int(p) for p in parts):
                return slice(*parts)
    if item is None or _is_int(item):
        return item
    raise TypeError(f'Layer "{layer}": unsupported index {item!r}; symbolic tensors take '
                    "integers, slices of integers, `...` and None (a new axis).")


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def slice_spec_from_config(spec: Any, layer: str) -> tuple:
    """The inverse of ``slice_spec_to_config``: a key ready for ``tensor[key]``."""
    items = spec if isinstance(spec, list) else [spec]
    return tuple(_index_from_config(item, layer) for item in items)


def sliced_shape(shape: tuple, key: tuple, layer: str) -> tuple:
    """The shape of ``tensor[key]`` for a tensor of Keras shape ``shape``; a dimension that
    is unknown stays unknown (TensorFlow's static shapes do the same)."""
    consuming = sum(1 for k in key if k is not None and k is not Ellipsis)
    if list(key).count(Ellipsis) > 1:
        raise IndexError(f'Layer "{layer}": an index can only have a single ellipsis (...).')
    if consuming > len(shape):
        raise IndexError(f'Layer "{layer}": too many indices for a tensor of shape {shape} '
                         f"({consuming} indexed dimensions, the tensor has {len(shape)}).")
    fill = [slice(None)] * (len(shape) - consuming)
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + tuple(fill) + key[at + 1:]
    else:
        key = key + tuple(fill)
    out, axis = [], 0
    for item in key:
        if item is None:
            out.append(1)
            continue
        dim = shape[axis]
        axis += 1
        if isinstance(item, slice):
            if item.step == 0:
                raise ValueError(f'Layer "{layer}": slice step cannot be zero.')
            out.append(None if dim is None else len(range(dim)[item]))
        elif dim is not None and not -dim <= item < dim:
            raise IndexError(f'Layer "{layer}": index {item} is out of bounds for axis '
                             f"{axis - 1} with size {dim} (tensor shape {shape}).")
    return tuple(out)


class SlicingOpLambda(_OpLayer):
    """``x[slice_spec]`` (``slice_spec`` in the form ``slice_spec_to_config`` writes)."""

    def _check_symbol(self, symbol: str) -> None:
        if symbol != GETITEM:
            raise ValueError(f"SlicingOpLambda: rnnkit supports only '{GETITEM}' "
                             f"(indexing); got 'tf.{symbol}'.")

    def call(self, x: Any, slice_spec: Any = None) -> torch.Tensor:
        return _as_tensor(x, None)[slice_spec_from_config(slice_spec, self.name)]

    def output_shape_for_call(self, input_shape: Any, kwargs_shapes: dict) -> tuple:
        key = slice_spec_from_config(kwargs_shapes.get("slice_spec"), self.name)
        return sliced_shape(tuple(input_shape), key, self.name)
