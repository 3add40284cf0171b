"""NumPy ``.npz`` archives read safely: rnnkit's own model/weights files and backups.

``np.load`` trusts the archive: it reads a whole member to learn it is unused, allocates
whatever a header declares, and on a non-ZIP file falls back to ``.npy`` or pickle
detection ("This file contains pickled data"). :class:`NpzReader` opens only a regular
ZIP file, reads every member's ``.npy`` header first (the header's shape times its item
size must be exactly the bytes the member holds, and a deflated member may not expand more
than :data:`MAX_COMPRESSION_RATIO` times), refuses object arrays (pickle), and reads a
member only when asked, within a byte budget the caller derives from its model.
"""
from __future__ import annotations

import os
import zipfile
from typing import Any, NamedTuple

import numpy as np

from .reading import FileFormatError, open_regular

ZIP_SIGNATURE = b"PK\x03\x04"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
MAX_MEMBERS = 100_000
MAX_COMPRESSION_RATIO = 200
MAX_HEADER_BYTES = 10_000          # numpy's own default limit
NUMERIC_KINDS = "biuf"             # bool, ints, floats: what weights and RNG states are


class Entry(NamedTuple):
    key: str                       # the member name without ``.npy``
    info: zipfile.ZipInfo
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    header_bytes: int

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.float64)) * self.dtype.itemsize


class NpzReader:
    """An open ``.npz`` archive whose members' headers are checked; see the module docstring.

    ``text_keys`` may hold unicode arrays (a JSON string, as rnnkit stores its config);
    every other member must be numeric. ``budget`` bounds the bytes :meth:`read` may
    allocate, all members together."""

    def __init__(self, path: Any, label: str, budget: int | None = None,
                 text_keys: tuple[str, ...] = (), what: str = "an .npz file") -> None:
        self.label, self.budget, self.what = label, budget, what
        self.raw = open_regular(path, label)
        try:
            head = self.raw.read(8)
            if head.startswith(HDF5_SIGNATURE):
                raise FileFormatError(f"{label} is an HDF5 file, not {what} (a ZIP of .npy "
                                      "arrays); load it as a Keras .h5 file.")
            if not head.startswith(ZIP_SIGNATURE):
                raise FileFormatError(f"{label} is not {what} (not a ZIP archive of .npy arrays).")
            self.raw.seek(0)
            self.size = os.fstat(self.raw.fileno()).st_size
            try:
                self.zip = zipfile.ZipFile(self.raw, "r")
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
                raise FileFormatError(f"{label} is not a readable {what} (truncated or corrupt): "
                                      f"{error}") from None
            self.entries = self._scan(text_keys)
        except BaseException:
            self.close()
            raise

    def _scan(self, text_keys: tuple[str, ...]) -> dict[str, Entry]:
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise FileFormatError(f"{self.label} holds {len(infos)} members; more than rnnkit "
                                  f"reads ({MAX_MEMBERS}).")
        entries: dict[str, Entry] = {}
        for info in infos:
            name = info.filename
            if not name.endswith(".npy"):
                raise FileFormatError(f"{self.label}: member {name!r} is not an .npy array; "
                                      f"not {self.what}.")
            key = name[:-4]
            if key in entries:
                raise FileFormatError(f"{self.label}: member {name!r} appears twice.")
            entries[key] = self._header(info, key, key in text_keys)
        return entries

    def _header(self, info: zipfile.ZipInfo, key: str, text_allowed: bool) -> Entry:
        where = f"{self.label}: array {key!r}"
        if info.flag_bits & 0x1:
            raise FileFormatError(f"{where} is encrypted.")
        stored = info.compress_type == zipfile.ZIP_STORED
        if info.compress_size > self.size or info.file_size > info.compress_size * (
                1 if stored else MAX_COMPRESSION_RATIO):
            raise FileFormatError(f"{where} declares {info.file_size} bytes from "
                                  f"{info.compress_size} stored (corrupt or a zip bomb).")
        try:
            with self.zip.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                        member, max_header_size=MAX_HEADER_BYTES)
                elif version in ((2, 0), (3, 0)):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                        member, max_header_size=MAX_HEADER_BYTES)
                else:
                    raise ValueError(f"unknown .npy version {version}")
                header = member.tell()
        except FileFormatError:
            raise
        except Exception as error:  # bad magic, bad header, truncated, CRC, ...
            raise FileFormatError(f"{where} has a corrupt .npy header: {error}") from None
        kinds = NUMERIC_KINDS + ("U" if text_allowed else "")
        if dtype.hasobject or dtype.kind not in kinds or dtype.fields is not None:
            raise FileFormatError(
                f"{where} has type {dtype}; rnnkit reads numeric arrays only"
                + (" (object arrays would need pickle, which rnnkit never loads)"
                   if dtype.hasobject else "") + ".")
        if any(not isinstance(n, int) or n < 0 for n in shape):
            raise FileFormatError(f"{where} has an invalid shape {shape}.")
        entry = Entry(key, info, dtype, tuple(shape), bool(fortran), header)
        if header + entry.nbytes != info.file_size:
            raise FileFormatError(f"{where} declares shape {entry.shape} of {dtype} "
                                  f"({entry.nbytes} bytes) but the member holds "
                                  f"{info.file_size - header} (corrupt or hostile).")
        return entry

    def read(self, key: str) -> np.ndarray:
        """One array, allocated only once its size is known to fit the budget."""
        entry = self.entries.get(key)
        if entry is None:
            raise FileFormatError(f"{self.label} has no array {key!r}.")
        if self.budget is not None:
            if entry.nbytes > self.budget:
                raise FileFormatError(
                    f"{self.label}: array {key!r} is {entry.nbytes} bytes, more than is left "
                    f"of what {self.what} may hold for this model ({max(self.budget, 0)} bytes; "
                    "corrupt or hostile).")
            self.budget -= entry.nbytes
        order = "F" if entry.fortran_order else "C"
        array = np.empty(entry.shape, dtype=entry.dtype, order=order)
        target = memoryview(array.reshape(-1, order="A").view(np.uint8)) if array.size else None
        try:
            with self.zip.open(entry.info) as member:
                member.seek(entry.header_bytes)
                filled = 0
                while target is not None and filled < entry.nbytes:
                    chunk = member.read(min(2 ** 20, entry.nbytes - filled))
                    if not chunk:
                        break
                    target[filled:filled + len(chunk)] = chunk
                    filled += len(chunk)
                if target is not None and filled != entry.nbytes:
                    raise FileFormatError(f"{self.label}: array {key!r} is truncated.")
        except FileFormatError:
            raise
        except Exception as error:
            raise FileFormatError(f"{self.label}: cannot read array {key!r}: {error}") from None
        return array

    def text(self, key: str, limit: int) -> str | None:
        """A 0-d unicode member (rnnkit's JSON entries), at most ``limit`` bytes; ``None``
        when absent."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry.dtype.kind != "U" or entry.shape != () or entry.nbytes > limit:
            raise FileFormatError(f"{self.label}: {key!r} should be one text string of at most "
                                  f"{limit} bytes; found {entry.dtype} {entry.shape}.")
        budget, self.budget = self.budget, None
        try:
            return str(self.read(key)[()])
        finally:
            self.budget = budget

    def close(self) -> None:
        zip_file = getattr(self, "zip", None)
        if zip_file is not None:
            zip_file.close()
        self.raw.close()

    def __enter__(self) -> "NpzReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
