"""The persistent forward kernel in Triton, and its launcher.

One launch runs every step of one layer. Program ``p`` (``plan.py`` has the partition):

1. loads its slab of the recurrent kernel once, before the time loop (it stays on chip);
2. each step waits until the arrival counter shows that every program published
   ``h_{t-1}`` (acquire), reads all of ``h_{t-1}`` from slot ``t % 2`` of the exchange
   buffer bypassing L1, computes its units' gates and ``h_t``, writes them to slot
   ``(t + 1) % 2`` and to the output, then adds one to the counter (release);
3. keeps the LSTM cell state of its units in registers, in float32, for all steps.

The input projection ``x @ kernel + b`` for all steps is one cuBLAS product before the
launch. Two slots suffice: a program can only overwrite slot ``t % 2`` at step ``t + 1``,
after every program has arrived from step ``t``, i.e. finished reading it (the simulator
checks this protocol under arbitrary interleavings). The counter only grows, so it never
needs a reset inside the kernel. A wait gives up after ``max_polls`` polls in all and sets
an error flag that the launcher turns into an exception, instead of hanging the GPU.

Under ``TRITON_INTERPRET=1`` (CPU, tests) programs run one after another, so a wait on
another program can never end: run there with one program, or one step per launch
(``step_by_step``), which the launcher offers for exactly that.

Accumulation and the exchange are float32 whatever the input dtype; tl.dot takes bf16 /
fp16 operands as they are and fp32 ones in IEEE precision (not TF32), so float32 results
match the reference to rounding.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from .plan import Plan


@triton.jit
def _sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def _tanh(x):
    # tanh through exp: libdevice calls don't run in the interpreter; 2σ(2x) − 1 is exact
    # to float32 rounding away from 0 and keeps its absolute error at 1e-7 near it.
    return 2.0 * _sigmoid(2.0 * x) - 1.0


@triton.jit
def _product(h, w, DOT: tl.constexpr, IEEE: tl.constexpr):
    """h (BB, HK) float32 @ w (HK, HB): tensor cores, or broadcast-multiply and sum."""
    if DOT:
        if IEEE:
            out = tl.dot(h, w, input_precision="ieee")
        else:
            out = tl.dot(h.to(w.dtype), w)
    else:
        out = tl.sum(h[:, :, None] * w[None, :, :].to(tl.float32), axis=1)
    return out


@triton.jit
def _gate_tiles(w_ptrs, w_mask, gate_stride, CELL: tl.constexpr):
    """One (HK, HB) tile of the recurrent kernel per gate, gate g at ``w_ptrs + g·gate_stride``
    (tiles a cell lacks repeat the first; they are never used)."""
    w0 = tl.load(w_ptrs, mask=w_mask, other=0.0)
    w1 = w0
    w2 = w0
    w3 = w0
    if CELL >= 2:
        w1 = tl.load(w_ptrs + gate_stride, mask=w_mask, other=0.0)
        w2 = tl.load(w_ptrs + 2 * gate_stride, mask=w_mask, other=0.0)
    if CELL == 2:
        w3 = tl.load(w_ptrs + 3 * gate_stride, mask=w_mask, other=0.0)
    return w0, w1, w2, w3


@triton.jit
def _wait(counter, target, polls, max_polls, SYNC: tl.constexpr):
    """Spin until ``*counter >= target`` (acquire); returns the polls used so far."""
    if SYNC:
        seen = tl.atomic_add(counter, 0, sem="acquire")
        while (seen < target) & (polls < max_polls):
            seen = tl.atomic_add(counter, 0, sem="acquire")
            polls += 1
        # every warp, not only the one that saw the counter, must be past the wait
        tl.debug_barrier()
    return polls


@triton.jit
def _arrive(counter, SYNC: tl.constexpr):
    """Publish: all warps' stores first (block barrier), then one release add."""
    tl.debug_barrier()
    if SYNC:
        tl.atomic_add(counter, 1, sem="release")


