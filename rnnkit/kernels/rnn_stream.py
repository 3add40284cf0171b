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
    if inputs.shape[0] == 1 and not go_backwards:   # (1, T, D) is already (T, 1, D) in memory
        return inputs.contiguous()
    x = inputs.transpose(0, 1)   # one row of the projection per step and row
    return (x.flip(0) if go_backwards else x).contiguous()


def _result(hs: torch.Tensor, steps: int, return_sequences: bool) -> LoopResult:
    """``hs`` (T+1, B, H) holds h_0..h_T."""
    h_last = hs.select(0, steps)   # (cheaper than hs[-1]'s indexing)
    if not return_sequences:
        return LoopResult(h_last, None, [h_last])
    return LoopResult(h_last, hs[1:].transpose(0, 1), [h_last])


def _weights(cell, gru: bool) -> tuple:
    """The C call's weight arguments, remembered on ``cell`` with the packs they point into
    until a parameter changes (its identity or version counter: ``cached_pack``'s rules,
    checked here once for all of them, as every call asks)."""
    found = cell._parameters
    kernel, recurrent, bias = found["kernel"], found["recurrent_kernel"], found.get("bias")
    key = (id(kernel), kernel._version, id(recurrent), recurrent._version,
           None if bias is None else (id(bias), bias._version))
    cached = cell.__dict__.get("_stream_weights")
    if cached is not None and cached[0] == key:
        return cached[1]
    units = cell.units
    packs = [cached_pack(cell, "kernel", kernel)]
    if not gru or cell.reset_after:
        packs += [cached_pack(cell, "recurrent_kernel", recurrent), None]
    else:   # the loop multiplies r * h by U's h columns on their own
        packs += [cached_pack(cell, "recurrent_kernel", recurrent, columns=(0, 2 * units)),
                  cached_pack(cell, "recurrent_kernel_h", recurrent,
                              columns=(2 * units, 3 * units))]
    packs.append(None if bias is None else cached_pack(cell, "bias", bias,
                                                       contiguous_only=True))
    pointers = [None if t is None else t.data_ptr() for t in packs]
    # GRU's bias: b_in (3H,), or with reset_after [b_in, b_rec] (2, 3H): rows 3H floats apart
    b_rec = None if bias is None or not gru or not cell.reset_after else pointers[3] + 4 * 3 * units
    arguments = (*pointers, b_rec)   # kernel, U (or U_zr), U_h or None, b_in, b_rec
    # packs: held while used; the parameters too, so that their id()s cannot be reused by
    # replacements while this entry's key names them
    cell.__dict__["_stream_weights"] = (key, (arguments, packs), (kernel, recurrent, bias))
    return arguments, packs


def run_gru_inference(cell, inputs: torch.Tensor, states, go_backwards: bool = False,
                      return_sequences: bool = True) -> LoopResult:
    """The GRU ``cell`` over ``inputs`` (B, T, D) from ``states`` ``[h0]``; float32 on the
    CPU, no autograd, standard activations (the caller checks)."""
    batch, steps, features = inputs.shape
    units = cell.units
    x = _time_major(inputs, go_backwards)
    (kernel, recurrent, recurrent_h, b_in, b_rec), _ = _weights(cell, gru=True)
    rows, count = steps * batch, batch * units
    # one allocation: h_0..h_T, then the gates (T, B, 3H) and the candidates (T, B, H)
    buffer = torch.empty((steps + 1) * count + rows * 4 * units)
    address = buffer.data_ptr()
    gates = address + 4 * (steps + 1) * count
    h0 = states[0].contiguous()
    native.loops()[0].rnnkit_gru_infer(
        steps, batch, units, features, int(cell.reset_after), x.data_ptr(), kernel, b_in,
        b_rec, recurrent, recurrent_h, h0.data_ptr(), gates, gates + 4 * rows * 3 * units,
        address)
    return _result(buffer[:(steps + 1) * count].view(steps + 1, batch, units), steps,
                   return_sequences)


def run_simple_inference(cell, inputs: torch.Tensor, states, relu: bool,
                         go_backwards: bool = False,
                         return_sequences: bool = True) -> LoopResult:
    """The SimpleRNN ``cell`` (tanh, or relu with ``relu``) over ``inputs`` (B, T, D) from
    ``states`` ``[h0]``; float32 on the CPU, no autograd (the caller checks)."""
    batch, steps, features = inputs.shape
    units = cell.units
    x = _time_major(inputs, go_backwards)
    (kernel, recurrent, _, bias, _), _ = _weights(cell, gru=False)
    hs = torch.empty(steps + 1, batch, units)
    h0 = states[0].contiguous()
    native.loops()[0].rnnkit_simple_infer(steps, batch, units, features, int(relu),
                                          x.data_ptr(), kernel, bias, recurrent,
                                          h0.data_ptr(), hs.data_ptr())
    return _result(hs, steps, return_sequences)
