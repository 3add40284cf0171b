"""Reading and writing files safely: the small helpers every file format shares.

A basics-layer package (it imports nothing else from rnnkit), so training (the backup
file), io (every model format), inspect and export all use the same discipline:

- :mod:`.reading`: open only regular files, without ever blocking (a FIFO, a device or a
  directory is refused from ``os.stat``/``O_NONBLOCK``, before any read), JSON with size and
  depth limits, and :class:`FileFormatError`;
- :mod:`.npz`: NumPy ``.npz`` archives read member by member, every header checked against
  the bytes stored and a byte budget before an array is allocated, no pickle;
- :mod:`.atomic`: writes that replace a file only when complete, keep its permission bits,
  write through symlinks, clean up the temp files of killed saves and say clearly when the
  disk is full.
"""
from .atomic import atomic_write
from .reading import (FileFormatError, check_regular, open_regular, parse_json,
                      MAX_JSON_BYTES, MAX_JSON_DEPTH)

__all__ = ["atomic_write", "FileFormatError", "check_regular", "open_regular", "parse_json",
           "MAX_JSON_BYTES", "MAX_JSON_DEPTH"]
