"""``keras.utils.get_file``: fetch a file once into the Keras cache, check its hash, and
unpack an archive safely.

tf.keras 2.12's behaviour, so a tutorial's ``get_file("nietzsche.txt", origin=...)``
returns the same path: ``<cache_dir>/<cache_subdir>/<fname>`` with ``cache_dir``
``~/.keras``, or ``/tmp/.keras`` where the cache directory is not writable (or does not
exist), a file already there is reused (fetched again when ``file_hash`` no longer
matches), ``untar`` / ``extract`` unpack next to it, and the messages and progress bar are
Keras's. Two things are stricter, because the file comes from elsewhere:

- the download is written to a temporary file and moved into place only when complete and
  matching ``file_hash`` (``rnnkit._files.atomic_write``, as rnnkit's saves): an
  interrupted or corrupted download never sits in the cache under the real name;
- archives are unpacked only if every member stays inside the target directory: absolute
  paths, ``..``, links and special files are refused with an error naming the member
  (tf.keras filters tar members silently and unpacks zip files as they come).
"""
from __future__ import annotations

import hashlib
import os
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._files import atomic_write
from .progbar import Progbar

__all__ = ["get_file"]


def get_file(fname: Any = None, origin: str | None = None, untar: bool = False,
             md5_hash: str | None = None, file_hash: str | None = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: Any = "auto",
             cache_dir: Any = None) -> str:
    """Download ``origin`` into ``<cache_dir>/<cache_subdir>/<fname>`` unless it is there
    already, and return that path (with ``untar``, the unpacked directory's)."""
    if origin is None:
        raise ValueError('get_file: please specify the "origin" argument (URL of the file '
                         "to download).")
    if cache_dir is None:
        cache_dir = os.path.join(os.path.expanduser("~"), ".keras")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(os.fspath(cache_dir))
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")   # as tf.keras 2.12, also for a missing dir
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    fname = os.fspath(fname) if fname else os.path.basename(urlsplit(origin).path)
    if not fname:
        raise ValueError(f"get_file: can't parse the file name from the origin provided: "
                         f"'{origin}'. Please specify the `fname` argument.")
    if untar:
        if fname.endswith(".tar.gz"):
            fname = fname[:-len(".tar.gz")]
        untar_path = os.path.join(datadir, fname)
        fpath = untar_path + ".tar.gz"
    else:
        fpath = os.path.join(datadir, fname)

    download = not os.path.exists(fpath)
    if not download and file_hash is not None and \
            not validate_file(fpath, file_hash, hash_algorithm):
        print(f"A local file was found, but it seems to be incomplete or outdated because "
              f"the {hash_algorithm} file hash does not match the original value of "
              f"{file_hash} so we will re-download the data.")
        download = True
    if download:
        print(f"Downloading data from {origin}")
        _download(origin, fpath, file_hash, hash_algorithm)

    if untar:
        if not os.path.exists(untar_path):
            extract_archive(fpath, datadir, archive_format="tar")
        return untar_path
    if extract:
        extract_archive(fpath, datadir, archive_format)
    return fpath


def _download(origin: str, fpath: str, file_hash: str | None, hash_algorithm: str) -> None:
    """Fetch ``origin`` and move it onto ``fpath`` only once complete and matching
    ``file_hash`` (rnnkit's atomic save: a temporary file beside it, removed on any error,
    and by a later call if this process is killed)."""
    def fetch_and_check(partial: str) -> None:
        try:
            _fetch(origin, partial, _DownloadProgress())
        except urllib.error.HTTPError as error:
            raise Exception(f"URL fetch failure on {origin}: {error.code} -- {error.msg}")
        except urllib.error.URLError as error:
            raise Exception(f"URL fetch failure on {origin}: {error.errno} -- "
                            f"{error.reason}")
        if file_hash is not None and not validate_file(partial, file_hash, hash_algorithm):
            raise ValueError(f"Incomplete or corrupted file detected. The {hash_algorithm} "
                             f"file hash does not match the provided value of {file_hash}.")

    atomic_write(fpath, fetch_and_check)


def _fetch(origin: str, path: str, report: Any, chunk_size: int = 8192) -> None:
    """Copy the response to ``path`` chunk by chunk, calling ``report(count, chunk_size,
    total)`` after each read (the empty last one too), as tf.keras 2.12's urlretrieve does:
    its progress bar starts at the first chunk, not at 0."""
    with urllib.request.urlopen(origin) as response, open(path, "wb") as out:
        length = response.info().get("Content-Length")
        total = int(length.strip()) if length is not None else -1
        count = 0
        while True:
            chunk = response.read(chunk_size)
            count += 1
            report(count, chunk_size, total)
            if not chunk:
                break
            out.write(chunk)


class _DownloadProgress:
    """``urlretrieve``'s report hook drawn as Keras's progress bar (bytes)."""

    def __init__(self) -> None:
        self.bar: Progbar | None = None
        self.finished = False

    def __call__(self, block: int, block_size: int, total: int) -> None:
        if self.bar is None:
            self.bar = Progbar(None if total == -1 else total)
        current = block * block_size
        if self.bar.target is None or current < self.bar.target:
            self.bar.update(current)
        elif not self.finished:
            self.bar.update(self.bar.target)
            self.finished = True


def _hasher(algorithm: str, file_hash: str | None = None) -> Any:
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None
                                 and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()   # "md5", and "auto" for anything but a 64-digit hash (Keras's rule)


def _digest(fpath: Any, hasher: Any, chunk_size: int) -> str:
    with open(fpath, "rb") as stream:
        for chunk in iter(lambda: stream.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def hash_file(fpath: Any, algorithm: str = "sha256", chunk_size: int = 65535) -> str:
    """The hex digest of a file (``"sha256"``, ``"md5"`` or ``"auto"`` = sha256)."""
    return _digest(fpath, _hasher("sha256" if algorithm == "auto" else algorithm), chunk_size)


def validate_file(fpath: Any, file_hash: str, algorithm: str = "auto",
                  chunk_size: int = 65535) -> bool:
    """Whether the file's sha256 or md5 digest is ``file_hash`` (``"auto"``: sha256 for a
    64-digit hash, md5 otherwise)."""
    return _digest(fpath, _hasher(algorithm, file_hash), chunk_size) == str(file_hash)


def extract_archive(file_path: Any, path: Any = ".", archive_format: Any = "auto") -> bool:
    """Unpack a tar (plain, gz, bz2, xz) or zip archive into ``path`` when it is one of
    ``archive_format`` (``"auto"``: tar or zip); True if it was. Every member must stay
    inside ``path`` (no absolute paths, ``..``, links or special files): one that does not
    is an error naming it, raised before anything is written."""
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in formats:
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                members = archive.getmembers()
                for member in members:
                    _check_member(file_path, path, member.name,
                                  member.isfile() or member.isdir())
                archive.extractall(path, members=members)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                for info in archive.infolist():
                    is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
                    _check_member(file_path, path, info.filename, not is_link)
                archive.extractall(path)
            return True
    return False


def _check_member(archive: str, target: str, name: str, plain: bool) -> None:
    root = Path(target).resolve()
    where = (root / name).resolve()
    if not plain or Path(name).is_absolute() or (where != root and root not in where.parents):
        raise ValueError(f"get_file: refusing to extract {archive!r}: member {name!r} is "
                         f"{'a link or special file' if not plain else 'outside the target'}"
                         f" directory {target!r}; only plain files and directories inside it "
                         "are unpacked.")
