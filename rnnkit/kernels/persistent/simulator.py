"""The persistent kernel's schedule, run on the CPU: partition, exchange and barrier.

A GPU kernel whose programs meet at a hand-made barrier fails rarely and silently when
the protocol is wrong (a buffer overwritten while another program still reads it, a
barrier target off by one). This simulator runs the protocol of ``triton_forward`` with
each program as a Python generator that yields at every point where the GPU could switch
to another program, and a scheduler that interleaves them in a chosen or random order:

* program ``p`` owns ``plan.slab(p)`` and reads only its slab of the weights
  (``plan.slab_columns(p)``), as the kernel does;
* ``h`` (and, for GRU ``reset_after=False``, ``r ⊙ h``) is exchanged through buffers of
  ``buffers`` slots (the kernel uses 2) that remember which step wrote each unit;
* before reading a slot a program waits until the arrival counter reaches
  ``plan.barrier_target(step, phase)``; after publishing it adds one.

Every read checks that each unit it sees was written by the step it expects. The
arguments ``buffers`` and ``target_shift`` exist to break the protocol on purpose: the tests
show that one slot, or a barrier one arrival short, is caught.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from .plan import Plan


class ScheduleError(AssertionError):
    """The protocol let a program read data of the wrong step, or every program is stuck."""


@dataclass
class Exchange:
    """A multi-slot exchange buffer that records which step wrote each unit of each slot."""
    values: torch.Tensor                      # (slots, B, H)
    written_by: list[list[int]] = field(default_factory=list)

    @classmethod
    def create(cls, slots: int, batch: int, units: int, dtype) -> "Exchange":
        return cls(torch.zeros(slots, batch, units, dtype=dtype),
                   [[-2] * units for _ in range(slots)])

    def write(self, slot: int, units: range, value: torch.Tensor, step: int) -> None:
        self.values[slot, :, units.start:units.stop] = value
        for j in units:
            self.written_by[slot][j] = step

    def read(self, slot: int, step: int, reader: str) -> torch.Tensor:
        stale = [j for j, s in enumerate(self.written_by[slot]) if s != step]
        if stale:
            raise ScheduleError(f"{reader} read units {stale[:4]}... of slot {slot} expecting "
                                f"step {step}, found steps "
                                f"{sorted({self.written_by[slot][j] for j in stale})}")
        return self.values[slot].clone()


def simulate(plan: Plan, cell, xw: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor | None = None,
             order: str = "random", seed: int = 0, buffers: int = 2, target_shift: int = 0):
    """Run ``cell`` (an rnnkit cell, whose weights are used) over ``xw`` (T, B, G·H) with
    ``plan``'s schedule. Returns ``(outputs (T, B, H), h_T, c_T or None)``.

    ``order``: ``"random"`` (a seeded random program at each switch point), ``"forward"`` /
    ``"backward"`` (always the lowest / highest runnable program)."""
    steps, batch, units = xw.shape[0], plan.batch, plan.units
    recurrent = cell.recurrent_kernel.detach().to(xw.dtype)
    rec_bias = None
    if plan.cell == "gru" and cell.bias is not None:
        rec_bias = cell.bias[1].detach().to(xw.dtype)
    h_exchange = Exchange.create(buffers, batch, units, xw.dtype)
    h_exchange.write(0, range(units), h0, step=-1)          # h_0 is "step -1's" output
    rh_exchange = Exchange.create(buffers, batch, units, xw.dtype)
    outputs = torch.full((steps, batch, units), float("nan"), dtype=xw.dtype)
    c_final = None if c0 is None else torch.full_like(c0, float("nan"))
    counter = [0]

    def program(p: int):
        own = plan.slab(p)
        cols = plan.slab_columns(p)
        weights = recurrent[:, cols]                  # the slab kept on chip
        width = len(own)
        c = None if c0 is None else c0[:, own.start:own.stop].clone()
        for t in range(steps):
            slot = t % buffers
            yield plan.barrier_target(t, 0) + target_shift
            h_prev = h_exchange.read(slot, t - 1, f"program {p} at step {t}")
            x = xw[t][:, cols]
            product = h_prev @ weights
            if rec_bias is not None:
                product = product + rec_bias[cols]
            h_own_prev = h_prev[:, own.start:own.stop]
            if plan.cell in ("tanh", "relu"):
                h = cell.activation(x + product)
            elif plan.cell == "lstm":
                z_i, z_f, z_c, z_o = (x + product).split(width, dim=-1)
                sigma = cell.recurrent_activation
                c = sigma(z_f) * c + sigma(z_i) * cell.activation(z_c)
                h = sigma(z_o) * cell.activation(c)
            elif plan.cell == "gru":
                (x_z, x_r, x_h), (r_z, r_r, r_h) = x.split(width, -1), product.split(width, -1)
                z = cell.recurrent_activation(x_z + r_z)
                hh = cell.activation(x_h + cell.recurrent_activation(x_r + r_r) * r_h)
                h = z * h_own_prev + (1 - z) * hh
            else:  # gru_reset_before: phase 1 needs r ⊙ h of every unit
                (x_z, x_r, x_h), (r_z, r_r, _) = x.split(width, -1), product.split(width, -1)
                z = cell.recurrent_activation(x_z + r_z)
                r = cell.recurrent_activation(x_r + r_r)
                rh_exchange.write(slot, own, r * h_own_prev, step=t)
                counter[0] += 1
                yield plan.barrier_target(t, 1) + target_shift
                rh = rh_exchange.read(slot, t, f"program {p} at step {t} (r*h)")
                hh = cell.activation(x_h + rh @ weights[:, 2 * width:])
                h = z * h_own_prev + (1 - z) * hh
            outputs[t, :, own.start:own.stop] = h
            h_exchange.write((t + 1) % buffers, own, h, step=t)
            counter[0] += 1
            yield None                                 # another program may run here
        if c is not None:
            c_final[:, own.start:own.stop] = c

    _run(plan.programs, program, counter, order, seed)
    h_last = h_exchange.read(steps % buffers, steps - 1, "the host after the loop")
    return outputs, h_last, c_final


def _run(count: int, program, counter: list[int], order: str, seed: int) -> None:
    """Interleave ``count`` generator programs; a yielded number is a barrier target."""
    rng = random.Random(seed)
    running = {p: program(p) for p in range(count)}
    waiting = {p: None for p in running}              # the target each program waits for
    while running:
        ready = [p for p in running if waiting[p] is None or counter[0] >= waiting[p]]
        if not ready:
            raise ScheduleError(f"deadlock: counter {counter[0]}, programs wait for "
                                f"{sorted(set(waiting.values()))}")
        p = {"random": rng.choice, "forward": min, "backward": max}[order](ready)
        try:
            waiting[p] = next(running[p])
        except StopIteration:
            del running[p], waiting[p]
