"""``AbstractRNNCell`` (tf.keras 2.12): the base class of a user's own recurrent cell.

A subclass defines ``state_size``, ``output_size`` and ``call(inputs, states) -> (output,
new_states)``; ``RNN(cell)`` runs it over time. ``get_initial_state`` gives zero states,
one ``(batch, size)`` tensor per entry of ``state_size``, as Keras's
``generate_zero_filled_state_for_cell``.
"""
from __future__ import annotations

from typing import Any

import torch

from .base import Layer
from .cells import _state_arguments

__all__ = ["AbstractRNNCell"]


class AbstractRNNCell(Layer):
    """Subclass it and define ``state_size``, ``output_size`` and ``call``."""

    @property
    def state_size(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define `state_size`.")

    @property
    def output_size(self) -> Any:
        # an AttributeError, so that `getattr(cell, "output_size", None)` falls back to the
        # state size as for any cell without one
        raise AttributeError(f"{type(self).__name__} defines no `output_size`.")

    def call(self, inputs: torch.Tensor, states: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define "
                                  "`call(inputs, states)`.")

    def get_initial_state(self, inputs: Any = None, batch_size: int | None = None,
                          dtype: Any = None) -> Any:
        batch_size, dtype, device = _state_arguments(self, batch_size, dtype, None, inputs)
        sizes = self.state_size
        flat = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
        states = [torch.zeros((batch_size,) + (tuple(s) if isinstance(s, (list, tuple))
                                               else (int(s),)), dtype=dtype, device=device)
                  for s in flat]
        return states if isinstance(sizes, (list, tuple)) else states[0]
