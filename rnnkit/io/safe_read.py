"""Reading untrusted HDF5, JSON and ZIP data without surprises.

Everything a loader takes from a file passes through here: the bytes are checked to be the
kind of file expected (HDF5 signature, ZIP), every dataset's declared size is checked against
the bytes the file actually stores before it is read (so a tiny file cannot declare a
terabyte array), attributes and JSON have size and nesting limits, and every failure of
the underlying libraries becomes a :class:`FileFormatError` that names the file. Nothing
here unpickles: h5py is asked for numeric datasets only, and JSON is plain data.

Nothing outside the file is ever read: only regular files are opened (``rnnkit._files``,
never blocking on a FIFO or device), HDF5 objects are reached through hard links only
(external and soft links are refused, not followed), and datasets with external storage,
virtual (mapped) layouts or filters outside a short allow-list are refused before a byte
of them is read. Each load sets a byte budget derived from the model it fills
(:func:`set_budget`): the arrays read from one file may not add up to more, and a dataset
referenced twice is read once.
"""
from __future__ import annotations

import contextlib
import io
import json
import mmap
import os
import zipfile
from typing import Any, Iterator

import numpy as np

from .._files import open_regular, parse_json  # noqa: F401  (parse_json: re-exported)
from .._files.reading import MAX_JSON_BYTES, MAX_JSON_DEPTH  # noqa: F401
from .errors import FileFormatError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"
MAX_ATTRIBUTE_BYTES = 64 * 2 ** 20
MAX_MEMBER_BYTES = 16 * 2 ** 30    # one member of a .keras archive, decompressed
MAX_COMPRESSION_RATIO = 200        # deflated members beyond this are treated as zip bombs
MAX_NAME_CHUNKS = 1024             # `layer_names0..n`: tf.keras splits at 64 KiB, so 64 MiB
MAX_NAMES = 200_000                # names in one list attribute
# HDF5 filters a Keras file may use: deflate, shuffle, fletcher32, szip, nbit, scaleoffset,
# lzf. Any other id would make libhdf5 search its plugin path and load a library.
ALLOWED_FILTERS = {1, 2, 3, 4, 5, 6, 32000}


def file_kind(source: Any) -> str:
    """``"hdf5"``, ``"zip"`` or ``"unknown"``, from the first bytes of a path or bytes."""
    if isinstance(source, (bytes, bytearray)):
        head = bytes(source[:8])
    else:
        with open_regular(source, repr(os.fspath(source))) as handle:
            head = handle.read(8)
    if head.startswith(HDF5_SIGNATURE):
        return "hdf5"
    if head.startswith(ZIP_SIGNATURE):
        return "zip"
    return "unknown"


def model_file_kind(path: Any, label: str) -> str:
    """``"hdf5"``, ``"keras"`` (a ZIP with ``config.json``), ``"npz"`` (a ZIP of ``.npy``
    members: rnnkit's own files) or ``"unknown"``; only a regular file is opened."""
    kind = file_kind(path)
    if kind != "zip":
        return kind
    archive, _, raw = open_zip(path, label)
    with raw, archive:
        names = archive.namelist()
    if "config.json" in names or "model.weights.h5" in names:
        return "keras"
    if names and all(n.endswith(".npy") for n in names):
        return "npz"
    return "keras"  # let the .keras reader say what is missing


