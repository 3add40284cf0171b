"""Opening files to read without surprises: regular files only, never blocking; bounded JSON.

``open()`` on a named pipe waits for a writer for ever, on a device it may read without
end, on a directory it fails late with a confusing message. Every loader therefore asks
:func:`open_regular`, which looks at the path with ``os.stat`` first (no side effects),
opens it with ``O_NONBLOCK`` (a FIFO swapped in after the check still cannot block) and
checks the opened descriptor again with ``fstat``; only then are bytes read, through that
one descriptor, so the file checked is the file read.
"""
from __future__ import annotations

import fcntl
import json
import os
import stat
from typing import Any, BinaryIO

MAX_JSON_BYTES = 64 * 2 ** 20      # a model config is kilobytes; 64 MiB is generous
MAX_JSON_DEPTH = 64                # Sequential > Bidirectional > LSTM > initializer ~ 8


class FileFormatError(ValueError):
    """A file is not a model/weights file rnnkit can read: wrong type, truncated, corrupt."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _refusal(label: str, mode: int) -> FileFormatError:
    kind = _kind(mode)
    hint = (" (a TensorFlow SavedModel?); rnnkit reads .keras archives, .h5 and .npz files"
            if stat.S_ISDIR(mode) else "; rnnkit reads model files from regular files only")
    return FileFormatError(f"{label} is {kind}, not a regular file{hint}.")


def check_regular(path: Any, label: str) -> os.stat_result:
    """``os.stat`` of ``path`` (following symlinks), or a FileFormatError unless it is a
    regular file. Never opens the path, so it cannot block or trigger a device."""
    try:
        info = os.stat(path)
    except OSError as error:
        raise FileFormatError(f"Cannot read {label}: {error.strerror or error}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise _refusal(label, info.st_mode)
    return info


def open_regular(path: Any, label: str) -> BinaryIO:
    """An open binary file object for ``path``, which must be a regular file (see module doc)."""
    check_regular(path, label)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise FileFormatError(f"Cannot read {label}: {error.strerror or error}.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped between the stat and the open
            raise _refusal(label, info.st_mode)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def parse_json(text: Any, what: str) -> Any:
    """Plain JSON data with limits on size and nesting depth."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_JSON_BYTES:
            raise FileFormatError(f"{what} is {len(text)} bytes; more than rnnkit reads "
                                  f"({MAX_JSON_BYTES}).")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise FileFormatError(f"{what}: not UTF-8 text.") from None
    if not isinstance(text, str):
        raise FileFormatError(f"{what}: expected JSON text, found {type(text).__name__}.")
    if len(text) > MAX_JSON_BYTES:
        raise FileFormatError(f"{what} is too large ({len(text)} characters; rnnkit reads "
                              f"at most {MAX_JSON_BYTES}).")
    try:
        value = json.loads(text)
    except RecursionError:
        raise FileFormatError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError as error:
        raise FileFormatError(f"{what} is not valid JSON: {error}") from None
    _check_depth(value, what)
    return value


def _check_depth(value: Any, what: str) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise FileFormatError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
