"""Reading untrusted HDF5, JSON and ZIP data without surprises.

Everything a loader takes from a file passes through here: the bytes are checked to be the
kind of file expected (HDF5 signature, ZIP), every dataset's declared size is checked against
the bytes the file actually stores before it is read (so a tiny file cannot declare a
terabyte array), attributes and JSON have size and nesting limits, and every failure of
the underlying libraries becomes a :class:`FileFormatError` that names the file. Nothing
here unpickles: h5py is asked for numeric datasets only, and JSON is plain data.
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

from .errors import FileFormatError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"
MAX_JSON_BYTES = 64 * 2 ** 20      # a model config is kilobytes; 64 MiB is generous
MAX_JSON_DEPTH = 64                # Sequential > Bidirectional > LSTM > initializer ~ 8
MAX_ATTRIBUTE_BYTES = 64 * 2 ** 20
MAX_MEMBER_BYTES = 16 * 2 ** 30    # one member of a .keras archive, decompressed
MAX_COMPRESSION_RATIO = 200        # deflated members beyond this are treated as zip bombs


def file_kind(source: Any) -> str:
    """``"hdf5"``, ``"zip"`` or ``"unknown"``, from the first bytes of a path or bytes."""
    if isinstance(source, (bytes, bytearray)):
        head = bytes(source[:8])
    else:
        try:
            with open(source, "rb") as handle:
                head = handle.read(8)
        except OSError as error:
            raise FileFormatError(f"Cannot read {source!s}: {error.strerror or error}.") from None
    if head.startswith(HDF5_SIGNATURE):
        return "hdf5"
    if head.startswith(ZIP_SIGNATURE):
        return "zip"
    return "unknown"


def open_h5(source: Any, label: str) -> Any:
    """Open an HDF5 file (path or bytes) read-only; a non-HDF5 or broken file -> FileFormatError."""
    import h5py

    if file_kind(source) != "hdf5":
        raise FileFormatError(f"{label} is not an HDF5 file (no HDF5 signature at its start).")
    if isinstance(source, (bytes, bytearray)):
        check_global_heaps(bytes(source), label)
    else:
        with open(source, "rb") as raw, mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as data:
            check_global_heaps(data, label)
    try:
        if isinstance(source, (bytes, bytearray)):
            handle = h5py.File(io.BytesIO(bytes(source)), "r")
        else:
            handle = h5py.File(source, "r")
        size = len(source) if isinstance(source, (bytes, bytearray)) else os.path.getsize(source)
        _OPEN[handle.id.fileno] = (label, size)  # h5py makes a new File object per `obj.file`
    except Exception as error:  # h5py raises OSError, ValueError, RuntimeError, ...
        raise FileFormatError(f"{label} is not a readable HDF5 file (truncated or corrupt): "
                              f"{error}") from None
    return handle


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


def check_global_heaps(data: Any, label: str) -> None:
    """Walk every HDF5 global heap collection (where variable-length strings live) first.

    libhdf5 can loop forever on a collection whose object sizes were corrupted; a file whose
    collections do not add up exactly is refused before libhdf5 reads it.
    """
    start = data.find(b"GCOL")
    while start != -1:
        if start + 16 <= len(data) and data[start + 4] == 1:
            size = int.from_bytes(data[start + 8:start + 16], "little")
            end = start + size
            if size < 4096 or end > len(data):
                raise FileFormatError(f"{label}: corrupt HDF5 global heap at byte {start} "
                                      f"(size {size}, file {len(data)} bytes).")
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
        start = data.find(b"GCOL", start + 4)


# What the loaders know about each open file, by HDF5 file number: (label, size in bytes).
_OPEN: dict[int, tuple[str, int]] = {}


def _info(obj: Any) -> tuple[str, int | None]:
    try:
        return _OPEN.get(obj.file.id.fileno, ("file", None))
    except Exception:
        return ("file", None)


def _label(obj: Any) -> str:
    return _info(obj)[0]


def get_child(group: Any, key: str, what: str) -> Any:
    """``group[key]`` or a FileFormatError saying what was looked for."""
    try:
        if key not in group:
            raise FileFormatError(f"{_label(group)}: {what} not found (no {key!r} in "
                                  f"{group.name!r}).")
        return group[key]
    except FileFormatError:
        raise
    except Exception as error:
        raise FileFormatError(f"{_label(group)}: cannot read {what} ({key!r}): {error}") from None


def has_child(group: Any, key: str) -> bool:
    try:
        return key in group
    except Exception as error:
        raise FileFormatError(f"{_label(group)}: corrupt group {group.name!r}: {error}") from None


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
        index = 0
        while True:
            part = read_attribute(obj, f"{name}{index}")
            if part is None:
                break
            chunks.append(part)
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
        names += [_as_text(v, f"{_label(obj)}: attribute {name!r}") for v in array.reshape(-1)]
    return names


def read_array(dataset: Any, what: str) -> np.ndarray:
    """A numeric dataset as a NumPy array, after checking its size against the stored bytes."""
    import h5py

    label = _label(dataset)
    if not isinstance(dataset, h5py.Dataset):
        raise FileFormatError(f"{label}: {what} should be an array, found a group "
                              f"({dataset.name!r}).")
    try:
        dtype, shape = dataset.dtype, dataset.shape
        if dtype.kind not in "fiu" or dtype.itemsize > 8 or shape is None:
            raise FileFormatError(f"{label}: {what} ({dataset.name!r}) has type {dtype}; "
                                  "weights must be numeric arrays.")
        nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        stored = dataset.id.get_storage_size()
        filtered = dataset.id.get_create_plist().get_nfilters() > 0
        limit = stored * (MAX_COMPRESSION_RATIO if filtered else 1)
        if nbytes > limit or nbytes > MAX_MEMBER_BYTES:
            raise FileFormatError(
                f"{label}: {what} ({dataset.name!r}) declares shape {tuple(shape)} "
                f"({nbytes} bytes) but the file stores {stored} bytes for it (corrupt or hostile).")
        value = dataset[()]
    except FileFormatError:
        raise
    except Exception as error:
        raise FileFormatError(f"{label}: cannot read {what} ({dataset.name!r}): {error}") from None
    return np.asarray(value)


def parse_json(text: Any, what: str) -> Any:
    """Plain JSON data with limits on size and nesting depth."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_JSON_BYTES:
            raise FileFormatError(f"{what} is {len(text)} bytes; more than rnnkit reads "
                                  f"({MAX_JSON_BYTES}).")
        text = _as_text(bytes(text), what)
    if len(text) > MAX_JSON_BYTES:
        raise FileFormatError(f"{what} is too large ({len(text)} characters).")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
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