def open_h5(source: Any, label: str) -> Any:
    """Open an HDF5 file (path or bytes) read-only; a non-HDF5 or broken file -> FileFormatError.

    A path is opened once, as a regular file (never blocking), and libhdf5 reads through that
    descriptor, so the file checked is the file read."""
    import h5py

    if isinstance(source, (bytes, bytearray)):
        if not bytes(source[:8]).startswith(HDF5_SIGNATURE):
            raise FileFormatError(f"{label} is not an HDF5 file (no HDF5 signature at its start).")
        check_global_heaps(source, label)
        raw, size = BufferReader(source), len(source)
    elif isinstance(source, MemberWindow):
        raw, size = source, source.length
        try:
            if os.pread(raw.raw.fileno(), 8, raw.start) != HDF5_SIGNATURE:
                raise FileFormatError(f"{label} is not an HDF5 file (no HDF5 signature at its "
                                      "start).")
            with mmap.mmap(raw.raw.fileno(), 0, access=mmap.ACCESS_READ) as data:
                check_global_heaps(data, label, raw.start, raw.start + raw.length)
        except BaseException:
            raw.close()
            raise
    else:
        raw = open_regular(source, label)
        size = os.fstat(raw.fileno()).st_size
        try:
            if not raw.read(8).startswith(HDF5_SIGNATURE):
                raise FileFormatError(f"{label} is not an HDF5 file (no HDF5 signature at its "
                                      "start).")
            raw.seek(0)
            with mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as data:
                check_global_heaps(data, label)
        except BaseException:
            raw.close()
            raise
    try:
        handle = _ClosingFile(raw, "r")
    except Exception as error:  # h5py raises OSError, ValueError, RuntimeError, ...
        raw.close()
        raise FileFormatError(f"{label} is not a readable HDF5 file (truncated or corrupt): "
                              f"{error}") from None
    handle._raw = raw
    # h5py makes a new File object per `obj.file`: what the loaders know is kept by file number
    _OPEN[handle.id.fileno] = _FileInfo(label, size)
    return handle


def _closing_file_class() -> Any:
    import h5py

    class ClosingFile(h5py.File):
        """An ``h5py.File`` over a Python file object that closes that object with itself."""

        def close(self) -> None:
            try:
                fileno = self.id.fileno if self.id.valid else None
            except Exception:
                fileno = None
            try:
                super().close()
            finally:
                _OPEN.pop(fileno, None)
                raw = getattr(self, "_raw", None)
                if raw is not None:
                    raw.close()

    return ClosingFile


def _ClosingFile(raw: Any, mode: str) -> Any:  # noqa: N802  (a class made on first use)
    global _CLOSING_FILE
    if _CLOSING_FILE is None:
        _CLOSING_FILE = _closing_file_class()
    return _CLOSING_FILE(raw, mode)


_CLOSING_FILE: Any = None


@contextlib.contextmanager
def library_errors(label: str) -> Iterator[None]:
    """Turn what h5py/libhdf5 raise on a corrupt file (RuntimeError, OSError, KeyError, ...)
    into a FileFormatError naming the file; rnnkit's own errors pass through."""
    try:
        yield
    except (FileFormatError, MemoryError):
        raise
    except Exception as error:
        raise FileFormatError(f"{label} is corrupt or not a Keras file: "
                              f"{type(error).__name__}: {error}") from None


def check_global_heaps(data: Any, label: str, base: int = 0, stop: int | None = None) -> None:
    """Walk every HDF5 global heap collection (where variable-length strings live) first.

    libhdf5 can loop forever on a collection whose object sizes were corrupted; a file whose
    collections do not add up exactly is refused before libhdf5 reads it.
    """
    stop = len(data) if stop is None else stop
    start = data.find(b"GCOL", base, stop)
    while start != -1:
        if start + 16 <= stop and data[start + 4] == 1:
            size = int.from_bytes(data[start + 8:start + 16], "little")
            end = start + size
            if size < 4096 or end > stop:
                raise FileFormatError(f"{label}: corrupt HDF5 global heap at byte {start} "
                                      f"(size {size}, file {stop - base} bytes).")
            pos, seen = start + 16, set()
            while pos + 16 <= end:
                index = int.from_bytes(data[pos:pos + 2], "little")
                obj_size = int.from_bytes(data[pos + 8:pos + 16], "little")
                if index == 0:  # free space: the rest of the collection
                    if obj_size != end - pos:
                        raise FileFormatError(f"{label}: corrupt HDF5 global heap at byte {start} "
                                              "(free space does not fill the collection).")
                    break
                step = 16 + (obj_size + 7) // 8 * 8
                if index in seen or pos + step > end:
                    raise FileFormatError(f"{label}: corrupt HDF5 global heap at byte {start} "
                                          f"(object {index} at byte {pos}).")
                seen.add(index)
                pos += step
        start = data.find(b"GCOL", start + 4, stop)


