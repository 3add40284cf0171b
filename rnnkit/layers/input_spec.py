"""``InputSpec``: what a layer accepts (rank, sizes of some axes, dtype), as tf.keras 2.

A custom layer sets ``self.input_spec = InputSpec(ndim=3)`` (or a list, one per input) and
every call, eager or on symbolic tensors, checks its inputs against it with tf.keras 2.12's
messages (``Input 0 of layer "att" is incompatible with the layer: expected ndim=3, found
ndim=2. Full shape received: (None, 4)``).
"""
from __future__ import annotations

from typing import Any


class InputSpec:
    """Constraints on one input of a layer (every argument optional)."""

    def __init__(self, dtype: Any = None, shape: Any = None, ndim: int | None = None,
                 max_ndim: int | None = None, min_ndim: int | None = None,
                 axes: dict | None = None, allow_last_axis_squeeze: bool = False,
                 name: str | None = None) -> None:
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (ValueError, TypeError):
            raise TypeError(f"Argument `axes` must be a dict with integer keys. Received: "
                            f"axes={axes}") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim is not None else self.max_ndim) - 1
            if max(self.axes) > max_dim:
                raise ValueError(f"Axis {max(self.axes)} is greater than the maximum allowed "
                                 f"value: {max_dim}")

    def __repr__(self) -> str:
        parts = [f"dtype={self.dtype}" if self.dtype else "",
                 f"shape={self.shape}" if self.shape else "",
                 f"ndim={self.ndim}" if self.ndim is not None else "",
                 f"max_ndim={self.max_ndim}" if self.max_ndim is not None else "",
                 f"min_ndim={self.min_ndim}" if self.min_ndim is not None else "",
                 f"axes={self.axes}" if self.axes else ""]
        return f"InputSpec({', '.join(p for p in parts if p)})"

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}

    @classmethod
    def from_config(cls, config: dict) -> "InputSpec":
        return cls(**config)


def _display(shape: tuple) -> str:
    return str(tuple(shape))


def check_input_spec(specs: Any, shapes: list, layer_name: str) -> None:
    """Raise tf.keras 2.12's ValueError where an input's shape breaks its spec.

    ``shapes`` are the inputs' shapes (tuples with ``None`` for unknown sizes)."""
    if specs is None:
        return
    specs = list(specs) if isinstance(specs, (list, tuple)) else [specs]
    if len(specs) != len(shapes) and len(specs) > 1:
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it '
                         f"received {len(shapes)} input tensors.")
    for index, (spec, shape) in enumerate(zip(specs, shapes)):
        if spec is None or shape is None:
            continue
        head = f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
        rank = len(shape)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and rank != spec.ndim:
            raise ValueError(f"{head}expected ndim={spec.ndim}, found ndim={rank}. Full shape "
                             f"received: {_display(shape)}")
        if spec.max_ndim is not None and rank > spec.max_ndim:
            raise ValueError(f"{head}expected max_ndim={spec.max_ndim}, found ndim={rank}")
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise ValueError(f"{head}expected min_ndim={spec.min_ndim}, found ndim={rank}. "
                             f"Full shape received: {_display(shape)}")
        for axis, value in spec.axes.items():
            if value is None:
                continue
            position = axis if axis >= 0 else rank + axis
            if not 0 <= position < rank or shape[position] not in (value, None):
                raise ValueError(f"{head}expected axis {axis} of input shape to have value "
                                 f"{value}, but received input with shape {_display(shape)}")
        if spec.shape is not None:
            for spec_dim, dim in zip(spec.shape, shape):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    raise ValueError(f"{head}expected shape={spec.shape}, found shape="
                                     f"{_display(shape)}")
