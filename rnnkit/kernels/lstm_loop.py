"""rnnkit's LSTM loop, every step in C (``native``).

It runs masked LSTMs (torch can only take packed sequences, which on the CPU leave oneDNN
for a loop about five times slower) and unmasked ones where ``lstm_routing.json`` measured
it faster than oneDNN (``select.py``). The input projection is one product written
straight into the gates' buffer; each step adds its recurrent product (rnnkit's packed
AVX2 product, ``native/packed_product.c``; MKL's ``sgemm`` with ``PACKED = False``) and
applies the gates in vectorized passes; the backward sweeps time in reverse a chunk at a
time, leaving the weight gradients to a few large products per chunk. Both run over slices
of the batch on torch's intra-op threads (``native/lstm_calls.c``: a batch's rows are
independent sequences, so the slices never wait for each other). There is no Python
version: without the C loops, LSTMs run on torch or the reference loop. Gate order and
equations are Keras's (``rnnkit.layers.cells.LSTMCell``): i, f, c, o.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import loop_chunks, native
# chunks_backwards is looked up on its module at each call: tests shrink the chunks there
from .loop_chunks import (chunk_weight_gradients, incoming_gradients, native_operands,
                          out_arguments, pointer, project, weight_gradient)
from .packed import pack, stored

# The recurrent products through rnnkit's packed product (packed_product.c) rather than
# MKL's sgemm; a switch for A/B measurements (benchmarks/lstm_loop_ab.py).
PACKED = True


class LSTMSequence(torch.autograd.Function):
    """LSTM over all steps of ``x`` (T, B, D), time-major; ``mask`` (T, B) uint8 or None.
    Returns ``(outputs (B, T, H), c_T)``: masked steps carry h and c (see ``rnnkit_loop``)."""

    @staticmethod
    def forward(ctx, x, h0, c0, recurrent_kernel, kernel, bias, mask):
        steps, batch, units = x.shape[0], x.shape[1], h0.shape[1]
        gates = x.new_empty(steps, batch, 4 * units)
        project(x.reshape(-1, x.shape[2]), kernel, bias, gates.view(-1, 4 * units))
        hs, cs = x.new_empty(2, steps + 1, batch, units).unbind(0)   # h_0..h_T, c_0..c_T
        tanh_c = x.new_empty(steps, batch, units)
        library, sgemm = native.loops()
        if PACKED:   # packing, the initial states and the loop in one C call, on torch's threads
            workspace = x.new_empty(library.rnnkit_packed_size(units, 4 * units, batch))
            h0, c0 = h0.contiguous(), c0.contiguous()
            recurrent, transposed = stored(recurrent_kernel.detach())   # held: C reads it
            library.rnnkit_lstm_forward_call(
                steps, batch, units, recurrent.data_ptr(), transposed, workspace.data_ptr(),
                h0.data_ptr(), c0.data_ptr(), gates.data_ptr(), hs.data_ptr(), cs.data_ptr(),
                tanh_c.data_ptr(), pointer(mask), torch.get_num_threads())
        else:
            recurrent = recurrent_kernel.contiguous()   # held: C reads it during the call
            hs[0], cs[0] = h0, c0
            library.rnnkit_lstm_forward(sgemm, steps, batch, units, recurrent.data_ptr(),
                                        gates.data_ptr(), hs.data_ptr(), cs.data_ptr(),
                                        tanh_c.data_ptr(), pointer(mask), None)
        ctx.has_bias = bias is not None
        ctx.save_for_backward(x, hs, cs, tanh_c, gates, recurrent_kernel, kernel, mask)
        return hs[1:].transpose(0, 1), cs[-1]

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_c_last):
        x, hs, cs, tanh_c, gates, recurrent_kernel, kernel, mask = ctx.saved_tensors
        steps, batch, units = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        wants = ctx.needs_input_grad   # x, h0, c0, recurrent_kernel, kernel, bias, mask
        d_out, dh = native_operands(*incoming_gradients(d_out, False))
        dc = d_c_last.contiguous().clone()
        d_x = torch.empty_like(x) if wants[0] else None
        d_recurrent = weight_gradient(recurrent_kernel, wants[3])
        d_kernel = weight_gradient(kernel, wants[4])
        d_bias = gates.new_zeros(4 * units) if ctx.has_bias and wants[5] else None
        spans = list(loop_chunks.chunks_backwards(steps, batch * 4 * units * gates.element_size()))
        longest = max((stop - start for start, stop in spans), default=0)
        grads_buffer = gates.new_empty(longest, batch, 4 * units)   # reused chunk after chunk
        scratch = torch.empty_like(dh) if mask is not None else None
        library, sgemm = native.loops()
        packed_t = pack(recurrent_kernel, batch, transpose=True) if PACKED else None
        # sgemm reads U itself (the packed product does not: no copy then)
        recurrent = recurrent_kernel if PACKED else recurrent_kernel.contiguous()
        for start, stop in spans:
            grads = grads_buffer[:stop - start]
            out, out_step, out_row = out_arguments(d_out, start)
            step_mask = None if mask is None else mask[start].data_ptr()
            if PACKED:   # over slices of the batch on torch's threads (lstm_calls.c)
                library.rnnkit_lstm_backward_call(
                    stop - start, batch, units, gates[start].data_ptr(), cs[start].data_ptr(),
                    tanh_c[start].data_ptr(), out, out_step, out_row, grads.data_ptr(),
                    dh.data_ptr(), dc.data_ptr(), start > 0 or wants[1], step_mask,
                    pointer(scratch), packed_t.data_ptr(), torch.get_num_threads())
            else:
                library.rnnkit_lstm_backward_chunk(
                    sgemm, stop - start, batch, units, recurrent.data_ptr(),
                    gates[start].data_ptr(), cs[start].data_ptr(), tanh_c[start].data_ptr(), out,
                    out_step, out_row, grads.data_ptr(), dh.data_ptr(), dc.data_ptr(),
                    start > 0 or wants[1], step_mask, pointer(scratch), None)
            chunk_weight_gradients(grads.view(-1, 4 * units), hs[start:stop], x[start:stop],
                                   kernel, d_recurrent, d_kernel, d_bias,
                                   None if d_x is None else d_x[start:stop])
        return (d_x, dh if wants[1] else None, dc if wants[2] else None, d_recurrent, d_kernel,
                d_bias, None)
