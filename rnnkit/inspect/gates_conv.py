"""``gates()`` for the convolutional LSTMs (``ConvLSTM1D/2D/3D``).

The same recording as for the other recurrent layers (``gates.py``): the layer's own cell
runs through the reference loop and hands over its gates ``i, f, o``, candidate
``c_tilde`` and states ``h, c`` at every step. Each is a sequence of images,
``(batch, steps, *spatial, filters)`` (or channels first, as the layer's ``data_format``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..kernels import run_reference
from ..layers.convolutional_recurrent import _ConvLSTM
from .gates import GateTrace, _Recorder


def conv_gates(layer: _ConvLSTM, x: Any, mask: Any = None, initial_state: Any = None
               ) -> GateTrace:
    """``gates(layer, x)`` for a ConvLSTM layer (inference mode, no dropout)."""
    x = layer._to_tensor(x)
    if mask is None:
        mask = getattr(x, "_keras_mask", None)
    layer._check_input(x)
    layer._maybe_build(tuple(x.shape))
    cell = layer.cell
    last = cell.data_format == "channels_last"
    first = x.movedim(-1, 2) if last else x
    batch, steps = first.shape[:2]
    if mask is not None:
        mask = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask,
                               device=x.device).to(torch.bool)
        if tuple(mask.shape) != (batch, steps):
            raise ValueError(f'gates(): the mask for layer "{layer.name}" should have shape '
                             f"(batch, time) = {(batch, steps)}, got {tuple(mask.shape)}.")
    recorder = _Recorder(cell)
    with torch.no_grad():
        states = layer._initial_states(initial_state, batch, first)
        result = run_reference(recorder, first, states, mask=mask,
                               go_backwards=layer.go_backwards, return_sequences=True)

    def layout(seq: torch.Tensor) -> torch.Tensor:  # (B, T, C, *spatial) -> the layer's format
        return seq.movedim(2, -1) if last else seq

    after = recorder.inputs_states[1:] + [list(result.states)]
    state_seq = {name: layout(torch.stack([s[i] for s in after], dim=1))
                 for i, name in enumerate(cell.state_names)}
    step_mask = None if mask is None else (mask.flip(1) if layer.go_backwards else mask)
    gate_seq = {}
    for name in recorder.gates[0]:
        values = torch.stack([g[name] for g in recorder.gates], dim=1)
        if step_mask is not None:  # values the layer discarded
            hidden = ~step_mask.view(step_mask.shape + (1,) * (values.dim() - 2))
            values = values.masked_fill(hidden, float("nan"))
        gate_seq[name] = layout(values)
    time_index = np.arange(steps)[::-1].copy() if layer.go_backwards else np.arange(steps)
    final = [s.movedim(1, -1) if last else s for s in result.states]
    last_output = result.last_output.movedim(1, -1) if last else result.last_output
    return GateTrace(layer.name, type(cell).__name__, time_index, layout(result.outputs),
                     state_seq, gate_seq, step_mask, last_output, final)
