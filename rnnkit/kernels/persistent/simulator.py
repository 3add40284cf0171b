"""The persistent kernels' schedules, run on the CPU: partition, exchange and barrier.

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

``simulate_backward`` does the same for ``triton_backward``'s protocol (each step's gate
gradients in rows of their own, the barrier at the start of an iteration, two exchanges a
step for GRU ``reset_after=False``) and is a drop-in for its ``launch_backward``: the tests
run ``autograd.PersistentSequence`` through it against the reference's gradients.
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


class Rows:
    """Gate-gradient rows ``(T, B, G·H)``, each column written once; reads check that every
    column they use was written."""

    def __init__(self, steps: int, batch: int, width: int):
        self.values = torch.full((steps, batch, width), float("nan"))
        self.written = torch.zeros(steps, width, dtype=torch.bool)

    def write(self, step: int, columns: list[int], value: torch.Tensor) -> None:
        self.values[step][:, columns] = value
        self.written[step, columns] = True

    def read(self, step: int, columns: slice, reader: str) -> torch.Tensor:
        missing = (~self.written[step, columns]).nonzero().flatten().tolist()
        if missing:
            raise ScheduleError(f"{reader} read row {step} before columns {missing[:4]}... "
                                "were written")
        return self.values[step][:, columns]


def simulate_backward(plan: Plan, factors, recurrent, d_out, d_last, d_cell_last=None,
                      order: str = "random", seed: int = 0, target_shift: int = 0):
    """``triton_backward.launch_backward``'s results, by the same schedule on the CPU:
    ``(dz (T, B, G·H), dh (T, B, H), d_h0, d_c0 or None)``, float32."""
    steps, batch, units = factors.shape[0], plan.batch, plan.units
    width = plan.gates * units
    recurrent = recurrent.detach().float()
    dz = Rows(steps, batch, width)
    dh_all = torch.full((steps, batch, units), float("nan"))
    reset_gradient = torch.full((steps, batch, units), float("nan"))
    d_h0 = torch.full((batch, units), float("nan"))
    lstm, reset_before = plan.cell == "lstm", plan.cell == "gru_reset_before"
    d_c0 = torch.full((batch, units), float("nan")) if lstm else None
    counter = [0]

    def program(p: int):
        own = plan.slab(p)
        mine = slice(own.start, own.stop)
        weights = recurrent[mine, :]                 # this program's rows of R: Rᵀ's slab
        dc = (d_cell_last[:, mine].float().clone() if lstm and d_cell_last is not None
              else torch.zeros(batch, len(own)))

        def columns(gate):
            return [gate * units + j for j in own]

        for s in range(steps + 1):
            t = steps - 1 - s
            if s == 0:
                dh_next = d_last[:, mine].float()
            else:
                yield s * plan.phases * plan.programs + target_shift
                reader = f"program {p} at iteration {s}"
                if reset_before:                      # dz_h went through U_h in phase 1
                    row = dz.read(t + 1, slice(0, 2 * units), reader)
                    dh_next = row @ weights[:, :2 * units].t()
                else:
                    dh_next = dz.read(t + 1, slice(0, width), reader) @ weights.t()
                if plan.cell in ("gru", "gru_reset_before"):
                    dh_next = dh_next + dh_all[t + 1][:, mine] * factors[t + 1, :, 3, mine]
                if reset_before:
                    dh_next = dh_next + reset_gradient[t + 1][:, mine] * factors[t + 1, :, 4, mine]
            if t < 0:
                d_h0[:, mine] = dh_next
                if lstm:
                    d_c0[:, mine] = dc
                return
            f = factors[t][:, :, mine]
            dh = dh_next + (d_out[t][:, mine].float() if d_out is not None else 0)
            if plan.cell in ("tanh", "relu"):
                dz.write(t, columns(0), dh * f[:, 0])
            elif lstm:
                dc = dc + dh * f[:, 4]
                for gate in range(3):
                    dz.write(t, columns(gate), dc * f[:, gate])
                dz.write(t, columns(3), dh * f[:, 3])
                dc = dc * f[:, 5]
            elif plan.cell == "gru":
                for gate in range(3):
                    dz.write(t, columns(gate), dh * f[:, gate])
            else:
                dz.write(t, columns(0), dh * f[:, 0])
                dz.write(t, columns(2), dh * f[:, 2])
            dh_all[t][:, mine] = dh
            counter[0] += 1
            yield None
            if reset_before:
                yield (s * plan.phases + 1) * plan.programs + target_shift
                row = dz.read(t, slice(2 * units, 3 * units), f"program {p} at step {t} (dz_h)")
                d_reset = row @ weights[:, 2 * units:].t()
                dz.write(t, columns(1), d_reset * f[:, 1])
                reset_gradient[t][:, mine] = d_reset
                counter[0] += 1
                yield None

    _run(plan.programs, program, counter, order, seed)
    return dz.values, dh_all, d_h0, d_c0


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
