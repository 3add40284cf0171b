"""An LSTM forward without autograd in one C call (``rnnkit_lstm_infer``), for inference.

A stateful layer fed one step per call (batch 1: a matrix-vector product a step) spends
more on the torch ops around the loop than in it: the input projection, the bias, the
state copies and the autograd ``Function`` each cost a few microseconds. Here the C
library does all of it, with the kernel and recurrent kernel packed once and kept between
calls until a weight changes (``packed.cached_pack``). Results equal ``LSTMSequence``'s
forward (the same C loop; the projection is the packed product instead of MKL's).
"""
from __future__ import annotations

import torch

from . import native
from .packed import cached_pack
from .reference import LoopResult


def run_lstm_inference(cell, inputs: torch.Tensor, states, go_backwards: bool = False,
                       return_sequences: bool = True) -> LoopResult:
    """The LSTM ``cell`` over ``inputs`` (B, T, D) from ``states`` ``[h0, c0]``; float32 on
    the CPU, no autograd (the caller checks)."""
    batch, steps, features = inputs.shape
    units = cell.units
    if batch == 1 and not go_backwards:   # (1, T, D) is already (T, 1, D) in memory
        x = inputs.contiguous()
    else:   # time-major: one row of the projection per step and row
        x = inputs.transpose(0, 1)
        x = (x.flip(0) if go_backwards else x).contiguous()
    found = cell._parameters
    packed_kernel = cached_pack(cell, "kernel", found["kernel"])
    packed_recurrent = cached_pack(cell, "recurrent_kernel", found["recurrent_kernel"])
    bias = found.get("bias")
    bias = None if bias is None else cached_pack(cell, "bias", bias, contiguous_only=True)
    g4, rows, count = 4 * units, steps * batch, batch * units
    # One allocation for every buffer: h_0..h_T and c_0..c_T, then the gates and tanh(c);
    # the C call gets addresses into it (4 bytes a float).
    buffer = torch.empty(2 * (steps + 1) * count + rows * (g4 + units))
    address = buffer.data_ptr()
    gates = address + 4 * 2 * (steps + 1) * count
    h0, c0 = states
    h0, c0 = h0.contiguous(), c0.contiguous()
    native.loops()[0].rnnkit_lstm_infer(
        steps, batch, units, features, x.data_ptr(), packed_kernel.data_ptr(),
        None if bias is None else bias.data_ptr(), packed_recurrent.data_ptr(), h0.data_ptr(),
        c0.data_ptr(), gates, address, address + 4 * (steps + 1) * count,
        gates + 4 * rows * g4)
    hs = buffer[:2 * (steps + 1) * count].view(2, steps + 1, batch, units)
    h_last, c_last = hs[:, -1]
    if not return_sequences:
        return LoopResult(h_last, None, [h_last, c_last])
    return LoopResult(h_last, hs[0, 1:].transpose(0, 1), [h_last, c_last])
