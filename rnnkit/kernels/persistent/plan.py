"""How the persistent kernel splits one layer's recurrence over P programs (thread blocks).

Program ``p`` owns the hidden units ``[p·HB, (p+1)·HB)`` with *all* their gates, so the
pointwise part of a step is local to it. It keeps its slab of the recurrent kernel (the
columns ``g·H + unit`` of every gate ``g``: ``G·H × HB`` numbers) on chip for all T steps.
Each step it reads the whole ``h_{t-1}`` from a double-buffered exchange buffer, publishes
its own units of ``h_t`` to the other buffer and bumps one arrival counter: the per-step
barrier. GRU with ``reset_after=False`` needs ``(r ⊙ h) @ U_h``, where ``r`` comes from all
units: it exchanges ``r ⊙ h`` too, a second phase and barrier per step.

This module only decides the numbers (it imports neither triton nor CUDA), so the same
plan drives the Triton kernel, the schedule simulator and the compile-only checks.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

# The cells the kernel knows, with their gate count and phases per step.
CELLS = {"tanh": (1, 1), "relu": (1, 1), "lstm": (4, 1), "gru": (3, 1), "gru_reset_before": (3, 2)}
# Kernel codes (the kernel's CELL constexpr), in CELLS order.
CELL_CODES = {name: code for code, name in enumerate(CELLS)}
# Per-step factors the backward kernel reads (triton_backward's docstring lists them).
BACKWARD_FACTORS = {"tanh": 1, "relu": 1, "lstm": 6, "gru": 4, "gru_reset_before": 5}

MAX_UNITS = 1024          # the range; larger H would need K-blocking of the slab
MAX_BATCH = 64
DOT_MIN = 16              # tl.dot needs every dimension >= 16
# Triton keeps the loop-invariant weight slab in registers (or, for tl.dot operands, in
# shared memory). Without tensor cores a step's product is a (BB, HK, HB) broadcast per
# gate, summed over HK, in float32; the compiler may hoist the weights' conversion and keep
# every gate's product live at once. So the slab at 4 bytes a weight plus the products must
# fit about 96 of the 128 registers a thread has at MAX_WARPS (measured with compile_check:
# more spills). With tensor cores the slab (at its own dtype) is budgeted on its own.
MAX_WARPS = 16
REGISTERS_PER_THREAD = 96
ON_CHIP_BUDGET_BYTES = MAX_WARPS * 32 * REGISTERS_PER_THREAD * 4
SLAB_BUDGET_BYTES = 128 * 1024
SHARED_MEMORY_BYTES = 227 * 1024   # per block on H100 / H200 (opt-in)
H200_PROGRAMS = 132       # streaming multiprocessors: at most one resident program each


def next_power_of_2(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())


@dataclass(frozen=True)
class Plan:
    """One launch: ``programs`` blocks of ``units_per_program`` units each."""
    cell: str                 # a key of CELLS
    units: int                # H
    batch: int                # B
    programs: int             # P
    units_per_program: int    # HB, a power of 2 (the last program may own fewer real units)
    k_block: int              # HK: H padded to a power of 2, the reduction axis
    batch_block: int          # BB: B padded to a power of 2 (>= 16 with tl.dot)
    use_dot: bool             # tensor cores (tl.dot) or broadcast-multiply-and-sum
    num_warps: int            # 32 threads each

    @property
    def gates(self) -> int:
        return CELLS[self.cell][0]

    @property
    def phases(self) -> int:
        return CELLS[self.cell][1]

    def slab(self, program: int) -> range:
        """The hidden units program ``program`` owns."""
        start = program * self.units_per_program
        return range(start, min(start + self.units_per_program, self.units))

    def slab_columns(self, program: int) -> list[int]:
        """The recurrent-kernel columns (Keras layout, gate-major) program ``program`` keeps."""
        return [g * self.units + j for g in range(self.gates) for j in self.slab(program)]

    def slab_bytes(self, element_size: int) -> int:
        """On-chip bytes of one program's recurrent-weight slab (padded, as the kernel holds it)."""
        return self.gates * self.k_block * self.units_per_program * element_size

    def kernel_constants(self, dtype: torch.dtype, has_rec_bias: bool,
                         return_sequences: bool = True) -> dict:
        """The kernel's constexprs (the launcher and the compile-only check pass the same)."""
        return dict(CELL=CELL_CODES[self.cell], GATES=self.gates, HB=self.units_per_program,
                    HK=self.k_block, BB=self.batch_block, PROGRAMS=self.programs,
                    PHASES=self.phases, DOT=self.use_dot, IEEE=dtype == torch.float32,
                    SYNC=self.programs > 1, HAS_REC_BIAS=has_rec_bias,
                    WRITE_SEQUENCE=return_sequences)

    def backward_constants(self, dtype: torch.dtype, has_output_gradients: bool) -> dict:
        """The backward kernel's constexprs."""
        return dict(CELL=CELL_CODES[self.cell], GATES=self.gates,
                    NF=BACKWARD_FACTORS[self.cell], HB=self.units_per_program,
                    HK=self.k_block, BB=self.batch_block, PROGRAMS=self.programs,
                    PHASES=self.phases, DOT=self.use_dot, IEEE=dtype == torch.float32,
                    SYNC=self.programs > 1, HAS_DY=has_output_gradients)

    def barrier_target(self, step: int, phase: int) -> int:
        """Arrivals the counter must show before phase ``phase`` of step ``step`` may read the
        exchange buffer: every program has published every earlier phase."""
        return (step * self.phases + phase) * self.programs


