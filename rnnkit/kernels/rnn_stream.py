"""GRU and SimpleRNN forwards without autograd in one C call each (``rnnkit_gru_infer``,
``rnnkit_simple_infer`` in ``native/stream_infer.c``), for short inference calls.

The GRU and SimpleRNN twins of ``lstm_stream``: a stateful layer fed one step per call
(batch 1) spends more on the torch ops around the loop (the projection, the biases, the
state copy, the autograd ``Function``) than in its one matrix-vector product. Here the C
library does all of it, with the kernel and recurrent kernel packed once and kept between
calls until a weight changes (``packed.cached_pack``: the parameter's identity and version
counter, as for the LSTM). Results equal ``GRUSequence``'s and ``SimpleRNNSequence``'s
forwards to float32 rounding (the same C loops; the products are the packed ones).
"""
from __future__ import annotations

import torch

from . import native
from .packed import cached_pack
from .reference import LoopResult


def _time_major(inputs: torch.Tensor, go_backwards: bool) -> torch.Tensor:
    batch = inputs.shape[0]
    if batch == 1 and not go_backwards:   # (1, T, D) is already (T, 1, D) in memory
        return inputs.contiguous()
    x = inputs.transpose(0, 1)   # one row of the projection per step and row
    return (x.flip(0) if go_backwards else x).contiguous()


def _result(hs: torch.Tensor, return_sequences: bool) -> LoopResult:
    """``hs`` (T+1, B, H) holds h_0..h_T."""
    h_last = hs[-1]
    if not return_sequences:
        return LoopResult(h_last, None, [h_last])
    return LoopResult(h_last, hs[1:].transpose(0, 1), [h_last])


def run_gru_inference(cell, inputs: torch.Tensor, states, go_backwards: bool = False,
                      return_sequences: bool = True) -> LoopResult:
    """The GRU ``cell`` over ``inputs`` (B, T, D) from ``states`` ``[h0]``; float32 on the
    CPU, no autograd, standard activations (the caller checks)."""
    batch, steps, _ = inputs.shape
    units, reset_after = cell.units, cell.reset_after
    x = _time_major(inputs, go_backwards)
    found = cell._parameters
    kernel, recurrent = found["kernel"], found["recurrent_kernel"]
    packed_kernel = cached_pack(cell, "kernel", kernel)
    if reset_after:
        packed_u, packed_uh = cached_pack(cell, "recurrent_kernel", recurrent), None
    else:   # the loop multiplies r * h by U's h columns on their own
        packed_u = cached_pack(cell, "recurrent_kernel", recurrent, columns=(0, 2 * units))
        packed_uh = cached_pack(cell, "recurrent_kernel_h", recurrent,
                                columns=(2 * units, 3 * units))
    bias = found.get("bias")
    bias = None if bias is None else cached_pack(cell, "bias", bias, contiguous_only=True)
    # bias: b_in (3H,), or with reset_after [b_in, b_rec] (2, 3H): rows 3H floats apart
    b_in = None if bias is None else bias.data_ptr()
    b_rec = None if bias is None or not reset_after else b_in + 4 * 3 * units
    rows, count = steps * batch, batch * units
    # one allocation: h_0..h_T, then the gates (T, B, 3H) and the candidates (T, B, H)
    buffer = torch.empty((steps + 1) * count + rows * 4 * units)
    address = buffer.data_ptr()
    gates = address + 4 * (steps + 1) * count
    h0 = states[0].contiguous()
    native.loops()[0].rnnkit_gru_infer(
        steps, batch, units, x.shape[2], int(reset_after), x.data_ptr(),
        packed_kernel.data_ptr(), b_in, b_rec, packed_u.data_ptr(),
        None if packed_uh is None else packed_uh.data_ptr(), h0.data_ptr(), gates,
        gates + 4 * rows * 3 * units, address)
    return _result(buffer[:(steps + 1) * count].view(steps + 1, batch, units),
                   return_sequences)


def run_simple_inference(cell, inputs: torch.Tensor, states, relu: bool,
                         go_backwards: bool = False,
                         return_sequences: bool = True) -> LoopResult:
    """The SimpleRNN ``cell`` (tanh, or relu with ``relu``) over ``inputs`` (B, T, D) from
    ``states`` ``[h0]``; float32 on the CPU, no autograd (the caller checks)."""
    batch, steps, _ = inputs.shape
    units = cell.units
    x = _time_major(inputs, go_backwards)
    found = cell._parameters
    packed_kernel = cached_pack(cell, "kernel", found["kernel"])
    packed_u = cached_pack(cell, "recurrent_kernel", found["recurrent_kernel"])
    bias = found.get("bias")
    bias = None if bias is None else cached_pack(cell, "bias", bias, contiguous_only=True)
    hs = torch.empty(steps + 1, batch, units)
    h0 = states[0].contiguous()
    native.loops()[0].rnnkit_simple_infer(
        steps, batch, units, x.shape[2], int(relu), x.data_ptr(), packed_kernel.data_ptr(),
        None if bias is None else bias.data_ptr(), packed_u.data_ptr(), h0.data_ptr(),
        hs.data_ptr())
    return _result(hs, return_sequences)
