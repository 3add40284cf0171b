"""How a sequence is run through a cell.

``reference`` is the plain loop every other kernel must equal; ``fused_torch`` runs
PyTorch's fused RNN ops; ``fused_loop`` is rnnkit's GRU / SimpleRNN loop; ``select`` picks.
"""
from .fused_loop import run_fused_loop
from .fused_torch import run_torch
from .reference import LoopResult, run_reference
from .select import KERNELS, KernelChoice, select_kernel

__all__ = ["KERNELS", "KernelChoice", "LoopResult", "run_fused_loop", "run_reference",
           "run_torch", "select_kernel"]
