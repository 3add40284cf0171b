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
    x = inputs.transpose(0, 1)   # time-major: one row of the projection per step and row
    if go_backwards:
        x = x.flip(0)
    x = x.contiguous()
    found = cell._parameters
    packed_kernel = cached_pack(cell, "kernel", found["kernel"])
    packed_recurrent = cached_pack(cell, "recurrent_kernel", found["recurrent_kernel"])
    bias = found.get("bias")
    bias = None if bias is None else cached_pack(cell, "bias", bias, contiguous_only=True)
    g4, rows, count = 4 * units, steps * batch, batch * units
    # One allocation for every buffer: gates, tanh(c), then h_0..h_T and c_0..c_T.
    buffer = torch.empty(rows * (g4 + units) + 2 * (steps + 1) * count)
    hs = buffer[rows * (g4 + units):].view(2, steps + 1, batch, units)
    h0, c0 = (s.contiguous() for s in states)
    native.loops()[0].rnnkit_lstm_infer(
        steps, batch, units, features, x.data_ptr(), packed_kernel.data_ptr(),
        None if bias is None else bias.data_ptr(), packed_recurrent.data_ptr(), h0.data_ptr(),
        c0.data_ptr(), buffer.data_ptr(), hs[0].data_ptr(), hs[1].data_ptr(),
        buffer[rows * g4:].data_ptr())
    outputs = hs[0, 1:].transpose(0, 1)
    return LoopResult(outputs[:, -1], outputs if return_sequences else None,
                      [hs[0, -1], hs[1, -1]])
