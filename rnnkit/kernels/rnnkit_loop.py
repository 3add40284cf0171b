"""rnnkit's own sequence loops for GRU and SimpleRNN, with a hand-written backward.

PyTorch runs ``nn.GRU`` and ``nn.RNN`` on the CPU as a per-step loop of small ops, each
recorded by autograd, and then a backward of as many small ops. These loops run the same
steps without autograd recording inside an ``autograd.Function``: the forward keeps what
the backward needs, and the backward sweeps time in reverse, a chunk of steps at a time,
leaving the weight gradients to a few large matrix products per chunk (as cuDNN and oneDNN
do).

The input projection ``x @ kernel + b_in`` is part of the functions (pass ``kernel``, and
``x`` time-major (T, B, D)): the forward projects straight into the buffers the loop
updates in place, and the backward multiplies each chunk's gradients into the kernel's
gradient while they are still in cache. No sequence-sized buffer is made only to be read
once: on the CPU, such a fresh buffer costs page faults (about 15 ms per 40 MB here).
Without ``kernel``, ``x`` is the projected input ``xw`` (T, B, G·H) and its gradient is
returned. The gate equations are those of ``rnnkit.layers.cells`` (standard activations:
tanh and sigmoid; relu too for SimpleRNN); ``tests/kernels`` holds the loops equal to the
reference loop, forward and backward.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import loop_chunks, native, rnn_stream
# chunks_backwards is looked up on its module at each call: tests shrink the chunks there
from .loop_chunks import (chunk_weight_gradients, incoming_gradients, native_operands,
                          out_arguments, pointer, project, weight_gradient)
from .packed import pack
from .reference import LoopResult

# Up to this batch the forward's recurrent products run through rnnkit's packed product
# (native/packed_product.c, U packed once per call) rather than MKL's sgemm, which runs
# generic code for these matrix-vector-like shapes on AMD CPUs (benchmarks/rnn_packed_ab.py,
# 2 loaded cores: 0.71-0.91x of sgemm's time at batch 1-8, H 128-256, 2000 and 500 steps).
# Calls shorter than PACKED_MIN_STEPS keep sgemm: packing from Python costs more than the
# few products it would speed up (W1).
PACKED_BATCH = 8
PACKED_MIN_STEPS = 16
# Inference calls of up to this many rows (batch x steps) run as one C call (rnn_stream)
# when the C loops are at hand.
STREAM_ROWS = 32

class GRUSequence(torch.autograd.Function):
    """GRU over all steps. ``reset_after=True``: ``b_rec`` is the recurrent bias or None.

    ``gates`` (T, B, 3H) holds each step's ``[z | r | c]`` and ``cand`` (T, B, H) its ``n``:
    the input projection is written into ``z, r`` (with ``b_rec``'s z, r part folded in) and
    ``n``, ``c`` is preset to ``b_rec``'s last part; the loop adds the recurrent product in
    place, to ``z, r, c`` (``reset_after=True``: ``c`` is then ``h_{t-1} @ U_h + b_rec_h``;
    one contiguous output per step, the fastest for the product) or to ``z, r``
    (``reset_after=False``; ``c`` then keeps ``r * h_{t-1}``), and the activations overwrite
    their pre-activations. The backward's per-step gradients have columns ``[z | r | c | n]``,
    so the recurrent gradient ``[z | r | c]`` and the input gradient ``[z | r] + [n]`` are both
    column blocks of one buffer: no copies between them.
    """

    @staticmethod
    def forward(ctx, x, h0, recurrent_kernel, b_rec, reset_after: bool,
                last_only: bool = False, kernel=None, b_in=None, mask=None):
        steps, batch, units = x.shape[0], x.shape[1], h0.shape[1]
        gates = x.new_empty(steps, batch, 3 * units)   # [z | r | c], each step contiguous
        cand = x.new_empty(steps, batch, units)        # n
        hs = x.new_empty(steps + 1, batch, units)      # h_0 .. h_T
        hs[0] = h0
        _gru_inputs(gates, cand, x, kernel, b_in, b_rec if reset_after else None, units)
        if native.usable(gates, recurrent_kernel):
            library, sgemm = native.loops()
            recurrent = recurrent_kernel.contiguous()   # held: C reads it during the call
            packed = packed_h = None   # held too
            if batch <= PACKED_BATCH and steps >= PACKED_MIN_STEPS:
                packed, packed_h = (pack(recurrent, batch), None) if reset_after else (
                    pack(recurrent[:, :2 * units], batch), pack(recurrent[:, 2 * units:], batch))
            library.rnnkit_gru_forward(sgemm, steps, batch, units, reset_after,
                                       recurrent.data_ptr(), gates.data_ptr(), cand.data_ptr(),
                                       hs.data_ptr(), pointer(mask), pointer(packed),
                                       pointer(packed_h))
        elif mask is not None:
            raise RuntimeError(_MASK_NEEDS_C)
        else:
            _gru_python_steps(gates, cand, hs, recurrent_kernel, reset_after)
        ctx.reset_after, ctx.last_only = reset_after, last_only
        ctx.has_bias, ctx.has_in_bias = b_rec is not None, b_in is not None
        ctx.save_for_backward(hs, recurrent_kernel, gates, cand,
                              x if kernel is not None else None, kernel, mask)
        return hs[-1] if last_only else hs[1:].transpose(0, 1)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out):
        hs, recurrent_kernel, gates, cand, x, kernel, mask = ctx.saved_tensors
        steps, batch, units = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        wants_x, wants_h0 = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        d_out, dh = incoming_gradients(d_out, ctx.last_only)
        d_x = torch.empty_like(x) if wants_x and kernel is not None else None
        d_xw = gates.new_empty(steps, batch, 3 * units) if kernel is None else None
        # a frozen kernel (no gradient wanted) skips its products
        wants_kernel = kernel is not None and ctx.needs_input_grad[6]
        d_kernel = weight_gradient(kernel, wants_kernel)
        d_recurrent = weight_gradient(recurrent_kernel, ctx.needs_input_grad[2])
        d_sums = gates.new_zeros(4 * units)   # column sums of the gradients: the biases'
        use_native = native.usable(gates, recurrent_kernel)
        if use_native:
            d_out, dh = native_operands(d_out, dh)
            recurrent = recurrent_kernel.contiguous()   # orthogonal kernels start as transposes
        elif ctx.reset_after:
            u_t = recurrent_kernel.t().contiguous()   # a plain operand multiplies faster
        else:
            u_zr_t = recurrent_kernel[:, :2 * units].t().contiguous()
            u_h_t = recurrent_kernel[:, 2 * units:].t().contiguous()
        spans = list(loop_chunks.chunks_backwards(steps, batch * 4 * units * gates.element_size()))
        # Scratch for one chunk, made once and reused: a fresh buffer per chunk would come
        # back from the allocator as fresh pages (page faults) once it is large.
        longest = max((stop - start for start, stop in spans), default=0)
        grads_buffer = gates.new_empty(longest, batch, 4 * units)  # columns [z | r | c | n]
        factors_buffer = gates.new_empty(longest, batch, 4 * units)
        scratch_buffer = gates.new_empty(longest, batch, units)
        one = gates.new_ones(())
        for start, stop in spans:
            size = stop - start
            previous, n = hs[start:stop], cand[start:stop]
            z, r, c = gates[start:stop].split(units, dim=-1)
            grads, factors = grads_buffer[:size], factors_buffer[:size]
            scratch = scratch_buffer[:size]
            # Factors that don't depend on the incoming gradient, for the chunk at once;
            # dh_t times them gives the pre-activations' gradients, columns [z | r | c | n].
            f_z, f_r, f_c, d_n = factors.split(units, dim=-1)
            torch.sub(one, z, out=scratch)                                  # 1 - z
            torch.addcmul(one, n, n, value=-1, out=d_n).mul_(scratch)       # d n_pre / dh_t
            torch.sub(previous, n, out=f_z).mul_(z).mul_(scratch)           # d z_pre / dh_t
            if ctx.reset_after:
                torch.addcmul(r, r, r, value=-1, out=scratch)               # r (1 - r)
                torch.mul(d_n, c, out=f_r).mul_(scratch)
                torch.mul(d_n, r, out=f_c)
            else:  # r's factor needs dh through (r * h) @ U_h first: its slope for now
                torch.addcmul(r, r, r, value=-1, out=scratch).mul_(previous)
            if use_native:
                _native_gru_chunk(ctx.reset_after, recurrent, gates, factors, scratch,
                                  d_out, grads, dh, start, stop, start > 0 or wants_h0, mask)
            elif ctx.reset_after:
                factors, g_all = factors.view(size, batch, 4, units), grads.unbind(0)
                for k in range(size - 1, -1, -1):
                    if d_out is not None:
                        dh = dh + d_out[start + k]
                    torch.mul(dh.unsqueeze(1), factors[k], out=g_all[k].view(batch, 4, units))
                    if start + k > 0 or wants_h0:
                        dh = torch.addmm(dh * z[k], g_all[k][:, :3 * units], u_t)
            else:
                factors, r_slope = factors.view(size, batch, 4, units)[:, :, ::3], scratch
                for k in range(size - 1, -1, -1):
                    if d_out is not None:
                        dh = dh + d_out[start + k]
                    g = grads[k]
                    torch.mul(dh.unsqueeze(1), factors[k], out=g.view(batch, 4, units)[:, ::3])
                    d_reset_h = torch.mm(g[:, 3 * units:], u_h_t, out=g[:, 2 * units:3 * units])
                    torch.mul(d_reset_h, r_slope[k], out=g[:, units:2 * units])
                    if start + k > 0 or wants_h0:
                        dh = torch.addmm(torch.addcmul(dh * z[k], d_reset_h, r[k]),
                                         g[:, :2 * units], u_zr_t)
            flat = grads.view(-1, 4 * units)
            zr, nn = flat[:, :2 * units], flat[:, 3 * units:]
            if d_recurrent is not None:
                h_rows = previous.reshape(-1, units).t()
                if ctx.reset_after:
                    d_recurrent.addmm_(h_rows, flat[:, :3 * units])
                else:
                    d_recurrent[:, :2 * units].addmm_(h_rows, zr)
                    # the gates' c columns hold r * h_{t-1} here (see forward)
                    d_recurrent[:, 2 * units:].addmm_(c.reshape(-1, units).t(), nn)
            if ctx.has_bias or ctx.has_in_bias:
                d_sums += flat.sum(0)
            if kernel is None:
                d_xw[start:stop, :, :2 * units] = grads[..., :2 * units]
                d_xw[start:stop, :, 2 * units:] = grads[..., 3 * units:]
                continue
            if d_kernel is not None:
                x_rows = x[start:stop].reshape(-1, x.shape[2])
                d_kernel[:, :2 * units].addmm_(x_rows.t(), zr)
                d_kernel[:, 2 * units:].addmm_(x_rows.t(), nn)
            if d_x is not None:
                d_rows = d_x[start:stop].view(-1, x.shape[2])
                torch.mm(zr, kernel[:, :2 * units].t(), out=d_rows)
                d_rows.addmm_(nn, kernel[:, 2 * units:].t())
        d_in_bias = torch.cat([d_sums[:2 * units], d_sums[3 * units:]]) if ctx.has_in_bias else None
        d_rec_bias = d_sums[:3 * units] if ctx.has_bias else None
        d_input = d_xw if kernel is None else d_x
        return (d_input, dh if wants_h0 else None, d_recurrent, d_rec_bias, None, None,
                d_kernel, d_in_bias, None)


def _gru_python_steps(gates, cand, hs, recurrent_kernel, reset_after):
    """GRUSequence's step loop in Python (where the C loops are unavailable): the same
    updates of ``gates``, ``cand`` and ``hs`` in place, a few torch ops a step."""
    units = cand.shape[-1]
    # Per-step views made once (unbind) rather than by indexing inside the loop.
    zr_all, z_all = gates[..., :2 * units].unbind(0), gates[..., :units].unbind(0)
    r_all, c_all = gates[..., units:2 * units].unbind(0), gates[..., 2 * units:].unbind(0)
    n_all, h_all = cand.unbind(0), hs.unbind(0)
    if reset_after:
        zrc_all = gates.unbind(0)
        for t in range(len(n_all)):
            zrc_all[t].addmm_(h_all[t], recurrent_kernel)
            zr_all[t].sigmoid_()
            n_all[t].addcmul_(r_all[t], c_all[t]).tanh_()
            torch.lerp(n_all[t], h_all[t], z_all[t], out=h_all[t + 1])  # z*h + (1-z)*n
    else:
        u_zr = recurrent_kernel[:, :2 * units].contiguous()
        u_h = recurrent_kernel[:, 2 * units:].contiguous()
        for t in range(len(n_all)):
            zr_all[t].addmm_(h_all[t], u_zr).sigmoid_()
            torch.mul(r_all[t], h_all[t], out=c_all[t])
            n_all[t].addmm_(c_all[t], u_h).tanh_()
            torch.lerp(n_all[t], h_all[t], z_all[t], out=h_all[t + 1])


def _gru_inputs(gates, n, x, kernel, b_in, b_rec, units):
    """Write the input part of each step's pre-activations into ``gates`` and ``n``.

    ``z, r`` get ``x @ kernel_zr + b_in_zr + b_rec_zr``, ``n`` gets ``x @ kernel_h + b_in_h``
    and ``c`` gets ``b_rec_h`` (zero without it), to which the loop adds ``h @ U`` in place.
    """
    zr, c = gates[..., :2 * units], gates[..., 2 * units:]
    bias = b_in
    if b_rec is not None:
        b_rec_zr = torch.cat([b_rec[:2 * units], b_rec.new_zeros(units)])
        bias = b_rec_zr if bias is None else bias + b_rec_zr
        c.copy_(b_rec[2 * units:].expand_as(c))
    else:
        c.zero_()
    if kernel is None:  # x is already x @ kernel + b_in
        _add_bias(x[..., :2 * units], None if bias is None else bias[:2 * units], zr)
        n.copy_(x[..., 2 * units:])
        return
    rows = x.reshape(-1, x.shape[2])
    project(rows, kernel[:, :2 * units], None if bias is None else bias[:2 * units],
             zr.view(-1, 2 * units))
    project(rows, kernel[:, 2 * units:], None if bias is None else bias[2 * units:],
             n.view(-1, units))


def _add_bias(values, bias, out):
    if bias is None:
        out.copy_(values)
    else:
        torch.add(values, bias, out=out)


def _native_gru_chunk(reset_after, recurrent, gates, factors, r_slope, d_out, grads, dh,
                      start, stop, last_product, mask):
    """GRU's reverse chain over one chunk in C; ``dh`` is updated in place."""
    library, sgemm = native.loops()
    batch, units = dh.shape
    out, out_step, out_row = out_arguments(d_out, start)
    library.rnnkit_gru_backward_chunk(
        sgemm, stop - start, batch, units, reset_after, recurrent.data_ptr(),
        gates[start].data_ptr(), factors.data_ptr(), r_slope.data_ptr(), out, out_step,
        out_row, grads.data_ptr(), dh.data_ptr(), last_product,
        None if mask is None else mask[start].data_ptr())


def _native_simple_chunk(recurrent, slope, d_out, d_pre, dh, start, stop, last_product,
                         mask, scratch):
    """SimpleRNN's reverse chain over one chunk in C; ``dh`` is updated in place."""
    library, sgemm = native.loops()
    batch, units = dh.shape
    out, out_step, out_row = out_arguments(d_out, start)
    library.rnnkit_simple_backward_chunk(
        sgemm, stop - start, batch, units, recurrent.data_ptr(), slope.data_ptr(), out,
        out_step, out_row, d_pre.data_ptr(), dh.data_ptr(), last_product,
        None if mask is None else mask[start].data_ptr(), pointer(scratch))


_MASK_NEEDS_C = ("rnnkit's loops take a mask only in C (select_kernel routes masked calls "
                 "elsewhere when the C loops are unavailable)")


class SimpleRNNSequence(torch.autograd.Function):
    """``h_t = act(xw_t + h_{t-1} @ recurrent_kernel)`` over all steps; act is tanh or relu.

    With ``kernel``, ``xw_t = x_t @ kernel + b_in`` is projected straight into the buffer of
    the states, and each step adds its recurrent product in place.
    """

    @staticmethod
    def forward(ctx, x, h0, recurrent_kernel, relu: bool, last_only: bool = False,
                kernel=None, b_in=None, mask=None):
        steps, batch, units = x.shape[0], x.shape[1], h0.shape[1]
        hs = x.new_empty(steps + 1, batch, units)
        hs.select(0, 0).copy_(h0)   # (cheaper than hs[0] = h0's indexing)
        if kernel is None:
            hs[1:] = x
        else:
            project(x.reshape(-1, x.shape[2]), kernel, b_in, hs[1:].view(-1, units))
        if native.usable(hs, recurrent_kernel):
            library, sgemm = native.loops()
            if batch <= PACKED_BATCH and steps >= PACKED_MIN_STEPS:   # packed where it lies
                recurrent = packed = pack(recurrent_kernel, batch)   # held: C reads it
            else:
                recurrent, packed = recurrent_kernel.contiguous(), None   # held
            library.rnnkit_simple_forward(sgemm, steps, batch, units, relu,
                                          recurrent.data_ptr(), hs.data_ptr(), pointer(mask),
                                          pointer(packed))
        elif mask is not None:
            raise RuntimeError(_MASK_NEEDS_C)
        else:
            h_all = hs.unbind(0)
            for t in range(steps):
                h = h_all[t + 1].addmm_(h_all[t], recurrent_kernel)
                h.relu_() if relu else h.tanh_()
        ctx.relu, ctx.last_only, ctx.has_in_bias = relu, last_only, b_in is not None
        ctx.save_for_backward(hs, recurrent_kernel, x if kernel is not None else None, kernel,
                              mask)
        return hs[-1] if last_only else hs[1:].transpose(0, 1)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out):
        hs, recurrent_kernel, x, kernel, mask = ctx.saved_tensors
        steps, units = hs.shape[0] - 1, hs.shape[2]
        wants_x, wants_h0 = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        d_out, dh = incoming_gradients(d_out, ctx.last_only)
        d_xw = torch.empty_like(hs[1:]) if kernel is None else None
        d_x = torch.empty_like(x) if wants_x and kernel is not None else None
        wants_kernel = kernel is not None and ctx.needs_input_grad[5]
        d_kernel = weight_gradient(kernel, wants_kernel)
        d_bias = hs.new_zeros(units) if ctx.has_in_bias else None
        d_recurrent = weight_gradient(recurrent_kernel, ctx.needs_input_grad[2])
        use_native = native.usable(hs, recurrent_kernel)
        if use_native:
            d_out, dh = native_operands(d_out, dh)
            recurrent = recurrent_kernel.contiguous()   # orthogonal kernels start as transposes
        else:
            u_t = recurrent_kernel.t().contiguous()   # a plain operand multiplies faster
        spans = list(loop_chunks.chunks_backwards(steps, hs[0].numel() * hs.element_size()))
        longest = max((stop - start for start, stop in spans), default=0)
        slope_buffer = hs.new_empty(longest, *hs.shape[1:])   # reused chunk after chunk
        product_scratch = torch.empty_like(dh) if use_native and mask is not None else None
        pre_buffer = hs.new_empty(longest, *hs.shape[1:]) if kernel is not None else None
        for start, stop in spans:
            out, slope = hs[start + 1:stop + 1], slope_buffer[:stop - start]
            # The activation's derivative from its output, for the chunk at once
            # (relu's output is >= 0: its sign is the derivative).
            if ctx.relu:
                torch.sign(out, out=slope)
            else:
                torch.addcmul(hs.new_ones(()), out, out, value=-1, out=slope)
            d_pre = d_xw[start:stop] if kernel is None else pre_buffer[:stop - start]
            if use_native:
                _native_simple_chunk(recurrent, slope, d_out, d_pre, dh, start, stop,
                                     start > 0 or wants_h0, mask, product_scratch)
            else:
                for k in range(stop - start - 1, -1, -1):
                    if d_out is not None:
                        dh = dh + d_out[start + k]
                    torch.mul(dh, slope[k], out=d_pre[k])
                    if start + k > 0 or wants_h0:
                        dh = d_pre[k].mm(u_t)
            if kernel is None:
                if d_recurrent is not None:
                    d_recurrent.addmm_(hs[start:stop].reshape(-1, units).t(), d_pre.view(-1, units))
                continue
            chunk_weight_gradients(d_pre.view(-1, units), hs[start:stop], x[start:stop], kernel,
                                   d_recurrent, d_kernel, d_bias,
                                   None if d_x is None else d_x[start:stop])
        d_input = d_xw if kernel is None else d_x
        return d_input, dh if wants_h0 else None, d_recurrent, None, None, d_kernel, d_bias, None


