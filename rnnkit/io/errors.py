"""The errors rnnkit's file loaders raise (all are ``ValueError``s, as Keras's are).

``FileFormatError`` itself lives in the basics layer (``rnnkit._files``), so the backup
file of ``training`` raises the same class; it is re-exported here, its public home."""
from __future__ import annotations

from .._files.reading import FileFormatError

__all__ = ["FileFormatError", "UnsafeConfigError", "WeightMismatchError"]


class UnsafeConfigError(FileFormatError):
    """A model config asks for code (``Lambda``, custom functions, unregistered classes)."""


class WeightMismatchError(FileFormatError):
    """The weights stored in a file do not fit the model's layers (count or shapes)."""
