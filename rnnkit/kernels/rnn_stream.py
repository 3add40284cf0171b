"""LSTM, GRU and SimpleRNN forwards without autograd in one C call each
(``rnnkit_lstm_infer``, ``rnnkit_gru_infer``, ``rnnkit_simple_infer`` in
``native/stream_infer.c``), for short inference calls.

A stateful layer fed one step per call (batch 1: a matrix-vector product a step) spends
more on the torch ops around the loop than in it: the input projection, the biases, the
state copies, the reversal for ``go_backwards``, the outputs' layout and the autograd
``Function`` each cost a few microseconds, and so does every view of a result. Here the C
library does all of it, reading the input where it lies and writing each result into a
tensor of its own, with the kernel and recurrent kernel packed once and kept between calls
until a weight changes (``packed.cached_pack``: the parameter's identity and version
counter). Results equal ``LSTMSequence``'s, ``GRUSequence``'s and ``SimpleRNNSequence``'s
forwards to float32 rounding (the same C loops; the projection is the packed product).
"""
from __future__ import annotations

import torch

from . import native
from .packed import cached_pack
from .reference import LoopResult


def _weights(cell, kind: str, batch: int) -> tuple:
    """The C call's weight arguments for products of ``batch`` rows (the packs' panel width
    depends on it), remembered on ``cell`` with the packs they point into until a parameter
    changes (its identity or version counter: ``cached_pack``'s rules, checked here once for
    all of them, as every call asks)."""
    found = cell._parameters
    kernel, recurrent, bias = found["kernel"], found["recurrent_kernel"], found.get("bias")
    key = (batch, id(kernel), kernel._version, id(recurrent), recurrent._version,
           None if bias is None else (id(bias), bias._version))
    cached = cell.__dict__.get("_stream_weights")
    if cached is not None and cached[0] == key:
        return cached[1]
    units = cell.units
    packs = [cached_pack(cell, "kernel", kernel, rows=batch)]
    if kind != "gru" or cell.reset_after:
        packs += [cached_pack(cell, "recurrent_kernel", recurrent, rows=batch), None]
    else:   # the loop multiplies r * h by U's h columns on their own
        packs += [cached_pack(cell, "recurrent_kernel", recurrent, rows=batch,
                              columns=(0, 2 * units)),
                  cached_pack(cell, "recurrent_kernel_h", recurrent, rows=batch,
                              columns=(2 * units, 3 * units))]
    packs.append(None if bias is None else cached_pack(cell, "bias", bias,
                                                       contiguous_only=True))
    pointers = [None if t is None else t.data_ptr() for t in packs]
    # GRU's bias: b_in (3H,), or with reset_after [b_in, b_rec] (2, 3H): rows 3H floats apart
    b_rec = (pointers[3] + 4 * 3 * units
             if bias is not None and kind == "gru" and cell.reset_after else None)
    arguments = (*pointers, b_rec)   # kernel, U (or U_zr), U_h or None, b_in, b_rec
    # packs: held while used; the parameters too, so that their id()s cannot be reused by
    # replacements while this entry's key names them
    cell.__dict__["_stream_weights"] = (key, arguments, packs, (kernel, recurrent, bias))
    return arguments


def _input(inputs: torch.Tensor) -> tuple:
    """``(tensor, its batch stride, its step stride)``: C reads (B, T, D) where it lies,
    given a contiguous last axis."""
    if inputs.stride(2) != 1:
        inputs = inputs.contiguous()
    return inputs, inputs.stride(0), inputs.stride(1)


def _checked(status: int) -> None:
    if status != 0:
        raise MemoryError("rnnkit: the inference loop could not allocate its buffers")


def run_lstm_inference(cell, inputs: torch.Tensor, states, go_backwards: bool = False,
                       return_sequences: bool = True) -> LoopResult:
    """The LSTM ``cell`` over ``inputs`` (B, T, D) from ``states`` ``[h0, c0]``; float32 on
    the CPU, no autograd (the caller checks)."""
    batch, steps, features = inputs.shape
    units = cell.units
    x, x_batch, x_step = _input(inputs)
    kernel, recurrent, _, bias, _ = _weights(cell, "lstm", batch)
    h0, c0 = states[0].contiguous(), states[1].contiguous()
    h_last, c_last = torch.empty(batch, units), torch.empty(batch, units)
    sequence = torch.empty(batch, steps, units) if return_sequences else None
    _checked(native.loops()[0].rnnkit_lstm_infer(
        steps, batch, units, features, x.data_ptr(), x_batch, x_step, go_backwards, kernel,
        bias, recurrent, h0.data_ptr(), c0.data_ptr(), h_last.data_ptr(), c_last.data_ptr(),
        None if sequence is None else sequence.data_ptr()))
    return LoopResult(h_last, sequence, [h_last, c_last])


def run_gru_inference(cell, inputs: torch.Tensor, states, go_backwards: bool = False,
                      return_sequences: bool = True) -> LoopResult:
    """The GRU ``cell`` over ``inputs`` (B, T, D) from ``states`` ``[h0]``; float32 on the
    CPU, no autograd, standard activations (the caller checks)."""
    batch, steps, features = inputs.shape
    units = cell.units
    x, x_batch, x_step = _input(inputs)
    kernel, recurrent, recurrent_h, b_in, b_rec = _weights(cell, "gru", batch)
    h0 = states[0].contiguous()
    h_last = torch.empty(batch, units)
    sequence = torch.empty(batch, steps, units) if return_sequences else None
    _checked(native.loops()[0].rnnkit_gru_infer(
        steps, batch, units, features, x.data_ptr(), x_batch, x_step, go_backwards,
        cell.reset_after, kernel, b_in, b_rec, recurrent, recurrent_h, h0.data_ptr(),
        h_last.data_ptr(), None if sequence is None else sequence.data_ptr()))
    return LoopResult(h_last, sequence, [h_last])


def run_simple_inference(cell, inputs: torch.Tensor, states, relu: bool,
                         go_backwards: bool = False,
                         return_sequences: bool = True) -> LoopResult:
    """The SimpleRNN ``cell`` (tanh, or relu with ``relu``) over ``inputs`` (B, T, D) from
    ``states`` ``[h0]``; float32 on the CPU, no autograd (the caller checks)."""
    batch, steps, features = inputs.shape
    units = cell.units
    x, x_batch, x_step = _input(inputs)
    kernel, recurrent, _, bias, _ = _weights(cell, "simple", batch)
    h0 = states[0].contiguous()
    h_last = torch.empty(batch, units)
    sequence = torch.empty(batch, steps, units) if return_sequences else None
    _checked(native.loops()[0].rnnkit_simple_infer(
        steps, batch, units, features, x.data_ptr(), x_batch, x_step, go_backwards, relu,
        kernel, bias, recurrent, h0.data_ptr(), h_last.data_ptr(),
        None if sequence is None else sequence.data_ptr()))
    return LoopResult(h_last, sequence, [h_last])
