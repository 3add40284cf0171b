"""Training through the persistent kernels: an ``autograd.Function`` around both.

Forward: the forward kernel, which also keeps every step's output (and the LSTM cell
state). Backward, in three parts (the design of cuDNN, haste and FlashRNN):

1. before the loop, all at once: the recurrent pre-activations ``h_{t-1} @ R`` of every
   step in one matrix product, then the gates and the factors the chain needs;
2. the chain through time in the persistent backward kernel (``triton_backward``);
3. after the loop, all at once: the recurrent kernel's gradient ``Σ_t h_{t-1}ᵀ dz_t`` as
   one matrix product, and the gradients of the projected inputs and the recurrent bias.

The gate equations are those of ``rnnkit.layers.cells`` (standard activations only; the
layer's own kernel selection checks this); the tests hold these gradients equal to
autograd through the reference loop.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from .plan import Plan


def _factors(cell: str, xw, h_prev, rec, outputs, cells, c0, recurrent):
    """The per-step factors of the chain (see ``triton_backward``), and the factor that
    turns the GRU's dh into the gradient of its projected candidate input (else None)."""
    if cell == "tanh":
        return (1 - outputs * outputs).unsqueeze(2), None
    if cell == "relu":
        return (outputs > 0).float().unsqueeze(2), None
    if cell == "lstm":
        gate_i, gate_f, cand, gate_o = (xw + rec).chunk(4, dim=-1)
        gate_i, gate_f, gate_o = gate_i.sigmoid(), gate_f.sigmoid(), gate_o.sigmoid()
        cand = cand.tanh()
        c_prev = torch.cat([c0.unsqueeze(0), cells[:-1]])
        tanh_c = cells.tanh()
        return torch.stack([gate_i * (1 - gate_i) * cand, gate_f * (1 - gate_f) * c_prev,
                            (1 - cand * cand) * gate_i, gate_o * (1 - gate_o) * tanh_c,
                            gate_o * (1 - tanh_c * tanh_c), gate_f], dim=2), None
    if cell == "gru_reset_before":  # rec holds h_{t-1} @ [U_z, U_r] only
        x_z, x_r, x_h = xw.chunk(3, dim=-1)
        r_z, r_r = rec.chunk(2, dim=-1)
        z, r = (x_z + r_z).sigmoid(), (x_r + r_r).sigmoid()
        units = h_prev.shape[-1]
        cand = (x_h + (r * h_prev) @ recurrent[:, 2 * units:]).tanh()
        return torch.stack([(h_prev - cand) * z * (1 - z), h_prev * r * (1 - r),
                            (1 - z) * (1 - cand * cand), z, r], dim=2), None
    # GRU, reset_after=True: rec includes the recurrent bias
    x_z, x_r, x_h = xw.chunk(3, dim=-1)
    r_z, r_r, r_h = rec.chunk(3, dim=-1)
    z, r = (x_z + r_z).sigmoid(), (x_r + r_r).sigmoid()
    cand = (x_h + r * r_h).tanh()
    d_cand = (1 - z) * (1 - cand * cand)        # d h_t / d (candidate pre-activation)
    return torch.stack([(h_prev - cand) * z * (1 - z), d_cand * r_h * r * (1 - r),
                        d_cand * r, z], dim=2), d_cand


class PersistentSequence(torch.autograd.Function):
    """``(outputs (T, B, H), h_T, c_T)`` from ``xw`` (T, B, G·H) time-major, trainable."""

    @staticmethod
    def forward(ctx, xw, h0, c0, recurrent, rec_bias, plan: Plan, step_by_step: bool):
        from .triton_forward import launch

        steps, batch = xw.shape[0], xw.shape[1]
        lstm = plan.cell == "lstm"
        cells = (torch.empty(steps, batch, plan.units, device=xw.device, dtype=torch.float32)
                 if lstm else None)
        outputs, h_last, c_last = launch(plan, xw, recurrent, h0, c0, rec_bias,
                                         step_by_step=step_by_step, cell_sequence=cells)
        ctx.plan, ctx.step_by_step = plan, step_by_step
        ctx.save_for_backward(xw, h0, c0, recurrent, rec_bias, outputs, cells)
        ctx.set_materialize_grads(False)
        return outputs, h_last, c_last

    @staticmethod
    @once_differentiable
    def backward(ctx, d_outputs, d_h_last, d_c_last):
        from .triton_backward import launch_backward

        xw, h0, c0, recurrent, rec_bias, outputs, cells = ctx.saved_tensors
        plan = ctx.plan
        steps, batch, units = outputs.shape
        work = torch.float32
        xw32, rec_w = xw.to(work), recurrent.to(work)
        h_prev = torch.cat([h0.to(work).unsqueeze(0), outputs[:-1].to(work)])
        reset_before = plan.cell == "gru_reset_before"
        # every step's recurrent products in one (GRU reset_after=False: those of z and r)
        gated = rec_w[:, :2 * units] if reset_before else rec_w
        rec = (h_prev.reshape(-1, units) @ gated).view(steps, batch, -1)
        if rec_bias is not None:
            rec = rec + rec_bias.to(work)
        factors, d_cand = _factors(plan.cell, xw32, h_prev, rec, outputs.to(work), cells,
                                   None if c0 is None else c0.to(work), rec_w)
        d_last = d_h_last if d_h_last is not None else torch.zeros_like(h0, dtype=work)
        dz, dh, d_h0, d_c0 = launch_backward(
            plan, factors.contiguous(), recurrent.to(xw.dtype), d_outputs, d_last,
            d_c_last, step_by_step=ctx.step_by_step)
        flat_prev, flat_dz = h_prev.reshape(-1, units), dz.view(-1, dz.shape[-1])
        if reset_before:  # U_h multiplies r ⊙ h_{t-1}, not h_{t-1}
            reset_prev = (factors[:, :, 4] * h_prev).reshape(-1, units)
            d_recurrent = torch.cat([flat_prev.t() @ flat_dz[:, :2 * units],
                                     reset_prev.t() @ flat_dz[:, 2 * units:]], dim=1)
        else:
            d_recurrent = flat_prev.t() @ flat_dz
        d_rec_bias = dz.sum((0, 1)).to(rec_bias.dtype) if rec_bias is not None else None
        d_xw = dz
        if d_cand is not None:  # GRU: the input's candidate part is not gated by r
            d_xw = torch.cat([dz[..., :2 * units], dh * d_cand], dim=-1)
        return (d_xw.to(xw.dtype), d_h0.to(h0.dtype),
                None if d_c0 is None else d_c0.to(c0.dtype),
                d_recurrent.to(recurrent.dtype), d_rec_bias, None, None)
