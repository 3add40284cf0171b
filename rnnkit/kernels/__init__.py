"""How a sequence is run through a cell.

``reference`` is the plain loop every other kernel must equal; ``fused_torch`` runs
PyTorch's fused RNN ops (oneDNN, cuDNN); ``rnnkit_loop`` is rnnkit's own loop (GRU and
SimpleRNN, in C or Python; the masked LSTM in C through ``lstm_loop``); ``persistent/``
is the persistent CUDA kernel (Triton); ``select`` picks one for each call and says why.
``torch_layout`` maps Keras weights to torch's layout, ``loop_chunks`` and ``native``
serve the C loops.
"""
from .fused_torch import run_torch
from .reference import LoopResult, run_reference
from .rnnkit_loop import run_rnnkit_loop
from .select import KERNELS, KernelChoice, select_kernel

__all__ = ["KERNELS", "KernelChoice", "LoopResult", "run_rnnkit_loop", "run_reference",
           "run_torch", "select_kernel"]