@triton.jit
def persistent_rnn_forward(
        xw, recurrent, stride_rk, stride_rn, rec_bias, h_exchange, rh_exchange, c_state, out,
        cell_sequence, counter, error, step_start, step_stop, batch, units, max_polls,
        CELL: tl.constexpr, GATES: tl.constexpr, HB: tl.constexpr, HK: tl.constexpr, BB: tl.constexpr,
        PROGRAMS: tl.constexpr, PHASES: tl.constexpr, DOT: tl.constexpr, IEEE: tl.constexpr,
        SYNC: tl.constexpr, HAS_REC_BIAS: tl.constexpr, WRITE_SEQUENCE: tl.constexpr,
        WRITE_CELLS: tl.constexpr):
    # CELL: 0 tanh, 1 relu, 2 lstm, 3 gru (reset_after), 4 gru (reset before)
    pid = tl.program_id(0)
    own = pid * HB + tl.arange(0, HB)                       # this program's units
    own_ok = own < units
    k = tl.arange(0, HK)
    k_ok = k < units
    b = tl.arange(0, BB)
    b_ok = b < batch
    width = GATES * units                                    # a row of xw
    w_mask = k_ok[:, None] & own_ok[None, :]
    w_ptrs = recurrent + k[:, None] * stride_rk + own[None, :] * stride_rn
    # The slab, resident for all steps: one (HK, HB) tile per gate.
    w0, w1, w2, w3 = _gate_tiles(w_ptrs, w_mask, units * stride_rn, CELL)
    if HAS_REC_BIAS:
        bias_z = tl.load(rec_bias + own, mask=own_ok, other=0.0).to(tl.float32)[None, :]
        bias_r = tl.load(rec_bias + units + own, mask=own_ok, other=0.0).to(tl.float32)[None, :]
        bias_h = tl.load(rec_bias + 2 * units + own, mask=own_ok, other=0.0).to(tl.float32)[None, :]
    else:
        bias_z = tl.zeros((1, HB), tl.float32)
        bias_r = bias_z
        bias_h = bias_z
    own_mask = b_ok[:, None] & own_ok[None, :]
    full_mask = b_ok[:, None] & k_ok[None, :]
    own_offsets = b[:, None] * units + own[None, :]           # (BB, HB) in a (B, H) buffer
    full_offsets = b[:, None] * units + k[None, :]            # (BB, HK)
    c = tl.zeros((BB, HB), tl.float32)
    if CELL == 2:
        c = tl.load(c_state + own_offsets, mask=own_mask, other=0.0)
    polls = max_polls * 0
    slot_size = batch * units
    for t in range(step_start, step_stop):
        # This step's projected inputs do not depend on the recurrence: load them before
        # the wait, so their latency hides behind it.
        x_row = xw + t * batch * width + b[:, None] * width + own[None, :]
        x0 = tl.load(x_row, mask=own_mask, other=0.0).to(tl.float32)
        x1 = x0
        x2 = x0
        x3 = x0
        if CELL >= 2:
            x1 = tl.load(x_row + units, mask=own_mask, other=0.0).to(tl.float32)
            x2 = tl.load(x_row + 2 * units, mask=own_mask, other=0.0).to(tl.float32)
        if CELL == 2:
            x3 = tl.load(x_row + 3 * units, mask=own_mask, other=0.0).to(tl.float32)
        read = h_exchange + (t % 2) * slot_size
        polls = _wait(counter, (t * PHASES) * PROGRAMS, polls, max_polls, SYNC)
        h_prev = tl.load(read + full_offsets, mask=full_mask, other=0.0, cache_modifier=".cg")
        h_own = tl.load(read + own_offsets, mask=own_mask, other=0.0, cache_modifier=".cg")
        if CELL <= 1:
            pre = x0 + _product(h_prev, w0, DOT, IEEE)
            if CELL == 0:
                h = _tanh(pre)
            else:
                h = tl.maximum(pre, 0.0)
        elif CELL == 2:
            gate_i = _sigmoid(x0 + _product(h_prev, w0, DOT, IEEE))
            gate_f = _sigmoid(x1 + _product(h_prev, w1, DOT, IEEE))
            cand = _tanh(x2 + _product(h_prev, w2, DOT, IEEE))
            gate_o = _sigmoid(x3 + _product(h_prev, w3, DOT, IEEE))
            c = gate_f * c + gate_i * cand
            h = gate_o * _tanh(c)
            if WRITE_CELLS:  # for the backward pass
                tl.store(cell_sequence + t * slot_size + own_offsets, c, mask=own_mask)
        else:
            z = _sigmoid(x0 + _product(h_prev, w0, DOT, IEEE) + bias_z)
            r = _sigmoid(x1 + _product(h_prev, w1, DOT, IEEE) + bias_r)
            if CELL == 3:
                cand = _tanh(x2 + r * (_product(h_prev, w2, DOT, IEEE) + bias_h))
            else:
                # phase 1: (r ⊙ h_{t-1}) of every unit, exchanged like h
                rh_slot = rh_exchange + (t % 2) * slot_size
                tl.store(rh_slot + own_offsets, r * h_own, mask=own_mask)
                _arrive(counter, SYNC)
                polls = _wait(counter, (t * PHASES + 1) * PROGRAMS, polls, max_polls, SYNC)
                rh = tl.load(rh_slot + full_offsets, mask=full_mask, other=0.0,
                             cache_modifier=".cg")
                cand = _tanh(x2 + _product(rh, w2, DOT, IEEE))
            h = z * h_own + (1.0 - z) * cand
        tl.store(h_exchange + ((t + 1) % 2) * slot_size + own_offsets, h, mask=own_mask)
        if WRITE_SEQUENCE:
            tl.store(out + t * slot_size + own_offsets, h.to(out.dtype.element_ty), mask=own_mask)
        _arrive(counter, SYNC)
    if CELL == 2:
        tl.store(c_state + own_offsets, c, mask=own_mask)
    if SYNC:
        if polls >= max_polls:
            tl.atomic_max(error, 1)


