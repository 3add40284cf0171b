"""A model built for a declared input shape checks and conforms its data as tf.keras 2 does.

tf.keras 2.12 gives a model whose first layer declares its input (``input_shape``,
``input_length``, ``Input``) the InputSpec ``(None,) + shape[1:]`` with
``allow_last_axis_squeeze``: a trailing 1 is ignored on both sides, the other sizes must
match (so data of another ``input_length`` is refused), and data one axis short of a shape
ending in 1 gets that axis added (``(samples, timesteps)`` for ``input_shape=(timesteps, 1)``).
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import torch


def conform_to_declared_shape(name: str, x: torch.Tensor, declared: Sequence,
                              layers: Sequence[Any]) -> torch.Tensor:
    """``x`` checked against the declared shape and, where Keras adds the last axis, expanded."""
    expected = (None,) + tuple(declared[1:])
    shape = tuple(x.shape)
    found = list(shape[:-1]) if shape and shape[-1] == 1 else list(shape)
    spec = list(expected[:-1]) if expected and expected[-1] == 1 else list(expected)
    for want, got in zip(spec, found):
        if want is not None and want != got:
            raise ValueError(
                f'Input 0 of layer "{name}" is incompatible with the layer: expected '
                f"shape={expected}, found shape={shape}." + _shape_hint(expected, shape, layers))
    if len(shape) == len(expected) - 1 and expected[-1] == 1:
        x = x.unsqueeze(-1)
        if len(expected) == 3 and expected[1] is not None and x.shape[1] != expected[1]:
            warnings.warn(
                f"Model {name!r} was built for inputs of shape {expected} and got {shape}: "
                f"read as {shape[0]} sequences of {shape[1]} step(s). For one sequence of "
                f"{expected[1]} steps, add the batch axis: x[None].", stacklevel=3)
    return x


def _shape_hint(expected: tuple, shape: tuple, layers: Sequence[Any]) -> str:
    first = type(layers[0]).__name__ if layers else ""
    if first == "Embedding" and len(shape) == 2:
        fix = f"input_length={shape[1]}"
    else:
        fix = f"input_shape={tuple(shape[1:])}"
    return (f" The model was built for inputs of shape {expected}: pass data of that shape, or "
            f"build the model for this data with {fix} on the first layer (None in place of "
            "the number of steps accepts any length).")
