"""Atomic saves: the previous file stays intact until the new one is complete on disk.

What a user expects of "save over my file", and how it is kept:

- **permissions (and owner)**: the new file gets the old file's permission bits (a private
  0600 file stays private) and, where the process may, its owner and group; a new file gets
  the ordinary ``0666 & ~umask``. The temporary file is private (0600) while it is written;
- **symlinks**: saving to a symlink writes the file it points to (through any chain of
  links); the link stays a link;
- **killed saves**: temporary files are named ``.rnnkit-tmp-<pid>-<random>-<name>`` beside
  the target; a later save of the same name removes those whose process no longer runs;
- **full disk** (``ENOSPC``, ``EDQUOT``, ``EFBIG``, and what h5py makes of them): an
  ``OSError`` that says so and that the previous file is intact.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from typing import Any, Callable

TEMP_PREFIX = ".rnnkit-tmp-"
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DISK_FULL_TEXT = ("No space left on device", "Disk quota exceeded", "File too large")
_IN_PROGRESS: set[str] = set()  # this process's own temp files (threads may save too)


def resolve_target(path: Any) -> str:
    """The file a save to ``path`` should replace: a symlink's target (followed through any
    chain, dangling or not), else ``path`` itself."""
    path = os.fspath(path)
    return os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return True
    return True


def remove_stale_temps(target: str) -> list[str]:
    """Remove the temp files earlier, killed saves of ``target`` left; returns their paths."""
    directory, name = os.path.split(target)
    pattern = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-[0-9a-f]{16}-" + re.escape(name) + "$")
    removed = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry)
        full = os.path.join(directory, entry)
        if not match or full in _IN_PROGRESS:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or not _alive(pid):
            try:
                if stat.S_ISREG(os.lstat(full).st_mode):
                    os.unlink(full)
                    removed.append(full)
            except OSError:
                pass
    return removed


def _is_disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS:
        return True
    text = str(error)
    return isinstance(error, (OSError, RuntimeError)) and any(t in text for t in _DISK_FULL_TEXT)


def _disk_full_error(error: BaseException, path: str, existed: bool) -> OSError:
    code = error.errno if isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS \
        else (errno.EFBIG if "File too large" in str(error) else errno.ENOSPC)
    kept = (f"The previous file at {path!r} is intact." if existed
            else f"Nothing was written to {path!r}.")
    return OSError(code, f"Could not save {path!r}: the disk is full or the file size limit "
                         f"was reached ({os.strerror(code)}; {type(error).__name__}: {error}). "
                         f"{kept} Free some space and save again.")


def _copy_mode_and_owner(temp: str, previous: os.stat_result | None) -> None:
    if previous is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        return
    try:  # the owner first: chown may clear set-id bits, chmod below restores them
        if os.geteuid() == 0 or previous.st_gid != os.getegid():
            os.chown(temp, previous.st_uid if os.geteuid() == 0 else -1, previous.st_gid)
    except OSError:
        pass  # not permitted: the file becomes the saver's, as any rewrite would make it
    os.chmod(temp, stat.S_IMODE(previous.st_mode))


def atomic_write(path: Any, write: Callable[[str], None], overwrite: bool = True) -> None:
    """Call ``write(temp_path)`` and move the result onto ``path`` only once it is complete.

    The temporary file sits beside the target and ends like it (savers that choose a format
    by its suffix see the right one). See the module docstring for what is kept."""
    shown = os.fspath(path)
    if not overwrite and os.path.exists(shown):
        raise FileExistsError(f"{shown!r} exists and overwrite=False.")
    target = resolve_target(shown)
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    try:
        previous = os.stat(target)
    except FileNotFoundError:
        previous = None
    if previous is not None and not stat.S_ISREG(previous.st_mode):
        raise IsADirectoryError(errno.EISDIR, f"Cannot save to {shown!r}: it is not a regular "
                                              "file (a directory, pipe or device).")
    remove_stale_temps(target)
    temp = os.path.join(directory, f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}-"
                                   f"{os.path.basename(target)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    os.close(fd)
    _IN_PROGRESS.add(temp)
    try:
        write(temp)
        with open(temp, "rb+") as done:  # on disk before the rename makes it visible
            os.fsync(done.fileno())
        _copy_mode_and_owner(temp, previous)
        os.replace(temp, target)
        _sync_directory(directory)
    except BaseException as error:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if _is_disk_full(error):
            raise _disk_full_error(error, shown, previous is not None) from error
        raise
    finally:
        _IN_PROGRESS.discard(temp)


def _sync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