class _FileInfo:
    """What the loaders know about one open file: its label, its size, the byte budget left
    for arrays and the arrays already read (by object address)."""

    def __init__(self, label: str, size: int) -> None:
        self.label, self.size = label, size
        self.budget: int | None = None
        self.budget_what = ""
        self.read: dict[int, np.ndarray] = {}


# By HDF5 file number (every h5py object of one open file shares it).
_OPEN: dict[int, _FileInfo] = {}
_UNKNOWN = _FileInfo("file", -1)


def _file_info(obj: Any) -> _FileInfo:
    try:
        return _OPEN.get(obj.file.id.fileno, _UNKNOWN)
    except Exception:
        return _UNKNOWN


def _info(obj: Any) -> tuple[str, int | None]:
    info = _file_info(obj)
    return info.label, (info.size if info.size >= 0 else None)


def _label(obj: Any) -> str:
    return _info(obj)[0]


def set_budget(handle: Any, nbytes: int, what: str) -> None:
    """Allow at most ``nbytes`` more of arrays to be read from ``handle``'s file (for
    ``what``, named in the error); arrays already read stay cached."""
    info = _file_info(handle)
    if info is not _UNKNOWN:
        info.budget, info.budget_what = int(nbytes), what


def model_budget(model: Any, factor: int = 2) -> int:
    """The bytes a file may hold for ``model``'s weights: every element at 8 bytes (float64),
    ``factor`` times over (CuDNN biases are twice Keras's), plus 64 KiB of slack."""
    count = sum(int(np.prod(tuple(p.shape), dtype=np.float64)) for p in model.weights)
    return factor * 8 * count + 2 ** 16


def _hard_link_walk(group: Any, key: str, what: str, missing_ok: bool) -> Any:
    """Follow ``key`` (``a/b/c``) from ``group`` one hard link at a time; ``None`` when a
    part is missing and ``missing_ok``. External, soft and user-defined links are refused:
    an external link would open another file (a FIFO blocks for ever), a soft link can
    point anywhere, and Keras writes neither."""
    from h5py import h5l

    label = _label(group)
    node = group
    for part in [p for p in key.split("/") if p not in ("", ".")]:
        name = part.encode("utf-8")
        try:
            if not node.id.links.exists(name):
                if missing_ok:
                    return None
                raise FileFormatError(f"{label}: {what} not found (no {key!r} in "
                                      f"{group.name!r}).")
            kind = node.id.links.get_info(name).type
        except FileFormatError:
            raise
        except Exception as error:
            raise FileFormatError(f"{label}: cannot read {what} ({key!r}): {error}") from None
        if kind != h5l.TYPE_HARD:
            link = {h5l.TYPE_EXTERNAL: "an external link (to another file)",
                    h5l.TYPE_SOFT: "a soft link"}.get(kind, f"a link of type {kind}")
            raise FileFormatError(f"{label}: {what} ({key!r}) is reached through {link} at "
                                  f"{part!r}; rnnkit reads only what the file itself holds "
                                  "and never follows links (corrupt or hostile file).")
        if not is_group(node):
            raise FileFormatError(f"{label}: {what} ({key!r}): {node.name!r} is not a group.")
        try:
            node = node[part]
        except Exception as error:
            raise FileFormatError(f"{label}: cannot read {what} ({key!r}): {error}") from None
    return node


def get_child(group: Any, key: str, what: str) -> Any:
    """``group[key]`` through hard links only, or a FileFormatError saying what was looked for."""
    return _hard_link_walk(group, key, what, missing_ok=False)


def has_child(group: Any, key: str) -> bool:
    """Whether ``group`` holds ``key`` (through hard links; any other link is refused)."""
    return _hard_link_walk(group, key, repr(key), missing_ok=True) is not None


def child_names(group: Any, what: str) -> list[str]:
    """The names in ``group`` (links are listed, not followed)."""
    try:
        return [n.decode("utf-8", "replace") if isinstance(n, bytes) else n
                for n in group.keys()]
    except Exception as error:
        raise FileFormatError(f"{_label(group)}: cannot list {what}: {error}") from None


def is_group(obj: Any) -> bool:
    import h5py
    return isinstance(obj, h5py.Group)


