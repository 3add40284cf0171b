"""A persistent recurrent kernel for CUDA (Triton): the recurrent weights stay on chip.

cuDNN pays ~12 µs a step wherever PyTorch does not pick its persistent algorithm (bf16,
GRU, batch 1: see ``shared/reference/persistent-kernels.md``). Here P programs each own a
slab of hidden units and its weights for all T steps and meet once a step at a barrier
in global memory:

* ``plan``: the partition (which program owns which units, tile sizes, barrier targets);
* ``simulator``: the same partition and barrier protocol run on the CPU in PyTorch, with
  programs interleaved in any order, to test the schedule without a GPU;
* ``triton_forward``: the kernel and its launcher (imported lazily: triton is optional);
* ``routing``: when ``select_kernel`` picks this kernel over cuDNN, from measurements.
"""
from .plan import CELLS, Plan, make_plan

__all__ = ["CELLS", "Plan", "make_plan"]
