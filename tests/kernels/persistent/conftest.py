"""Triton's interpreter for the kernel tests on a machine without CUDA.

``triton.jit`` reads TRITON_INTERPRET when a kernel is defined, so this must be set before
``rnnkit.kernels.persistent.triton_forward`` is first imported (rnnkit imports it lazily,
only to run the kernel). The compile-only tests run in a subprocess without it."""
import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