def read_attribute(obj: Any, name: str) -> Any:
    """An attribute after checking its stored size (``None`` when absent)."""
    try:
        if name not in obj.attrs:
            return None
        try:
            size = obj.attrs.get_id(name).get_storage_size()
        except Exception:  # HDF5 reports an empty attribute's size of 0 as an error
            size = 0
        file_size = _info(obj)[1]
        if size > MAX_ATTRIBUTE_BYTES or (file_size is not None and size > file_size):
            raise FileFormatError(f"{_label(obj)}: attribute {name!r} of {obj.name!r} declares "
                                  f"{size} bytes, more than the file holds.")
        return obj.attrs[name]
    except FileFormatError:
        raise
    except Exception as error:
        raise FileFormatError(f"{_label(obj)}: cannot read attribute {name!r} of "
                              f"{obj.name!r}: {error}") from None


def _as_text(value: Any, where: str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise FileFormatError(f"{where}: not UTF-8 text.") from None
    if isinstance(value, str):
        return value
    if isinstance(value, np.str_):
        return str(value)
    raise FileFormatError(f"{where}: expected text, found {type(value).__name__}.")


def read_text_attribute(obj: Any, name: str) -> str | None:
    value = read_attribute(obj, name)
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    return _as_text(value, f"{_label(obj)}: attribute {name!r}")


def read_name_list(obj: Any, name: str) -> list[str] | None:
    """A list-of-names attribute, joining Keras's chunks ``name0``, ``name1``, ... when split."""
    chunks = []
    value = read_attribute(obj, name)
    if value is None:
        try:
            present = set(obj.attrs.keys())
        except Exception as error:
            raise FileFormatError(f"{_label(obj)}: cannot list the attributes of {obj.name!r}: "
                                  f"{error}") from None
        index = 0
        while f"{name}{index}" in present:
            if index >= MAX_NAME_CHUNKS:
                raise FileFormatError(f"{_label(obj)}: attribute {name!r} of {obj.name!r} is "
                                      f"split into more than {MAX_NAME_CHUNKS} chunks "
                                      "(corrupt or hostile).")
            chunks.append(read_attribute(obj, f"{name}{index}"))
            index += 1
        if not chunks:
            return None
    else:
        chunks = [value]
    names = []
    for chunk in chunks:
        array = np.asarray(chunk)
        if array.size == 0:
            continue
        if array.dtype.kind not in "OSU" or array.ndim > 1:
            raise FileFormatError(f"{_label(obj)}: attribute {name!r} of {obj.name!r} should "
                                  f"be a list of names; found {array.dtype} {array.shape}.")
        if len(names) + array.size > MAX_NAMES:
            raise FileFormatError(f"{_label(obj)}: attribute {name!r} of {obj.name!r} lists "
                                  f"more than {MAX_NAMES} names (corrupt or hostile).")
        names += [_as_text(v, f"{_label(obj)}: attribute {name!r}") for v in array.reshape(-1)]
    return names


def check_dataset(dataset: Any, what: str) -> tuple[tuple[int, ...], int]:
    """``(shape, bytes)`` of a numeric dataset the file itself stores, checked without
    reading it: no external storage, no virtual layout, only allowed filters, and a declared
    size the stored bytes can hold."""
    import h5py
    from h5py import h5d

    label = _label(dataset)
    if not isinstance(dataset, h5py.Dataset):
        raise FileFormatError(f"{label}: {what} should be an array, found a group "
                              f"({dataset.name!r}).")
    try:
        plist = dataset.id.get_create_plist()
        if plist.get_external_count() > 0:
            raise FileFormatError(
                f"{label}: {what} ({dataset.name!r}) keeps its data in external files; rnnkit "
                "reads only what the file itself holds (corrupt or hostile file: external "
                "storage can point at any local file).")
        if plist.get_layout() == h5d.VIRTUAL:
            raise FileFormatError(f"{label}: {what} ({dataset.name!r}) is a virtual dataset "
                                  "mapped from other files; rnnkit refuses it.")
        filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
        unknown = [f for f in filters if f not in ALLOWED_FILTERS]
        if unknown:
            raise FileFormatError(f"{label}: {what} ({dataset.name!r}) uses HDF5 filter(s) "
                                  f"{unknown}, which rnnkit does not load (allowed: "
                                  f"{sorted(ALLOWED_FILTERS)}).")
        dtype, shape = dataset.dtype, dataset.shape
        if dtype.kind not in "fiu" or dtype.itemsize > 8 or shape is None:
            raise FileFormatError(f"{label}: {what} ({dataset.name!r}) has type {dtype}; "
                                  "weights must be numeric arrays.")
        nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        stored = dataset.id.get_storage_size()
        limit = stored * (MAX_COMPRESSION_RATIO if filters else 1)
        if nbytes > limit or nbytes > MAX_MEMBER_BYTES:
            raise FileFormatError(
                f"{label}: {what} ({dataset.name!r}) declares shape {tuple(shape)} "
                f"({nbytes} bytes) but the file stores {stored} bytes for it (corrupt or hostile).")
    except FileFormatError:
        raise
    except Exception as error:
        raise FileFormatError(f"{label}: cannot read {what} ({dataset.name!r}): {error}") from None
    return tuple(shape), nbytes


def dataset_shape(dataset: Any, what: str) -> tuple[int, ...]:
    """A dataset's shape, checked as :func:`read_array` checks it, without reading it."""
    return check_dataset(dataset, what)[0]


def read_array(dataset: Any, what: str) -> np.ndarray:
    """A numeric dataset as a NumPy array, after checking it (:func:`check_dataset`) and the
    file's byte budget; a dataset read before is returned from the cache, not read again."""
    from h5py import h5o

    label = _label(dataset)
    _, nbytes = check_dataset(dataset, what)
    info = _file_info(dataset)
    try:
        address = h5o.get_info(dataset.id).addr
    except Exception as error:
        raise FileFormatError(f"{label}: cannot read {what} ({dataset.name!r}): {error}") from None
    if address in info.read:
        return info.read[address]
    if info.budget is not None:
        if nbytes > info.budget:
            raise FileFormatError(
                f"{label}: {what} ({dataset.name!r}) holds {nbytes} bytes, more than is left "
                f"of what {info.budget_what} can use ({max(info.budget, 0)} bytes): the file "
                "holds more or larger arrays than the model has weights (corrupt or hostile).")
        info.budget -= nbytes
    try:
        value = np.asarray(dataset[()])
    except Exception as error:
        raise FileFormatError(f"{label}: cannot read {what} ({dataset.name!r}): {error}") from None
    if info is not _UNKNOWN:
        info.read[address] = value
    return value


class _ReadOnlyWindow(io.RawIOBase):
    """A read-only, seekable file of ``length`` bytes: subclasses say how ``count`` bytes at
    a position are read (``_read_at``) and what closing releases (``_release``)."""

    def __init__(self, length: int) -> None:
        super().__init__()
        self.length, self.position = length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self.length - self.position))
        data = self._read_at(self.position, count) if count else b""
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        if not self.closed:
            self._release()
        super().close()