def read_zip_member(archive: zipfile.ZipFile, name: str, label: str, archive_size: int) -> bytes:
    """One member of a ZIP, bounded by its declared size and a compression-ratio limit."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise FileFormatError(f"{label} has no {name!r} (members: "
                              f"{sorted(archive.namelist())[:10]}).") from None
    if info.flag_bits & 0x1:
        raise FileFormatError(f"{label}: {name!r} is encrypted.")
    limit = info.compress_size * (1 if info.compress_type == zipfile.ZIP_STORED
                                  else MAX_COMPRESSION_RATIO)
    if info.file_size > min(limit, MAX_MEMBER_BYTES) or info.compress_size > archive_size:
        raise FileFormatError(f"{label}: {name!r} declares {info.file_size} bytes from "
                              f"{info.compress_size} stored (corrupt or a zip bomb).")
    try:
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)
    except Exception as error:
        raise FileFormatError(f"{label}: cannot read {name!r}: {error}") from None
    if len(data) != info.file_size:
        raise FileFormatError(f"{label}: {name!r} holds {len(data)} bytes, not the "
                              f"{info.file_size} it declares.")
    return data


def open_zip(path: Any, label: str) -> tuple[zipfile.ZipFile, int]:
    if file_kind(path) != "zip":
        raise FileFormatError(f"{label} is not a .keras archive (not a ZIP file).")
    try:
        size = os.path.getsize(path)
        return zipfile.ZipFile(path, "r"), size
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise FileFormatError(f"{label} is not a readable .keras archive (truncated or "
                              f"corrupt): {error}") from None
