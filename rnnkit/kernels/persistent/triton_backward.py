"""The persistent backward kernel: the one sequential part of backpropagation through time.

Everything in a recurrent layer's backward pass is parallel over time except the
gradient that flows from ``h_t`` back to ``h_{t-1}``. ``autograd.py`` therefore computes,
for all steps at once before the loop, the per-step factors that do not depend on the
incoming gradient (``F``: ``factors`` below), and after the loop the weight gradients as
large matrix products over all steps. This kernel does only the chain, in reverse time:

    dh_t   = (gradient reaching h_t from step t+1) + dy_t
    dc_t   = dc_{t+1} · f_{t+1} + dh_t · P_t                          (LSTM only)
    dz_t,g = dh_t · F_t,g   (LSTM's i, f, c gates: dc_t · F_t,g)      (B, G·H)
    gradient reaching h_{t-1} = dz_t @ Rᵀ + dh_t · D_t                (GRU: D = z)

Program ``p`` owns the same units as in the forward pass and keeps the rows of the
recurrent kernel for them (``R[units, :]``, i.e. its slab of Rᵀ) on chip. It publishes its
units' ``dz_t`` into the output ``dz`` (each step has its own rows there, so no slot is ever
reused) and bumps the arrival counter; the next step waits for every program, reads all of
``dz_t`` and forms its units' share of ``dz_t @ Rᵀ``. The barrier sits at the start of an
iteration, as in the forward kernel, so that one-launch-per-step runs in the interpreter.
Iteration ``s`` handles step ``t = T - 1 - s``; the extra iteration ``s = T`` only forms
the gradient reaching ``h_0``.

Factor layout (``factors`` is (T, B, NF, H) float32), by cell:
tanh/relu ``[F]``; LSTM ``[F_i, F_f, F_c, F_o, P, f]``; GRU ``[F_z, F_r, F_h, D]``;
GRU ``reset_after=False`` ``[F_z, F_r, F_h, z, r]``.

GRU ``reset_after=False`` takes two exchanges a step, as its forward pass does: the
candidate's gradient ``dz_t,h`` goes through ``U_hᵀ`` to give ``d(r ⊙ h_{t-1})`` before the
reset gate's gradient ``dz_t,r = d(r ⊙ h_{t-1}) · F_r`` exists; the gradient reaching
``h_{t-1}`` is then ``[dz_z, dz_r] @ [U_z, U_r]ᵀ + dh_t · z + d(r ⊙ h_{t-1}) · r``.
``d(r ⊙ h)`` of each step is kept in ``reset_gradient`` for the next iteration.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from .plan import Plan
from .triton_forward import _arrive, _gate_tiles, _product, _wait, launch_with_barrier


@triton.jit
def _factor(base, index: tl.constexpr, units, mask):
    return tl.load(base + index * units, mask=mask, other=0.0)


@triton.jit
def persistent_rnn_backward(
        factors, recurrent, stride_rk, stride_rn, d_out, d_last, dz, dh_all, reset_gradient,
        d_h0, d_c0, dc_state, counter, error, step_start, step_stop, steps, batch, units,
        max_polls, CELL: tl.constexpr, GATES: tl.constexpr, NF: tl.constexpr,
        HB: tl.constexpr, HK: tl.constexpr, BB: tl.constexpr, PROGRAMS: tl.constexpr,
        PHASES: tl.constexpr, DOT: tl.constexpr, IEEE: tl.constexpr, SYNC: tl.constexpr,
        HAS_DY: tl.constexpr):
    # CELL: 0 tanh, 1 relu, 2 lstm, 3 gru (reset_after), 4 gru (reset before)
    pid = tl.program_id(0)
    own = pid * HB + tl.arange(0, HB)
    own_ok = own < units
    k = tl.arange(0, HK)
    k_ok = k < units
    b = tl.arange(0, BB)
    b_ok = b < batch
    width = GATES * units
    # Rᵀ's slab: tile g holds R[own, g·H + k] as (HK, HB), resident for all steps.
    w_mask = k_ok[:, None] & own_ok[None, :]
    w_ptrs = recurrent + own[None, :] * stride_rk + k[:, None] * stride_rn
    w0, w1, w2, w3 = _gate_tiles(w_ptrs, w_mask, units * stride_rn, CELL)
    own_mask = b_ok[:, None] & own_ok[None, :]
    full_mask = b_ok[:, None] & k_ok[None, :]
    own_offsets = b[:, None] * units + own[None, :]
    dz_own = b[:, None] * width + own[None, :]                # gate 0 of own units in a dz row
    dz_full = b[:, None] * width + k[None, :]
    slot_size = batch * units
    dc = tl.zeros((BB, HB), tl.float32)
    if CELL == 2:
        dc = tl.load(dc_state + own_offsets, mask=own_mask, other=0.0)
    polls = max_polls * 0
    for s in range(step_start, step_stop):
        t = steps - 1 - s
        # This step's factors and output gradient do not depend on the chain: load them
        # before the wait (masked off in the last iteration, which has no step).
        step_mask = own_mask & ((own[None, :] * 0 + t) >= 0)   # a tensor in the interpreter too
        f_base = factors + (t * batch * NF) * units + b[:, None] * NF * units + own[None, :]
        f0 = _factor(f_base, 0, units, step_mask)
        f1 = f0
        f2 = f0
        f3 = f0
        f4 = f0
        f5 = f0
        if CELL >= 2:
            f1 = _factor(f_base, 1, units, step_mask)
            f2 = _factor(f_base, 2, units, step_mask)
            f3 = _factor(f_base, 3, units, step_mask)
        if CELL == 2:
            f4 = _factor(f_base, 4, units, step_mask)
            f5 = _factor(f_base, 5, units, step_mask)
        if CELL == 4:
            f4 = _factor(f_base, 4, units, step_mask)
        dy = tl.zeros((BB, HB), tl.float32)
        if HAS_DY:
            dy = tl.load(d_out + t * slot_size + own_offsets, mask=step_mask, other=0.0)
        if s == 0:
            dh_next = tl.load(d_last + own_offsets, mask=own_mask, other=0.0)
        else:
            polls = _wait(counter, s * PHASES * PROGRAMS, polls, max_polls, SYNC)
            row = dz + (t + 1) * batch * width
            dh_next = _product(tl.load(row + dz_full, mask=full_mask, other=0.0,
                                       cache_modifier=".cg"), w0, DOT, IEEE)
            if CELL >= 2:
                dh_next += _product(tl.load(row + units + dz_full, mask=full_mask, other=0.0,
                                            cache_modifier=".cg"), w1, DOT, IEEE)
            if CELL == 2 or CELL == 3:
                dh_next += _product(tl.load(row + 2 * units + dz_full, mask=full_mask,
                                            other=0.0, cache_modifier=".cg"), w2, DOT, IEEE)
            if CELL == 2:
                dh_next += _product(tl.load(row + 3 * units + dz_full, mask=full_mask,
                                            other=0.0, cache_modifier=".cg"), w3, DOT, IEEE)
            if CELL >= 3:  # the direct path h_{t+1} = z·h_t + ...: this program's own dh_{t+1}
                f_next = f_base + batch * NF * units
                dh_next += (tl.load(dh_all + (t + 1) * slot_size + own_offsets, mask=own_mask,
                                    other=0.0) * _factor(f_next, 3, units, own_mask))
            if CELL == 4:  # and through r ⊙ h_t
                dh_next += (tl.load(reset_gradient + (t + 1) * slot_size + own_offsets,
                                    mask=own_mask, other=0.0) * _factor(f_next, 4, units, own_mask))
        if t >= 0:
            dh = dh_next + dy
            out_row = dz + t * batch * width + dz_own
            if CELL <= 1:
                tl.store(out_row, dh * f0, mask=own_mask)
            elif CELL == 2:
                dc = dc + dh * f4
                tl.store(out_row, dc * f0, mask=own_mask)
                tl.store(out_row + units, dc * f1, mask=own_mask)
                tl.store(out_row + 2 * units, dc * f2, mask=own_mask)
                tl.store(out_row + 3 * units, dh * f3, mask=own_mask)
                dc = dc * f5                      # through c_t = f·c_{t-1} + ...
            elif CELL == 3:
                tl.store(out_row, dh * f0, mask=own_mask)
                tl.store(out_row + units, dh * f1, mask=own_mask)
                tl.store(out_row + 2 * units, dh * f2, mask=own_mask)
            else:  # phase 0 publishes dz_z and the candidate's dz_h
                tl.store(out_row, dh * f0, mask=own_mask)
                tl.store(out_row + 2 * units, dh * f2, mask=own_mask)
            tl.store(dh_all + t * slot_size + own_offsets, dh, mask=own_mask)
            _arrive(counter, SYNC)
            if CELL == 4:  # phase 1: d(r ⊙ h_{t-1}) = dz_h @ U_hᵀ needs every unit's dz_h
                polls = _wait(counter, (s * PHASES + 1) * PROGRAMS, polls, max_polls, SYNC)
                candidate_row = dz + t * batch * width + 2 * units
                d_reset = _product(tl.load(candidate_row + dz_full, mask=full_mask, other=0.0,
                                           cache_modifier=".cg"), w2, DOT, IEEE)
                tl.store(out_row + units, d_reset * f1, mask=own_mask)
                tl.store(reset_gradient + t * slot_size + own_offsets, d_reset, mask=own_mask)
                _arrive(counter, SYNC)
        else:
            tl.store(d_h0 + own_offsets, dh_next, mask=own_mask)
            if CELL == 2:
                tl.store(d_c0 + own_offsets, dc, mask=own_mask)
    if CELL == 2:
        tl.store(dc_state + own_offsets, dc, mask=own_mask)
    if SYNC:
        if polls >= max_polls:
            tl.atomic_max(error, 1)


def launch_backward(plan: Plan, factors: torch.Tensor, recurrent: torch.Tensor,
                    d_out: torch.Tensor | None, d_last: torch.Tensor,
                    d_cell_last: torch.Tensor | None, step_by_step: bool = False,
                    max_polls: int = 1 << 26):
    """Run the chain: ``(dz (T, B, G·H), dh (T, B, H), d_h0, d_c0 or None)``, float32.

    ``factors`` (T, B, NF, H) float32 (see the module docstring); ``recurrent`` the
    Keras-layout recurrent kernel; ``d_out`` the per-step output gradients (T, B, H) or
    None; ``d_last`` / ``d_cell_last`` the gradients reaching the final h / c."""
    steps, batch = factors.shape[0], factors.shape[1]
    units, device = plan.units, factors.device
    dtype = recurrent.dtype
    dz = torch.empty(steps, batch, plan.gates * units, device=device, dtype=torch.float32)
    dh_all = torch.empty(steps, batch, units, device=device, dtype=torch.float32)
    d_h0 = torch.empty(batch, units, device=device, dtype=torch.float32)
    lstm = plan.cell == "lstm"
    d_c0 = torch.empty_like(d_h0) if lstm else d_h0
    reset_gradient = torch.empty_like(dh_all) if plan.cell == "gru_reset_before" else dh_all
    dc_state = (d_cell_last.float().clone() if lstm and d_cell_last is not None
                else torch.zeros(batch, units, device=device, dtype=torch.float32))
    d_out = d_out.float().contiguous() if d_out is not None else None
    d_last = d_last.float().contiguous()
    constants = plan.backward_constants(dtype, d_out is not None)

    def launch_span(grid, start, stop, counter, error, **options):
        persistent_rnn_backward[grid](
            factors, recurrent, recurrent.stride(0), recurrent.stride(1),
            d_out if d_out is not None else dh_all, d_last, dz, dh_all, reset_gradient, d_h0,
            d_c0, dc_state, counter, error, start, stop, steps, batch, units, max_polls,
            **constants, **options)

    # iterations 0..T: the last one only forms the gradient reaching h_0
    launch_with_barrier(plan, device, steps + 1, step_by_step, max_polls, "backward",
                        launch_span)
    return dz, dh_all, d_h0, (d_c0 if lstm else None)
