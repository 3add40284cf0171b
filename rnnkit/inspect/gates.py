"""Gates and states over time: what a recurrent layer computes at every step.

``gates(layer, x)`` runs the layer's own cell through the reference time loop
(``rnnkit.kernels.run_reference``, the loop every fast path is tested against) and asks
the cell's ``step`` to hand over the values it computes on the way (``step_with_gates``).
Nothing here writes an equation: the numbers are the ones the layer computes, which is
what the tests check (outputs and states equal the layer's own, masks and
``go_backwards`` included).

Recorded per step: SimpleRNN the pre-activation ``x_t W + b + h_{t-1} U``; LSTM the gates
``i, f, o``, the candidate ``c_tilde`` and the cell state ``c``; GRU ``z, r`` and the
candidate ``h_tilde``; every layer its hidden state ``h`` and its output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..kernels import run_reference
from ..layers.cells import RecurrentCell
from ..layers.recurrent import RNN

__all__ = ["GateTrace", "gates"]


@dataclass
class GateTrace:
    """What ``gates()`` recorded; every tensor is (batch, steps, units), in processing order.

    ``time_index[k]`` is the input position read at step ``k`` (reversed for
    ``go_backwards``). ``outputs`` is what the layer returns with ``return_sequences=True``;
    ``states`` holds each state (``h``, and ``c`` for an LSTM) after every step; ``gates``
    the cell's intermediate values. At a masked step the layer throws the step's values away
    and carries its state, so the gate values there are NaN. ``initial_states`` are the
    states the first step started from (zeros unless an initial state was given)."""
    layer_name: str
    cell_name: str
    time_index: np.ndarray
    outputs: torch.Tensor
    states: dict[str, torch.Tensor]
    gates: dict[str, torch.Tensor]
    mask: torch.Tensor | None
    last_output: torch.Tensor
    final_states: list[torch.Tensor]
    initial_states: list[torch.Tensor] | None = None

    @property
    def h(self) -> torch.Tensor:
        return self.states["h"]

    def __getitem__(self, name: str) -> torch.Tensor:
        """``trace["f"]``, ``trace["c"]``, ``trace["h"]``: a gate or a state by name."""
        if name in self.gates:
            return self.gates[name]
        if name in self.states:
            return self.states[name]
        raise KeyError(f"{name!r}: this trace of {self.cell_name} has gates "
                       f"{sorted(self.gates)} and states {sorted(self.states)}.")

    def __repr__(self) -> str:
        b, t = self.outputs.shape[:2]
        rest = tuple(self.outputs.shape[2:])  # (units,), or a ConvLSTM's image of filters
        u = rest[0] if len(rest) == 1 else rest
        return (f"GateTrace({self.layer_name!r}, {self.cell_name}, batch={b}, steps={t}, "
                f"units={u}, gates={list(self.gates)}, states={list(self.states)})")


class _Recorder:
    """The cell as the reference loop sees it, keeping what each step computed."""

    def __init__(self, cell: RecurrentCell) -> None:
        self.cell = cell
        self.inputs_states: list[list[torch.Tensor]] = []
        self.gates: list[dict[str, torch.Tensor]] = []

    def project_inputs(self, x: torch.Tensor, masks: Any = None) -> torch.Tensor:
        return self.cell.project_inputs(x, masks)

    def step(self, xw_t: torch.Tensor, states: Any, recurrent_masks: Any = None) -> Any:
        output, new_states, gate_values = self.cell.step_with_gates(xw_t, states,
                                                                   recurrent_masks)
        self.inputs_states.append(list(states))
        self.gates.append(gate_values)
        return output, new_states

    def __getattr__(self, name: str) -> Any:  # anything else the loop may ask the cell for
        return getattr(self.cell, name)


def _check_layer(layer: Any) -> RNN:
    if isinstance(layer, RNN) and isinstance(layer.cell, RecurrentCell):
        return layer
    kind = type(layer).__name__
    hint = ""
    if kind == "Bidirectional":
        hint = " For a Bidirectional layer pass `layer.forward_layer` or `layer.backward_layer`."
    elif hasattr(layer, "layers"):
        hint = (" For a model, pick one of its layers (`model.layers[k]`) and pass it that "
                "layer's input (`rnnkit.inspect.trace(model, x).rows[k].input`).")
    raise TypeError(f"gates() takes one recurrent layer (SimpleRNN, LSTM, GRU, ConvLSTM1D/2D/3D, "
                    f"or RNN with one of their cells); got {kind} {getattr(layer, 'name', '')!r}.{hint}")


def gates(layer: Any, x: Any, mask: Any = None, initial_state: Any = None) -> GateTrace:
    """Run ``layer`` on ``x`` (batch, time, features) and record every step.

    Inference mode (no dropout). ``mask`` (batch, time) defaults to the mask ``x`` carries;
    ``initial_state`` as in a layer call (a stateful layer starts from its stored states,
    which are left untouched)."""
    from ..layers.convolutional_recurrent import _ConvLSTM
    if isinstance(layer, _ConvLSTM):  # images over time: its own recording, same protocol
        from .gates_conv import conv_gates
        return conv_gates(layer, x, mask, initial_state)
    layer = _check_layer(layer)
    x = layer._to_tensor(x)
    if mask is None:
        mask = getattr(x, "_keras_mask", None)
    if x.dim() != 3:
        raise ValueError(f'gates(): layer "{layer.name}" takes a (batch, time, features) input; '
                         f"got shape {tuple(x.shape)}.")
    layer._maybe_build(tuple(x.shape))
    layer._check_input(x)
    if layer.time_major:
        x = x.transpose(0, 1)
    batch, steps, _ = x.shape
    if mask is not None:
        mask = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask,
                               device=x.device).to(torch.bool)
        if tuple(mask.shape) != (batch, steps):
            raise ValueError(f'gates(): the mask for layer "{layer.name}" should have shape '
                             f"(batch, time) = {(batch, steps)}, got {tuple(mask.shape)}.")
    recorder = _Recorder(layer.cell)
    with torch.no_grad():
        states = layer._initial_states(initial_state, batch, x)
        if states is None:  # zeros, as the layer starts without an initial state
            states = layer.cell.get_initial_state(batch, x.dtype, x.device)
        result = run_reference(recorder, x, states, mask=mask, go_backwards=layer.go_backwards,
                               zero_output_for_mask=layer.zero_output_for_mask,
                               return_sequences=True)
    names = layer.cell.state_names
    # The states after step k are the ones step k + 1 started from; the last ones the loop's.
    after = recorder.inputs_states[1:] + [list(result.states)]
    state_seq = {name: torch.stack([s[i] for s in after], dim=1) for i, name in enumerate(names)}
    step_mask = None if mask is None else (mask.flip(1) if layer.go_backwards else mask)
    gate_seq = {}
    for name in recorder.gates[0]:
        values = torch.stack([g[name] for g in recorder.gates], dim=1)
        if step_mask is not None:  # values the layer discarded
            values = values.masked_fill(~step_mask.unsqueeze(-1), float("nan"))
        gate_seq[name] = values
    time_index = np.arange(steps)[::-1].copy() if layer.go_backwards else np.arange(steps)
    return GateTrace(layer.name, type(layer.cell).__name__, time_index, result.outputs,
                     state_seq, gate_seq, step_mask, result.last_output, list(result.states),
                     list(recorder.inputs_states[0]))
