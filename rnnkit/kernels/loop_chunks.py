"""What the C-loop wrappers (``rnnkit_loop``'s GRU and SimpleRNN, ``lstm_loop``'s LSTM)
share: the input projection written into the loop's buffer, the incoming gradients as the
C loops read them, and the backward's chunks of time with their weight-gradient products.
"""
from __future__ import annotations

import torch

# The backward works on chunks of about this many bytes of one (T, B, G·H) buffer: large
# enough that the per-chunk weight-gradient products have a long inner dimension (K =
# chunk steps × batch), small enough that the chunk's buffers stay in cache. Measured.
CHUNK_BYTES = 1024 * 1024


def project(rows, kernel, bias, out):
    """``out = rows @ kernel + bias`` as one product (the bias is added by the GEMM)."""
    if bias is None:
        torch.mm(rows, kernel, out=out)
    else:
        torch.addmm(bias, rows, kernel, out=out)


def native_operands(d_out, dh):
    """The incoming gradients as the C loops read them: rows with unit stride (an expanded
    gradient, e.g. of ``.sum()``, is materialized) and ``dh`` contiguous, updated in place."""
    if d_out is not None and d_out.stride(-1) != 1:
        d_out = d_out.contiguous()
    return d_out, dh.contiguous()


def out_arguments(d_out, start):
    """``(pointer to step start's gradient, step stride, row stride)``, or zeros for none."""
    if d_out is None:
        return None, 0, 0
    return d_out[start].data_ptr(), d_out.stride(0), d_out.stride(1)


def chunk_weight_gradients(rows, previous, x, kernel, d_recurrent, d_kernel, d_bias, d_x):
    """Add one chunk's pre-activation gradients ``rows`` (steps·B, G·H) into the gradients
    of the recurrent kernel (through the chunk's ``previous`` states h_{t-1}), the kernel
    and bias (through the chunk's inputs ``x``), and write the chunk's input gradient
    ``d_x``; None skips one. Large products, once per chunk (see ``chunks_backwards``)."""
    if d_recurrent is not None:
        d_recurrent.addmm_(previous.reshape(-1, previous.shape[-1]).t(), rows)
    if d_kernel is not None:
        d_kernel.addmm_(x.reshape(-1, x.shape[-1]).t(), rows)
    if d_bias is not None:
        d_bias += rows.sum(0)
    if d_x is not None:
        torch.mm(rows, kernel.t(), out=d_x.view(-1, x.shape[-1]))


def weight_gradient(weight, wanted: bool):
    """A zeroed, contiguous buffer for ``weight``'s gradient (None when not ``wanted``).
    Contiguous even where the weight is a transposed view (LSTM and SimpleRNN keep torch's
    layout): MKL adds a chunk's product into a transposed (4H, D) buffer seven times slower
    than into a row-major (D, 4H) one at W2's shape (D = 8)."""
    return weight.new_zeros(weight.shape) if wanted else None


def pointer(tensor):
    return None if tensor is None else tensor.data_ptr()


def incoming_gradients(d_out: torch.Tensor, last_only: bool):
    """``(per-step output gradients (T, B, H) or None, the gradient reaching h_T)``.

    With ``last_only`` the loop returned h_T alone: no per-step gradients to add in."""
    if last_only:
        return None, d_out.clone()
    return d_out.transpose(0, 1), torch.zeros_like(d_out[:, 0])


def chunks_backwards(steps: int, bytes_per_step: int, budget: int = CHUNK_BYTES):
    """``(start, stop)`` spans of time from the end, each about ``budget`` bytes of one buffer.

    The backward computes its per-step factors a chunk at a time, so that they are still in
    cache when the step loop reads them (all at once, long sequences spill to memory), and
    multiplies a chunk's gradients into the weight gradients right after.
    """
    size = max(1, min(steps, budget // max(bytes_per_step, 1)))
    stop = steps
    while stop > 0:
        yield max(0, stop - size), stop
        stop -= size
