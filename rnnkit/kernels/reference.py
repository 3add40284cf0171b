"""The reference time loop: Keras's ``backend.rnn`` semantics, written for clarity.

The input projection of every step is one matrix product before the loop; the loop does
only the recurrent product and the gates (``cell.step``). Every faster path is tested
against this one.

Masking follows Keras: at a masked step the states are carried unchanged and the output
repeats the previous step's output (zeros before the first valid step), or is zeros with
``zero_output_for_mask``. ``go_backwards`` reads the sequence from the end and returns the
outputs in that processing order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch


@dataclass
class LoopResult:
    last_output: torch.Tensor          # (B, H): the output after the last step processed
    outputs: torch.Tensor | None       # (B, T, H) in processing order, when asked for
    states: list[torch.Tensor]         # the states after the last valid step


def run_reference(cell, inputs: torch.Tensor, states: Sequence[torch.Tensor],
                  mask: torch.Tensor | None = None, go_backwards: bool = False,
                  zero_output_for_mask: bool = False, return_sequences: bool = True,
                  input_masks=None, recurrent_masks=None) -> LoopResult:
    """Run ``cell`` over ``inputs`` (B, T, D) from ``states``; ``mask`` is (B, T) bool."""
    xw = cell.project_inputs(inputs, input_masks)
    if go_backwards:
        xw = xw.flip(1)
        mask = None if mask is None else mask.flip(1)
    states = list(states)
    steps = xw.shape[1]
    outputs: list[torch.Tensor] = []
    output = None
    previous = None
    # unbind, not xw[:, t]: backward then stacks the steps' gradients once, where each
    # select would scatter its step into a zeroed copy of all of xw (T² memory traffic)
    for t, xw_t in enumerate(xw.unbind(1)):
        output, new_states = cell.step(xw_t, states, recurrent_masks)
        if mask is not None:
            # (B, 1) for (B, H) states; (B, 1, 1, 1) for a ConvLSTM's (B, F, rows, cols)
            keep = mask[:, t].view((-1,) + (1,) * (output.dim() - 1))
            if previous is None or zero_output_for_mask:
                previous = torch.zeros_like(output)
            output = torch.where(keep, output, previous)
            new_states = [torch.where(keep, new, old) for new, old in zip(new_states, states)]
        states = new_states
        previous = output
        if return_sequences:
            outputs.append(output)
    return LoopResult(output, torch.stack(outputs, dim=1) if return_sequences else None, states)