class BufferReader(_ReadOnlyWindow):
    """A read-only, seekable file over bytes or a bytearray, without copying it (``BytesIO``
    copies a bytearray)."""

    def __init__(self, data: Any) -> None:
        self.view = memoryview(data)
        super().__init__(len(self.view))

    def _read_at(self, position: int, count: int) -> Any:
        return self.view[position:position + count]

    def _release(self) -> None:
        self.view.release()


class MemberWindow(_ReadOnlyWindow):
    """A stored (uncompressed) ZIP member read in place: a read-only, seekable view of
    ``length`` bytes at ``start`` of an open file, read with ``os.pread`` (so it shares no
    file position with the ``ZipFile``). libhdf5 reads the member through it: nothing is
    copied into memory. Closing it closes the file."""

    def __init__(self, raw: Any, start: int, length: int) -> None:
        self.raw, self.start = raw, start
        super().__init__(length)

    def _read_at(self, position: int, count: int) -> bytes:
        return os.pread(self.raw.fileno(), count, self.start + position)

    def _release(self) -> None:
        self.raw.close()


def _member_info(archive: zipfile.ZipFile, name: str, label: str,
                 archive_size: int) -> zipfile.ZipInfo:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise FileFormatError(f"{label} has no {name!r} (members: "
                              f"{sorted(archive.namelist())[:10]}).") from None
    if info.flag_bits & 0x1:
        raise FileFormatError(f"{label}: {name!r} is encrypted.")
    stored = info.compress_type == zipfile.ZIP_STORED
    limit = info.compress_size * (1 if stored else MAX_COMPRESSION_RATIO)
    if info.file_size > min(limit, MAX_MEMBER_BYTES) or info.compress_size > archive_size \
            or info.header_offset + info.compress_size > archive_size:
        raise FileFormatError(f"{label}: {name!r} declares {info.file_size} bytes from "
                              f"{info.compress_size} stored (corrupt or a zip bomb).")
    return info


