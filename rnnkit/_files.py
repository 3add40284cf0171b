"""Writing files so that an interrupted write never leaves a broken one.

Every writer of rnnkit (model and weight files, checkpoints, training backups, figures,
ONNX exports) goes through ``atomic_write``; it sits at the bottom of the package so that
each of them may import it.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Callable


def atomic_write(path: Any, write: Callable[[str], None], overwrite: bool = True) -> None:
    """Call ``write(temp_path)`` and move the result onto ``path`` only once it is complete.

    The temporary file sits beside ``path`` and ends like it (savers that choose a format by
    suffix see the right one); it gets the permissions of an ordinary new file."""
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists and overwrite=False.")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path),
                                    dir=directory)
    os.close(handle)
    try:
        write(temp)
        with open(temp, "rb+") as done:  # on disk before the rename makes it visible
            os.fsync(done.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes 0600
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
