"""The fused path through PyTorch's own RNN kernels: ``torch._VF.lstm / gru / rnn_tanh / rnn_relu``.

These are the kernels behind ``nn.LSTM`` and friends: oneDNN for LSTM on the CPU, cuDNN on
CUDA. The Keras weights are mapped to torch layout by ``torch_layout``, which
keeps them differentiable. The mapped weights are remembered and rebuilt only when a
parameter changes (its version counter moves), so repeated calls don't re-lay-out them.

A right-padded mask runs as a packed sequence; the outputs at padded steps are then filled
in the Keras way (the last valid output, or zeros with ``zero_output_for_mask``).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import torch_layout
from .reference import LoopResult

_VF_FUNCTIONS = {"lstm": "lstm", "gru": "gru", "tanh": "rnn_tanh", "relu": "rnn_relu"}


def torch_weights(cell, kind: str) -> list[torch.Tensor]:
    """The cell's weights in torch layout, remembered until a parameter changes.

    With autograd on they are views of the parameters (differentiable; a training step's
    update bumps the parameters' versions, which makes new ones). With autograd off they
    are contiguous copies, re-laid-out once, not on every call.
    """
    found = cell._parameters  # direct: nn.Module attribute lookup costs µs per weight
    kernel, recurrent_kernel, bias = found["kernel"], found["recurrent_kernel"], found.get("bias")
    params = (kernel, recurrent_kernel) if bias is None else (kernel, recurrent_kernel, bias)
    with_grad = torch.is_grad_enabled() and any(p.requires_grad for p in params)
    key = (kind, with_grad) + tuple((id(p), p._version, p.device, p.dtype) for p in params)
    cached = cell.__dict__.get("_torch_layout_cache")
    if cached is None or cached[0] != key:
        if with_grad:
            weights = _to_torch_layout(kind, kernel, recurrent_kernel, bias)
        else:
            with torch.no_grad():
                weights = [w.contiguous() for w in
                           _to_torch_layout(kind, kernel, recurrent_kernel, bias)]
        cached = (key, weights)
        cell.__dict__["_torch_layout_cache"] = cached
    return cached[1]


def _to_torch_layout(kind: str, kernel, recurrent_kernel, bias) -> list[torch.Tensor]:
    convert = {"lstm": torch_layout.keras_to_torch_lstm, "gru": torch_layout.keras_to_torch_gru,
               "tanh": torch_layout.keras_to_torch_simple_rnn,
               "relu": torch_layout.keras_to_torch_simple_rnn}[kind]
    return [w for w in convert(kernel, recurrent_kernel, bias) if w is not None]


def right_padded_lengths(mask: torch.Tensor) -> torch.Tensor | None:
    """Lengths if ``mask`` (B, T) is right-padded with at least one valid step per row."""
    lengths = mask.sum(dim=1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if bool((lengths == 0).any()) or not bool((mask == (steps < lengths[:, None])).all()):
        return None
    return lengths


def _initial_hx(kind: str, states, inputs: torch.Tensor, units: int, directions: int = 1):
    """torch's ``hx``: (directions, B, H) per state; ``states`` None means zeros."""
    if states is None:  # zeros, made directly in torch's shape
        zeros = inputs.new_zeros(directions, inputs.shape[0], units)
        return (zeros, zeros) if kind == "lstm" else zeros
    per_state = [torch.stack(list(group)) for group in zip(*states)] if directions > 1 \
        else [s.unsqueeze(0) for s in states[0]]
    return tuple(per_state) if kind == "lstm" else per_state[0]


def _fused_call(kind: str, inputs: torch.Tensor, hx, weights: list, mask, bidirectional: bool):
    """One ``torch._VF`` call; a right-padded ``mask`` runs as a packed sequence.

    Returns the outputs (B, T, directions·H; zeros at padded steps) and the final states,
    each (directions, B, H), taken after each row's last valid step.
    """
    function = getattr(torch._VF, _VF_FUNCTIONS[kind])
    has_biases = len(weights) in (4, 8)
    if mask is None:
        result = function(inputs, hx, weights, has_biases, 1, 0.0, False, bidirectional, True)
        return result[0], list(result[1:]), None
    lengths = right_padded_lengths(mask)
    packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
    order, restore = packed.sorted_indices, packed.unsorted_indices
    hx = tuple(h[:, order] for h in hx) if kind == "lstm" else hx[:, order]
    result = function(packed.data, packed.batch_sizes, hx, weights, has_biases, 1, 0.0, False,
                      bidirectional)
    outputs, _ = pad_packed_sequence(packed._replace(data=result[0]), batch_first=True,
                                     total_length=inputs.shape[1])
    return outputs, [s[:, restore] for s in result[1:]], lengths


def run_torch(cell, kind: str, inputs: torch.Tensor, states: Sequence[torch.Tensor] | None,
              mask: torch.Tensor | None = None, go_backwards: bool = False,
              zero_output_for_mask: bool = False, return_sequences: bool = True,
              input_masks=None) -> LoopResult:
    """Run the whole sequence in one fused torch call (``kind``: lstm, gru, tanh or relu).

    ``states`` None means zero initial states."""
    if input_masks is not None:
        inputs = inputs * input_masks[0].unsqueeze(1)
    if go_backwards:
        inputs = inputs.flip(1)
    hx = _initial_hx(kind, None if states is None else [states], inputs, cell.units)
    outputs, finals, lengths = _fused_call(kind, inputs, hx, torch_weights(cell, kind), mask,
                                           bidirectional=False)
    new_states = [s[0] for s in finals]
    if lengths is None:
        return LoopResult(outputs[:, -1], outputs if return_sequences else None, new_states)
    last_valid = outputs[torch.arange(outputs.shape[0], device=outputs.device), lengths - 1]
    if zero_output_for_mask:
        full = lengths == inputs.shape[1]
        last_output = torch.where(full[:, None], last_valid, torch.zeros_like(last_valid))
    else:
        # Keras repeats the last valid output over the padded steps.
        outputs = torch.where(mask[..., None], outputs, last_valid[:, None, :])
        last_output = last_valid
    return LoopResult(last_output, outputs if return_sequences else None, new_states)


def run_torch_bidirectional(forward_cell, backward_cell, kind: str, inputs: torch.Tensor,
                            forward_states=None, backward_states=None, mask=None,
                            return_sequences: bool = True):
    """Keras ``Bidirectional`` (forward layer + ``go_backwards`` copy) as one fused call.

    Returns ``(forward_output, backward_output, forward_states, backward_states)`` with the
    backward sequence already re-aligned to input time, as ``Bidirectional`` merges it. With
    a mask, padded steps output zeros in both directions (Keras's Bidirectional sets
    ``zero_output_for_mask = return_sequences``), and the backward direction starts at each
    row's last valid step, as a reversed, now left-padded sequence does in Keras.
    """
    units = forward_cell.units
    states = None
    if forward_states is not None or backward_states is not None:
        zeros = [inputs.new_zeros(inputs.shape[0], units)] * (2 if kind == "lstm" else 1)
        states = [forward_states or zeros, backward_states or zeros]
    hx = _initial_hx(kind, states, inputs, units, directions=2)
    weights = torch_weights(forward_cell, kind) + torch_weights(backward_cell, kind)
    outputs, finals, _ = _fused_call(kind, inputs, hx, weights, mask, bidirectional=True)
    forward_final = [s[0] for s in finals]
    backward_final = [s[1] for s in finals]
    if return_sequences:
        return outputs[..., :units], outputs[..., units:], forward_final, backward_final
    # The last output of each direction is its final hidden state.
    return forward_final[0], backward_final[0], forward_final, backward_final