def unsupported_shape(cell: str, units: int, batch: int) -> list[str]:
    """Why no plan fits (empty when one does)."""
    problems = []
    if cell not in CELLS:
        problems.append(f"cell {cell!r} is not one of {sorted(CELLS)}")
    if units > MAX_UNITS:
        problems.append(f"units={units} is above the persistent kernel's {MAX_UNITS}")
    if batch > MAX_BATCH:
        problems.append(f"batch {batch} is above the persistent kernel's {MAX_BATCH}")
    if batch < 1:
        problems.append("an empty batch")
    return problems


def make_plan(cell: str, units: int, batch: int, dtype: torch.dtype = torch.float32,
              max_programs: int = H200_PROGRAMS, programs: int | None = None,
              slab_budget: int = SLAB_BUDGET_BYTES) -> Plan:
    """The partition for ``cell`` with ``units`` and ``batch``.

    The widest power-of-2 slab that fits on chip (``ON_CHIP_BUDGET_BYTES`` for the slab and
    the products without tensor cores; ``slab_budget`` for the slab with them), so the fewest programs
    (fewer arrivals to wait for per step), unless ``programs`` asks for a count. Batches of
    16 and more use tensor cores (tl.dot needs slabs of 16 units); smaller batches use them
    too, padded to 16 rows, when the product without them would need too many programs.
    """
    problems = unsupported_shape(cell, units, batch)
    if problems:
        raise ValueError("No persistent-kernel plan: " + "; ".join(problems) + ".")
    if programs is not None and programs < 1:
        raise ValueError(f"programs must be at least 1, got {programs}.")
    plan = None
    if batch < DOT_MIN:
        plan = _plan(cell, units, batch, dtype, programs, slab_budget, use_dot=False)
        if plan.programs > max_programs and batch == 1 and programs is None:
            # One row: the products are small, so a slab wider than the budget (as many
            # programs as can be resident) still compiles without spills (compile_check).
            plan = _plan(cell, units, batch, dtype, max_programs, slab_budget, use_dot=False)
    if plan is None or plan.programs > max_programs:
        plan = _plan(cell, units, batch, dtype, programs, slab_budget, use_dot=True)
    if plan.use_dot and plan.slab_bytes(dtype.itemsize) > SHARED_MEMORY_BYTES:
        raise ValueError(f"No persistent-kernel plan: {cell} with {units} units in {dtype} "
                         f"needs {plan.slab_bytes(dtype.itemsize)} bytes of weights a program "
                         f"even at {plan.units_per_program} units, more than the "
                         f"{SHARED_MEMORY_BYTES} of shared memory (a CUDA C++ kernel could "
                         "split it between registers and shared memory; not built).")
    if plan.programs > max_programs:
        raise ValueError(f"No persistent-kernel plan: {cell} with {units} units needs "
                         f"{plan.programs} programs of {plan.units_per_program} units, more "
                         f"than the {max_programs} that can be resident at once.")
    return plan


def _plan(cell, units, batch, dtype, programs, slab_budget, use_dot: bool) -> Plan:
    gates = CELLS[cell][0]
    k_block = max(next_power_of_2(units), DOT_MIN)
    batch_block = max(next_power_of_2(batch), DOT_MIN if use_dot else 1)
    smallest = DOT_MIN if use_dot else 1
    element_size = torch.empty((), dtype=dtype).element_size()

    def on_chip(width: int) -> int:
        if use_dot:  # the float32 h tile and its cast copy, each gate's accumulator
            return batch_block * k_block * 8 + gates * batch_block * width * 8
        return gates * k_block * width * 4 + gates * batch_block * k_block * width * 4

    def fits(width: int) -> bool:
        if use_dot:
            return gates * k_block * width * element_size <= slab_budget
        return on_chip(width) <= ON_CHIP_BUDGET_BYTES

    if programs is None:
        width = next_power_of_2(units)
        while width > smallest and not fits(width):
            width //= 2
    else:
        width = next_power_of_2(-(-units // programs))
    width = max(width, smallest)
    # Enough threads for REGISTERS_PER_THREAD registers each.
    per_program = on_chip(width)
    num_warps = 4
    while num_warps < MAX_WARPS and per_program > num_warps * 32 * REGISTERS_PER_THREAD * 4:
        num_warps *= 2
    return Plan(cell, units, batch, -(-units // width), width, k_block, batch_block, use_dot,
                num_warps)
