"""rnnkit's own sequence loops for GRU and SimpleRNN, with a hand-written backward.

PyTorch runs ``nn.GRU`` and ``nn.RNN`` on the CPU as a per-step loop of small ops, each
recorded by autograd, and then a backward of as many small ops. These loops run the same
steps without autograd recording inside an ``autograd.Function``: the forward keeps what
the backward needs, and the backward sweeps time in reverse, leaving the weight gradient
to one large matrix product over all steps at the end (as cuDNN and oneDNN do).

The input projection ``x @ kernel + b_in`` stays outside, in ordinary autograd: the
functions take the projected inputs ``xw`` time-major, (T, B, G·H), and return every
step's output as (B, T, H). The gate equations are those of ``rnnkit.layers.cells`` (standard activations:
tanh and sigmoid; relu too for SimpleRNN); ``tests/kernels`` holds the loops equal to the
reference loop, forward and backward.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from .reference import LoopResult


class GRUSequence(torch.autograd.Function):
    """GRU over all steps. ``reset_after=True``: ``b_rec`` is the recurrent bias or None.

    Buffers are time-major (T, B, ...) so that each step reads and writes contiguous rows.
    The backward precomputes, for all steps at once, every factor that does not depend on
    the incoming gradient, which leaves five small ops and one product per step.
    """

    @staticmethod
    def forward(ctx, xw, h0, recurrent_kernel, b_rec, reset_after: bool, last_only: bool = False):
        steps, batch, units = xw.shape[0], xw.shape[1], h0.shape[1]
        x = xw.contiguous()                                       # (T, B, 3H)
        rec = x.new_empty(steps, batch, 3 * units)  # recurrent products; z, r overwrite theirs
        cand = x.new_empty(steps, batch, units)     # the candidate n
        hs = x.new_empty(steps + 1, batch, units)   # h_0 .. h_T
        hs[0] = h0
        # Per-step views made once (unbind) rather than by indexing inside the loop.
        x_zr, x_h = x[..., :2 * units].unbind(0), x[..., 2 * units:].unbind(0)
        rec_all, zr_all = rec.unbind(0), rec[..., :2 * units].unbind(0)
        z_all, r_all = rec[..., :units].unbind(0), rec[..., units:2 * units].unbind(0)
        rh_all, n_all, h_all = rec[..., 2 * units:].unbind(0), cand.unbind(0), hs.unbind(0)
        if reset_after:
            for t in range(steps):
                if b_rec is None:
                    torch.mm(h_all[t], recurrent_kernel, out=rec_all[t])
                else:
                    torch.addmm(b_rec, h_all[t], recurrent_kernel, out=rec_all[t])
                zr_all[t].add_(x_zr[t]).sigmoid_()
                torch.addcmul(x_h[t], r_all[t], rh_all[t], out=n_all[t]).tanh_()
                torch.lerp(n_all[t], h_all[t], z_all[t], out=h_all[t + 1])  # z*h + (1-z)*n
        else:
            u_zr = recurrent_kernel[:, :2 * units].contiguous()
            u_h = recurrent_kernel[:, 2 * units:].contiguous()
            for t in range(steps):
                torch.addmm(x_zr[t], h_all[t], u_zr, out=zr_all[t]).sigmoid_()
                # rh_all keeps r * h_{t-1} here, for the backward
                torch.mul(r_all[t], h_all[t], out=rh_all[t])
                torch.addmm(x_h[t], rh_all[t], u_h, out=n_all[t]).tanh_()
                torch.lerp(n_all[t], h_all[t], z_all[t], out=h_all[t + 1])
        ctx.reset_after = reset_after
        ctx.has_bias = b_rec is not None
        ctx.last_only = last_only
        ctx.save_for_backward(hs, recurrent_kernel, rec, cand)
        return hs[-1] if last_only else hs[1:].transpose(0, 1)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out):
        hs, recurrent_kernel, rec, cand = ctx.saved_tensors
        steps, batch, units = cand.shape
        d_out, dh = _incoming(d_out, ctx.last_only)
        d_xw = torch.empty_like(rec)
        d_kernel = torch.zeros_like(recurrent_kernel)
        d_bias = rec.new_zeros(3 * units) if ctx.has_bias else None
        u_t = recurrent_kernel.t() if ctx.reset_after else recurrent_kernel[:, :2 * units].t()
        u_h_t = recurrent_kernel[:, 2 * units:].t()
        for start, stop in _chunks_backwards(steps, batch * 3 * units * rec.element_size()):
            # Factors that don't depend on the incoming gradient, for a cache-sized chunk.
            previous, n = hs[start:stop], cand[start:stop]
            z, r = rec[start:stop, :, :units], rec[start:stop, :, units:2 * units]
            one_minus_z = 1 - z
            d_n = one_minus_z * (1 - n * n)             # d(pre-activation of n) / dh_t
            d_z = (previous - n) * z * one_minus_z      # d(pre-activation of z) / dh_t
            r_slope = r * (1 - r)
            d_rec = torch.empty_like(rec[start:stop])   # d(recurrent pre-activations)
            if ctx.reset_after:
                # dh_t times these give the recurrent pre-activations' gradients
                to_rec = torch.cat([d_z, d_n * rec[start:stop, :, 2 * units:] * r_slope, d_n * r],
                                   dim=-1).view(stop - start, batch, 3, units)
                for k in range(stop - start - 1, -1, -1):
                    if d_out is not None:
                        dh = dh + d_out[start + k]
                    torch.mul(dh.unsqueeze(1), to_rec[k], out=d_rec[k].view(batch, 3, units))
                    torch.mul(dh, d_n[k], out=d_xw[start + k, :, 2 * units:])
                    dh = torch.addmm(dh * z[k], d_rec[k], u_t)
                d_kernel.addmm_(previous.reshape(-1, units).t(), d_rec.view(-1, 3 * units))
            else:
                to_rec = torch.cat([d_z, d_n], dim=-1).view(stop - start, batch, 2, units)
                r_slope = r_slope * previous
                for k in range(stop - start - 1, -1, -1):
                    if d_out is not None:
                        dh = dh + d_out[start + k]
                    torch.mul(dh.unsqueeze(1), to_rec[k], out=d_rec[k].view(batch, 3, units)[:, ::2])
                    d_reset_h = d_rec[k, :, 2 * units:].mm(u_h_t)
                    torch.mul(d_reset_h, r_slope[k], out=d_rec[k, :, units:2 * units])
                    dh = torch.addmm(torch.addcmul(dh * z[k], d_reset_h, r[k]),
                                     d_rec[k, :, :2 * units], u_t)
                flat = d_rec.view(-1, 3 * units)
                d_kernel[:, :2 * units].addmm_(previous.reshape(-1, units).t(), flat[:, :2 * units])
                # rec's third block holds r * h_{t-1} here (see forward)
                d_kernel[:, 2 * units:].addmm_(rec[start:stop, :, 2 * units:].reshape(-1, units).t(),
                                               flat[:, 2 * units:])
                d_xw[start:stop, :, 2 * units:] = d_rec[..., 2 * units:]
            d_xw[start:stop, :, :2 * units] = d_rec[..., :2 * units]
            if d_bias is not None:
                d_bias += d_rec.sum((0, 1))
        return d_xw, dh, d_kernel, d_bias, None, None


def _incoming(d_out: torch.Tensor, last_only: bool):
    """``(per-step output gradients (T, B, H) or None, the gradient reaching h_T)``.

    With ``last_only`` the loop returned h_T alone: no per-step gradients to add in."""
    if last_only:
        return None, d_out.clone()
    return d_out.transpose(0, 1), torch.zeros_like(d_out[:, 0])


def _chunks_backwards(steps: int, bytes_per_step: int, budget: int = 256 * 1024):
    """``(start, stop)`` spans of time from the end, each about ``budget`` bytes of one buffer.

    The backward computes its per-step factors a chunk at a time, so that they are still in
    cache when the step loop reads them (all at once, long sequences spill to memory).
    """
    size = max(1, min(steps, budget // max(bytes_per_step, 1)))
    stop = steps
    while stop > 0:
        yield max(0, stop - size), stop
        stop -= size


class SimpleRNNSequence(torch.autograd.Function):
    """``h_t = act(xw_t + h_{t-1} @ recurrent_kernel)`` over all steps; act is tanh or relu."""

    @staticmethod
    def forward(ctx, xw, h0, recurrent_kernel, relu: bool, last_only: bool = False):
        steps, batch, units = xw.shape
        x = xw.contiguous()
        hs = x.new_empty(steps + 1, batch, units)
        hs[0] = h0
        x_all, h_all = x.unbind(0), hs.unbind(0)
        for t in range(steps):
            h = torch.addmm(x_all[t], h_all[t], recurrent_kernel, out=h_all[t + 1])
            h.relu_() if relu else h.tanh_()
        ctx.relu, ctx.last_only = relu, last_only
        ctx.save_for_backward(hs, recurrent_kernel)
        return hs[-1] if last_only else hs[1:].transpose(0, 1)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out):
        hs, recurrent_kernel = ctx.saved_tensors
        steps, units = hs.shape[0] - 1, hs.shape[2]
        d_out, dh = _incoming(d_out, ctx.last_only)
        d_pre = torch.empty_like(hs[1:])
        d_kernel = torch.zeros_like(recurrent_kernel)
        u_t = recurrent_kernel.t()
        for start, stop in _chunks_backwards(steps, hs[0].numel() * hs.element_size()):
            out = hs[start + 1:stop + 1]
            # The activation's derivative from its output, for the chunk at once.
            slope = (out > 0).to(out.dtype) if ctx.relu else 1 - out * out
            for k in range(stop - start - 1, -1, -1):
                if d_out is not None:
                    dh = dh + d_out[start + k]
                torch.mul(dh, slope[k], out=d_pre[start + k])
                dh = d_pre[start + k].mm(u_t)
            d_kernel.addmm_(hs[start:stop].reshape(-1, units).t(),
                            d_pre[start:stop].reshape(-1, units))
        return d_pre, dh, d_kernel, None, None


def run_fused_loop(cell, kind: str, inputs, states, go_backwards: bool = False,
                   return_sequences: bool = True, input_masks=None):
    """Run a GRU (``kind="gru"``) or SimpleRNN (``"tanh"``/``"relu"``) cell over ``inputs``."""
    if input_masks is not None:  # one dropout mask for the sequence (select_kernel checks)
        inputs = inputs * input_masks[0].unsqueeze(1)
    # Project in time-major order: the loops read one step's rows contiguously, and the
    # gradient of the projection comes back contiguous for its two large products.
    xw = cell.project_inputs(inputs.transpose(0, 1))
    if go_backwards:
        xw = xw.flip(0)
    h0 = states[0]
    if kind == "gru":
        b_rec = cell.bias[1] if cell.use_bias and cell.reset_after else None
        out = GRUSequence.apply(xw, h0, cell.recurrent_kernel, b_rec, cell.reset_after,
                                not return_sequences)
    else:
        out = SimpleRNNSequence.apply(xw, h0, cell.recurrent_kernel, kind == "relu",
                                      not return_sequences)
    if not return_sequences:  # the loop returned h_T alone
        return LoopResult(out, None, [out])
    last = out[:, -1]
    return LoopResult(last, out, [last])
