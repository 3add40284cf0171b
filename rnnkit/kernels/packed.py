"""Recurrent kernels packed for rnnkit's own product (``native/packed_product.c``).

The LSTM loop's recurrent product reads the recurrent kernel ``U`` (H, 4H) once per step,
and the backward reads ``U^T`` once per step: both are packed once per call into panels,
each panel one contiguous stream (``rnnkit_pack_panels``): 16 columns wide for products of
four rows or more, 64 for fewer (a matrix-vector product per row), so a pack is made for
the number of rows its products will have. Inference calls that repeat with unchanged
weights (a stateful layer fed one step per call) keep their packs between calls, keyed by
the parameters' identity and version counters and the panel width.
"""
from __future__ import annotations

import torch

from . import native


def pack(matrix: torch.Tensor, rows: int, transpose: bool = False) -> torch.Tensor:
    """``matrix`` (inner, cols), or with ``transpose`` the matrix it is the transpose of,
    packed in panels for products of ``rows`` rows: a float32 buffer the C product reads
    (held by the caller while C runs)."""
    library, _ = native.loops()
    height, cols = matrix.shape
    inner, width = (cols, height) if transpose else (height, cols)
    matrix, transpose = stored(matrix.detach(), transpose)
    packed = torch.empty(library.rnnkit_packed_size(inner, width, rows), dtype=torch.float32)
    library.rnnkit_pack_panels(inner, width, matrix.data_ptr(), matrix.shape[1],
                               int(transpose), rows, packed.data_ptr())
    return packed


def stored(matrix: torch.Tensor, transpose: bool = False) -> tuple[torch.Tensor, bool]:
    """``(contiguous tensor, transpose)`` that read as ``matrix`` (or its transpose): a
    weight kept in torch's layout (the transpose of a contiguous matrix, as rnnkit's LSTM
    keeps its kernels) is read where it lies instead of copied."""
    if not matrix.is_contiguous() and matrix.t().is_contiguous():
        return matrix.t(), not transpose
    return matrix.contiguous(), transpose


def cached_pack(owner, name: str, matrix: torch.Tensor, transpose: bool = False,
                contiguous_only: bool = False, columns: tuple[int, int] | None = None,
                rows: int = 4) -> torch.Tensor:
    """``pack(matrix, rows, transpose)`` (or with ``contiguous_only`` a contiguous float32
    copy), remembered on ``owner`` until ``matrix`` changes (its identity or version
    counter) or a product of ``rows`` rows reads another panel width: for repeated
    inference calls with the same weights. ``columns=(start, stop)`` packs only those
    columns of ``matrix`` (a GRU's z, r or h block), still keyed by ``matrix`` itself: a
    slice would be a new tensor at every call."""
    width = 0 if contiguous_only else native.loops()[0].rnnkit_panel_width(rows)
    key = (id(matrix), matrix._version, transpose, columns, width)
    store = owner.__dict__.get("_packed_cache")
    if store is None:
        store = owner.__dict__["_packed_cache"] = {}
    found = store.get(name)
    if found is None or found[0] != key:
        part = matrix if columns is None else matrix[:, columns[0]:columns[1]]
        value = (part.detach().contiguous().clone() if contiguous_only
                 else pack(part, rows, transpose))
        # the entry holds ``matrix`` itself: while it is alive no other tensor can take its
        # id(), so a replaced parameter can never match the key of the one it replaced
        found = store[name] = (key, value, matrix)
    return found[1]


def isa() -> str:
    """Which product runs here: ``"avx2"`` (AVX2 + FMA) or ``"portable"``."""
    library, _ = native.loops()
    return "avx2" if library.rnnkit_product_isa() == 2 else "portable"
