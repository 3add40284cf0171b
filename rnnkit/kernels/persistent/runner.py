"""Running a layer's cell through the persistent kernel: what it supports, and the call.

With autograd on, ``autograd.PersistentSequence`` adds the persistent backward kernel.
On the CPU it runs only under Triton's interpreter (``TRITON_INTERPRET=1``), for tests.
"""
from __future__ import annotations

import importlib.util
import os

import torch

from ..reference import LoopResult
from .plan import make_plan, unsupported_shape

DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def persistent_cell(cell, kind: str) -> str:
    """The plan's cell name for a cell whose kernel kind (``KernelChoice.kind``) is ``kind``."""
    if kind == "gru" and not cell.reset_after:
        return "gru_reset_before"
    return kind


def unsupported(cell, kind: str, inputs: torch.Tensor | None, mask, training: bool) -> list[str]:
    """Why the persistent kernel cannot run this call (empty: it can)."""
    problems = []
    if importlib.util.find_spec("triton") is None:
        problems.append("triton is not installed (pip install 'rnnkit[triton]')")
    if inputs is not None:
        if inputs.device.type != "cuda" and not interpreting():
            problems.append("it runs on CUDA (on the CPU only under TRITON_INTERPRET=1)")
        if inputs.dtype not in DTYPES and not torch.is_autocast_enabled():
            problems.append(f"dtype {inputs.dtype} is not float32, float16 or bfloat16")
        problems += unsupported_shape(persistent_cell(cell, kind), cell.units, inputs.shape[0])
    if mask is not None:
        problems.append("it does not take a mask")
    if training and (cell.dropout or cell.recurrent_dropout):
        problems.append("it does not apply dropout")
    return problems


def run_persistent(cell, kind: str, inputs: torch.Tensor, states, go_backwards: bool = False,
                   return_sequences: bool = True) -> LoopResult:
    """Run ``cell`` over ``inputs`` (B, T, D) from ``states`` with the persistent kernel."""
    xw = cell.project_inputs(inputs.transpose(0, 1))          # (T, B, G·H), one product
    if go_backwards:
        xw = xw.flip(0)
    name = persistent_cell(cell, kind)
    interpreted = interpreting()
    # Under the interpreter programs run one after another: a second phase within a step
    # (GRU reset_after=False, forward and backward) can only run with one program.
    programs = 1 if interpreted and name == "gru_reset_before" else None
    plan = make_plan(name, cell.units, xw.shape[1], xw.dtype, programs=programs)
    rec_bias = cell.bias[1] if kind == "gru" and cell.reset_after and cell.bias is not None else None
    c0 = states[1] if kind == "lstm" else None
    step_by_step = interpreted and plan.programs > 1
    if torch.is_grad_enabled():
        from .autograd import PersistentSequence

        outputs, h_last, c_last = PersistentSequence.apply(
            xw, states[0], c0, cell.recurrent_kernel, rec_bias, plan, step_by_step)
        outputs = outputs if return_sequences else None
    else:
        from .triton_forward import launch

        outputs, h_last, c_last = launch(plan, xw, cell.recurrent_kernel, states[0], c0,
                                         rec_bias, return_sequences=return_sequences,
                                         step_by_step=step_by_step)
    new_states = [h_last, c_last] if kind == "lstm" else [h_last]
    return LoopResult(h_last, None if outputs is None else outputs.transpose(0, 1), new_states)
