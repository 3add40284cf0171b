"""``keras.backend.rnn``: a Python step function looped over the time axis, as Keras 2
custom attention layers and hand-written recurrences call it (``K.rnn(step, inputs,
initial_states)``).

tf.keras 2.12's semantics (``keras/backend.py``), on torch tensors, so autograd trains
through the loop:

- ``step_function(input_t, states)`` gets the states as a tuple, followed by
  ``constants``, and returns ``(output_t, new_states)``; ``inputs`` is a tensor or a list or
  tuple of tensors (``input_t`` has the same structure), and so may ``output_t`` be.
- A masked (step, row) gives the previous step's output (zeros before the first, or zeros
  always with ``zero_output_for_mask``) and keeps the row's states; a non-boolean mask
  counts nonzero as kept.
- ``go_backwards`` walks time from the end and stacks the outputs in that order (the
  mask too); ``return_all_outputs=False`` keeps only the last step's output.
- The returned states are a tuple, except that an unrolled loop without a mask returns
  whatever the last step returned (a list, as most step functions write it).

Pinned by ``tests/fixtures/keras2_backend/rnn_values.npz`` (``record_rnn.py``, tf.keras
2.12). Not copied: tf.keras's extra call of the step function on the first input before the
loop (it only learns the output's shape there), and its unrolled masked loop's zeroing of
outputs with the mask in forward order when ``go_backwards`` is also set.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from .backend_ops import _t

__all__ = ["rnn"]


def _flat(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _like(structure: Any, flat: list) -> Any:
    """``flat`` in ``structure``'s shape: a tensor, or a list or tuple of them."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(flat)
    return flat[0]


def _kept(mask_t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The step's mask (one value a row) broadcastable against ``like`` (batch first)."""
    return mask_t.reshape(mask_t.shape[0], *([1] * (like.dim() - 1)))


def rnn(step_function: Callable, inputs: Any, initial_states: Sequence, go_backwards=False,
        mask=None, constants=None, unroll=False, input_length=None, time_major=False,
        zero_output_for_mask=False, return_all_outputs=True):
    """Iterate ``step_function`` over the time axis of ``inputs``: returns ``(last_output,
    outputs, new_states)``, ``outputs`` (batch, time, ...) (time first with
    ``time_major``). ``input_length`` is accepted for Keras's signature and not needed."""
    flat_inputs = [_t(x) for x in _flat(inputs)]
    axes = "time, batch" if time_major else "batch, time"
    for x in flat_inputs:
        if x.dim() < 3:
            raise ValueError(f"K.rnn: `inputs` must be at least 3-D ({axes}, features...); "
                             f"got a tensor of shape {tuple(x.shape)}.")
    if not time_major:
        flat_inputs = [x.transpose(0, 1) for x in flat_inputs]   # time first from here
    steps = flat_inputs[0].shape[0]
    if any(x.shape[0] != steps for x in flat_inputs):
        raise ValueError("K.rnn: every tensor in `inputs` must have the same number of time "
                         f"steps; got {[x.shape[0] for x in flat_inputs]}.")
    if steps == 0:
        raise ValueError("K.rnn: `inputs` has no time steps.")
    if mask is not None:
        mask = _t(mask)
        mask = mask if mask.dtype == torch.bool else mask != 0
        if not time_major:
            mask = mask.transpose(0, 1)
        if mask.shape[0] != steps or mask.shape[1] != flat_inputs[0].shape[1]:
            raise ValueError(f"K.rnn: `mask` must be ({axes}) to match "
                             f"`inputs`; got shape {tuple(mask.shape)} for "
                             f"{steps} steps of {flat_inputs[0].shape[1]} rows.")
    states: Any = tuple(_t(s) for s in initial_states)
    extra = tuple(_t(c) for c in constants or ())
    outputs: list = []
    previous = None
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        output, new_states = step_function(_like(inputs, [x[t] for x in flat_inputs]),
                                           tuple(states) + extra)
        if mask is not None:
            flat_out = _flat(output)
            if previous is None or zero_output_for_mask:
                previous = [torch.zeros_like(o) for o in flat_out]
            flat_out = [torch.where(_kept(mask[t], o), o, p) for o, p in zip(flat_out, previous)]
            previous = flat_out
            output = _like(output, flat_out)
            new_states = tuple(torch.where(_kept(mask[t], new), new, old)
                               for new, old in zip(_flat(new_states), _flat(states)))
        states = new_states
        if not return_all_outputs:
            outputs.clear()
        outputs.append(output)
    if not (unroll and mask is None):
        states = tuple(_flat(states))
    stacked = [torch.stack(step_outputs) for step_outputs in zip(*(_flat(o) for o in outputs))]
    if not time_major:
        stacked = [o.transpose(0, 1) for o in stacked]
    return outputs[-1], _like(outputs[-1], stacked), states
