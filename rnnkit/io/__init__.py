"""Files and interop: Keras ``.h5`` / ``.keras`` in and out, torch modules, all loaders safe.

The core never imports this package at import time except for the small ``SavingMixin``;
h5py is imported only when a file is read or written.
"""
from .errors import FileFormatError, UnsafeConfigError, WeightMismatchError
from .saving import SavingMixin, load_model, load_weights, save_model, save_weights
from .torch_interop import from_torch, to_torch

__all__ = ["FileFormatError", "UnsafeConfigError", "WeightMismatchError", "SavingMixin",
           "load_model", "load_weights", "save_model", "save_weights", "to_torch", "from_torch"]
