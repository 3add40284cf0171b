"""Triton's interpreter for the persistent-kernel tests on a machine without CUDA.

``triton.jit`` reads TRITON_INTERPRET when a function is defined, triton's own library
functions included, so it must be set before anything imports triton: here, at the root
of the tests (a test module's ``importorskip("triton")`` runs at collection). The
compile-only tests run in a subprocess without it."""
import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