def _in_c(inputs, cell) -> bool:
    """``native.usable(inputs, cell.recurrent_kernel)`` in a few attribute reads: this runs
    on every short inference call (``Tensor.device.type`` builds a string each time, and a
    parameter read through ``nn.Module.__getattr__`` raises and catches an AttributeError)."""
    return (inputs.dtype is torch.float32 and inputs.is_cpu and native.loops() is not None
            and cell._parameters["recurrent_kernel"].dtype is torch.float32)


def run_rnnkit_loop(cell, kind: str, inputs, states, go_backwards: bool = False,
                    return_sequences: bool = True, input_masks=None, mask=None,
                    zero_output_for_mask: bool = False):
    """Run a GRU (``kind="gru"``), SimpleRNN (``"tanh"``/``"relu"``) or LSTM (``"lstm"``, C
    loop only) cell over ``inputs``.

    ``mask`` (B, T) bool (the C loops only) follows Keras: a masked step keeps the row's
    state; its output repeats the previous output, or is zeros before the row's first valid
    step and, with ``zero_output_for_mask``, at every masked step."""
    if mask is None and input_masks is None and not torch.is_grad_enabled() \
            and inputs.shape[0] * inputs.shape[1] <= STREAM_ROWS \
            and (kind == "lstm" or _in_c(inputs, cell)):
        # short inference calls: one C call, no autograd (rnn_stream; their
        # projection is for a few rows, longer inputs project through MKL in the Functions)
        if kind == "lstm":
            return rnn_stream.run_lstm_inference(cell, inputs, states, go_backwards,
                                                 return_sequences)
        if kind == "gru":
            return rnn_stream.run_gru_inference(cell, inputs, states, go_backwards,
                                                return_sequences)
        return rnn_stream.run_simple_inference(cell, inputs, states, kind == "relu",
                                               go_backwards, return_sequences)
    if input_masks is not None:  # one dropout mask for the sequence (select_kernel checks)
        inputs = inputs * input_masks[0].unsqueeze(1)
    # Time-major and contiguous: a chunk of steps is then one block of rows for the
    # projection and for the kernel's gradient.
    x = inputs.transpose(0, 1)
    if go_backwards:  # index_select makes the reversed copy contiguous (flip keeps strides)
        x = x.index_select(0, torch.arange(x.shape[0] - 1, -1, -1, device=x.device))
    else:
        x = x.contiguous()
    steps_mask = None
    if mask is not None:
        mask = mask.to(torch.bool).flip(1) if go_backwards else mask.to(torch.bool)
        steps_mask = mask.t().contiguous().to(torch.uint8)   # (T, B), as the C loops read it
    last_only = not return_sequences and mask is None and kind != "lstm"
    h0, extra_states = states[0], []
    # the weights read from _parameters: ``cell.kernel`` goes through nn.Module.__getattr__
    # (an AttributeError raised and caught first), a cost tiny calls (W1) notice
    found = cell._parameters
    recurrent, kernel = found["recurrent_kernel"], found["kernel"]
    if kind == "lstm":
        from .lstm_loop import LSTMSequence   # it builds on this module's helpers
        out, c_last = LSTMSequence.apply(x, h0, states[1], recurrent, kernel,
                                         cell._input_bias(), steps_mask)
        extra_states = [c_last]
    elif kind == "gru":
        bias = found.get("bias") if cell.use_bias else None
        b_rec = bias[1] if bias is not None and cell.reset_after else None
        out = GRUSequence.apply(x, h0, recurrent, b_rec, cell.reset_after,
                                last_only, kernel, cell._input_bias(), steps_mask)
    else:   # SimpleRNN's input bias is its bias
        out = SimpleRNNSequence.apply(x, h0, recurrent, kind == "relu", last_only, kernel,
                                      found.get("bias"), steps_mask)
    if last_only:  # the loop returned h_T alone
        return LoopResult(out, None, [out])
    final = out[:, -1]   # the state after the last step (masked steps carried it)
    if mask is not None:
        visible = mask if zero_output_for_mask else mask.cummax(dim=1).values
        out = out * visible.unsqueeze(-1).to(out.dtype)
    last = out[:, -1]
    return LoopResult(last, out if return_sequences else None, [final, *extra_states])
