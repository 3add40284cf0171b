"""Shape layers a functional model needs: ``RepeatVector``, ``Reshape``, ``Flatten``.

tf.keras 2.12 arguments and configs; none of them passes a mask on (as in Keras).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from .base import Layer, shape_tuple


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the vector repeated ``n`` times."""

    _input_ndim = 2
    _config_keys = ("n",)

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise TypeError(f'RepeatVector layer "{self.name}": expected an integer value '
                            f"(>= 1) for `n`, got {n!r}.")
        self.n = n

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        shape = shape_tuple(input_shape)
        return (shape[0], self.n, shape[1])

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_mask(self, inputs, mask=None):
        return None


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (no batch axis; one entry may be -1)."""

    _config_keys = ("target_shape",)

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        target = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in target) > 1 or any(d < -1 or d == 0 for d in target):
            raise ValueError(f'Reshape layer "{self.name}": `target_shape` may hold positive '
                             f"sizes and at most one -1; received {tuple(target_shape)}.")
        self.target_shape = target

    def _resolve(self, input_shape: Sequence) -> tuple:
        dims = shape_tuple(input_shape)[1:]
        if any(d is None for d in dims):
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = math.prod(dims)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or total % known:
                raise ValueError(self._mismatch(dims))
            return tuple(total // known if d == -1 else d for d in self.target_shape)
        if known != total:
            raise ValueError(self._mismatch(dims))
        return self.target_shape

    def _mismatch(self, dims: tuple) -> str:
        return (f'Reshape layer "{self.name}": total size of the new array must be unchanged, '
                f"input_shape = {list(dims)}, output_shape = {list(self.target_shape)}")

    def build(self, input_shape: Sequence) -> None:
        self._resolve(input_shape)
        super().build(shape_tuple(input_shape))

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return (shape_tuple(input_shape)[0],) + self._resolve(input_shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        target = self._resolve(tuple(inputs.shape))
        return inputs.reshape((inputs.shape[0],) + target)

    def get_config(self) -> dict:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config

    def compute_mask(self, inputs, mask=None):
        return None


def checked_data_format(layer: Layer, data_format: str | None) -> str:
    """Keras's ``data_format`` argument: ``channels_last`` (the default) or ``channels_first``."""
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}": `data_format` must be '
                         f'"channels_last" or "channels_first", got {data_format!r}.')
    return data_format


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    _config_keys = ("data_format",)

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = checked_data_format(self, data_format)

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        shape = shape_tuple(input_shape)
        if len(shape) < 1:
            raise ValueError(f'Flatten layer "{self.name}" needs a batch axis; received '
                             f"{shape}.")
        rest = shape[1:]
        return (shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)  # Keras: channels go last before flattening
        if inputs.dim() == 1:
            return inputs.unsqueeze(1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_mask(self, inputs, mask=None):
        return None


class Permute(Layer):
    """Reorders the axes after the batch axis: ``Permute((2, 1))`` swaps steps and features
    (``dims`` counts from 1, as Keras, and must be a permutation of ``1..rank - 1``)."""

    _config_keys = ("dims",)

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f'Permute layer "{self.name}": invalid permutation argument '
                             "`dims` for Permute Layer. The set of indices in `dims` must be "
                             f"consecutive and start from 1. Received dims={dims}")
        self.dims = dims
        self._input_ndim = len(dims) + 1

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        shape = shape_tuple(input_shape)
        return (shape[0],) + tuple(shape[d] for d in self.dims)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.permute(0, *self.dims)

    def compute_mask(self, inputs, mask=None):
        return None