def read_zip_member(archive: zipfile.ZipFile, name: str, label: str, archive_size: int,
                    limit: int = MAX_MEMBER_BYTES, what: str = "") -> bytes:
    """One member of a ZIP, bounded by its declared size, a compression-ratio limit and
    ``limit`` (what the caller can use, e.g. what the model's weights need: ``what``),
    decompressed once into one buffer."""
    info = _member_info(archive, name, label, archive_size)
    if info.file_size > limit:
        raise FileFormatError(f"{label}: {name!r} is {info.file_size} bytes, more than "
                              f"{what or 'rnnkit'} can use ({limit} bytes; corrupt or hostile).")
    buffer = bytearray(info.file_size)
    view, filled = memoryview(buffer), 0
    try:
        with archive.open(info) as handle:
            while filled < info.file_size:
                chunk = handle.read(min(2 ** 20, info.file_size - filled))
                if not chunk:
                    break
                view[filled:filled + len(chunk)] = chunk
                filled += len(chunk)
            extra = handle.read(1)
    except Exception as error:
        raise FileFormatError(f"{label}: cannot read {name!r}: {error}") from None
    if filled != info.file_size or extra:
        raise FileFormatError(f"{label}: {name!r} holds {'more' if extra else filled} bytes, "
                              f"not the {info.file_size} it declares.")
    return buffer  # type: ignore[return-value]


def zip_member_source(archive: zipfile.ZipFile, raw: Any, name: str, label: str,
                      archive_size: int, limit: int, what: str) -> Any:
    """What :func:`open_h5` can read a member from: a :class:`MemberWindow` over a stored
    member (no copy; it takes ``raw`` over), else the member's bytes (bounded by ``limit``)."""
    info = _member_info(archive, name, label, archive_size)
    if info.compress_type != zipfile.ZIP_STORED:
        return read_zip_member(archive, name, label, archive_size, limit, what)
    header = os.pread(raw.fileno(), 30, info.header_offset)
    if len(header) != 30 or not header.startswith(ZIP_SIGNATURE):
        raise FileFormatError(f"{label}: the local header of {name!r} is corrupt.")
    start = (info.header_offset + 30 + int.from_bytes(header[26:28], "little")
             + int.from_bytes(header[28:30], "little"))
    if start + info.file_size > archive_size or info.file_size != info.compress_size:
        raise FileFormatError(f"{label}: {name!r} runs past the end of the archive (truncated "
                              "or corrupt).")
    return MemberWindow(raw, start, info.file_size)


def open_zip(path: Any, label: str) -> tuple[zipfile.ZipFile, int, Any]:
    """``(ZipFile, size, raw file)`` of a regular file holding a ZIP archive; the caller
    closes ``raw`` (the ``ZipFile`` does not)."""
    raw = open_regular(path, label)
    try:
        if not raw.read(4).startswith(ZIP_SIGNATURE):
            raise FileFormatError(f"{label} is not a .keras archive (not a ZIP file).")
        raw.seek(0)
        size = os.fstat(raw.fileno()).st_size
        return zipfile.ZipFile(raw, "r"), size, raw
    except FileFormatError:
        raw.close()
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raw.close()
        raise FileFormatError(f"{label} is not a readable .keras archive (truncated or "
                              f"corrupt): {error}") from None