def launch_with_barrier(plan: Plan, device: torch.device, iterations: int, step_by_step: bool,
                        max_polls: int, what: str, launch_span) -> None:
    """The host side of the barrier protocol, for both kernels: a fresh arrival counter and
    error flag, a cooperative launch when programs must meet, the iterations in one launch
    or one a launch (``step_by_step``), and an exception if a wait gave up.

    ``launch_span(grid, start, stop, counter, error, **options)`` launches the kernel."""
    counter = torch.zeros(1, device=device, dtype=torch.int32)
    error = torch.zeros(1, device=device, dtype=torch.int32)
    sync = plan.programs > 1
    options = {"launch_cooperative_grid": True} if sync and device.type == "cuda" else {}
    spans = ([(i, i + 1) for i in range(iterations)] if step_by_step else [(0, iterations)])
    for start, stop in spans:
        launch_span((plan.programs,), start, stop, counter, error, num_warps=plan.num_warps,
                    **options)
    if sync and int(error.item()):
        raise RuntimeError(f"the persistent {what} kernel's barrier timed out after {max_polls} "
                           f"polls ({plan.programs} programs): were they all resident at once?")


def launch(plan: Plan, xw: torch.Tensor, recurrent: torch.Tensor, h0: torch.Tensor,
           c0: torch.Tensor | None = None, rec_bias: torch.Tensor | None = None,
           return_sequences: bool = True, step_by_step: bool = False,
           max_polls: int = 1 << 26, cell_sequence: torch.Tensor | None = None):
    """Run ``plan`` over ``xw`` (T, B, G·H): ``(outputs (T, B, H) or None, h_T, c_T)``;
    ``c_T`` is the LSTM cell state (None for the other cells; ``c0`` None means zeros).

    ``recurrent`` is the Keras-layout recurrent kernel (H, G·H), any strides, cast to
    ``xw``'s dtype; ``rec_bias`` the GRU ``reset_after`` recurrent bias. ``step_by_step``
    launches once per step (the interpreter's way to run several programs). An LSTM with
    ``cell_sequence`` (T, B, H) float32 also writes every step's cell state there."""
    steps, batch, width = xw.shape
    units = plan.units
    if (batch, width) != (plan.batch, plan.gates * units):
        raise ValueError(f"the plan is for batch {plan.batch} and {plan.gates * units} projected "
                         f"features, got xw of shape {tuple(xw.shape)}")
    device, dtype = xw.device, xw.dtype
    xw = xw.contiguous()
    recurrent = recurrent.to(dtype)
    h_exchange = torch.empty(2, batch, units, device=device, dtype=torch.float32)
    h_exchange[0] = h0
    rh_exchange = torch.empty_like(h_exchange) if plan.cell == "gru_reset_before" else h_exchange
    if plan.cell == "lstm":  # read at the start and written at the end of each launch
        c_state = (c0.float().clone() if c0 is not None
                   else torch.zeros(batch, units, device=device, dtype=torch.float32))
    else:
        c_state = h_exchange  # not read
    out = (torch.empty(steps, batch, units, device=device, dtype=dtype) if return_sequences
           else h_exchange)
    bias = rec_bias.contiguous() if rec_bias is not None else h_exchange
    constants = plan.kernel_constants(dtype, rec_bias is not None, return_sequences)

    def launch_span(grid, start, stop, counter, error, **options):
        persistent_rnn_forward[grid](
            xw, recurrent, recurrent.stride(0), recurrent.stride(1), bias, h_exchange,
            rh_exchange, c_state, out,
            cell_sequence if cell_sequence is not None else h_exchange,
            counter, error, start, stop, batch, units, max_polls,
            WRITE_CELLS=cell_sequence is not None, **constants, **options)

    launch_with_barrier(plan, device, steps, step_by_step, max_polls, "forward", launch_span)
    h_last = h_exchange[steps % 2].to(dtype)
    c_last = c_state.to(dtype) if plan.cell == "lstm" else None
    return (out if return_sequences else None), h_last, c_last
