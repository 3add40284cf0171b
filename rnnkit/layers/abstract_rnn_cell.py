"""``AbstractRNNCell``: the base class tf.keras 2 documents for a user's own RNN cell.

A subclass defines ``state_size`` (usually as a property), ``build`` and
``call(inputs, states) -> (output, new_states)``; ``RNN(cell)`` runs it over time. As in
tf.keras 2.12 the base class's ``state_size``, ``output_size`` and ``call`` raise
``NotImplementedError``; ``RNN`` then takes the output size from the first state size
(the Keras docs' ``MinimalRNNCell`` defines no ``output_size``). ``get_initial_state``
makes zeros of every state size.
"""
from __future__ import annotations

from typing import Any

import torch

from .base import Layer, dtype_name


class AbstractRNNCell(Layer):
    """Base class of a user-written RNN cell (see the module docstring)."""

    def call(self, inputs: Any, states: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  "`call(inputs, states)` returning `(output, new_states)`.")

    @property
    def state_size(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define `state_size`.")

    @property
    def output_size(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} defines no `output_size`.")

    def get_initial_state(self, inputs: Any = None, batch_size: Any = None,
                          dtype: Any = None) -> Any:
        """Zeros of shape ``(batch_size, size)`` for each state size, nested as
        ``state_size`` (tf.keras 2.12's ``generate_zero_filled_state_for_cell``)."""
        if inputs is not None:
            batch_size = inputs.shape[0]
            dtype = inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError("batch_size and dtype cannot be None while constructing initial "
                             f"state. Received: batch_size={batch_size}, dtype={dtype}")
        if not isinstance(dtype, torch.dtype):
            dtype = getattr(torch, dtype_name(dtype))

        def zeros(size: Any) -> Any:
            if isinstance(size, (list, tuple)) and any(isinstance(s, (list, tuple)) for s in size):
                return type(size)(zeros(s) for s in size)
            dims = list(size) if isinstance(size, (list, tuple)) else [int(size)]
            return torch.zeros([int(batch_size)] + [int(d) for d in dims], dtype=dtype)

        size = self.state_size
        if isinstance(size, (list, tuple)):
            return [zeros(s) for s in size]
        return zeros(size)
