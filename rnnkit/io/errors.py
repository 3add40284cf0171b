"""The errors rnnkit's file loaders raise (all are ``ValueError``s, as Keras's are)."""
from __future__ import annotations


class FileFormatError(ValueError):
    """A file is not a model/weights file rnnkit can read: wrong type, truncated, corrupt."""


class UnsafeConfigError(FileFormatError):
    """A model config asks for code (``Lambda``, custom functions, unregistered classes)."""


class WeightMismatchError(FileFormatError):
    """The weights stored in a file do not fit the model's layers (count or shapes)."""
