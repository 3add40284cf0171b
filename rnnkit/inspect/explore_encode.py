"""Compact storage of the explorer's numbers: quantised per unit, delta-coded, deflated.

A page for 100 sequences of 200 steps and 128 units holds millions of values; as JSON
text they would take tens of megabytes. Each tensor is stored instead as integer codes,
one scale per unit (``value = lo + (code - 1) * step``; code 0 is NaN, a step the layer
skipped under a mask), coded as the difference to the previous time step (neighbouring
steps are close, so the differences are small and compress well), deflated with zlib and
written as base64. The page undoes it with the browser's own ``DecompressionStream``.

``bits=8`` keeps a value within ``step / 2`` (for a range of 2: 0.004), ``bits=16`` within
about 1e-5; the page states the precision it was given.
"""
from __future__ import annotations

import base64
import zlib

import numpy as np

__all__ = ["Quantized", "quantize", "pack", "pack_floats", "delta_bytes", "deflate"]


class Quantized:
    """Codes and their per-unit scale: ``value = lo + (code - 1) * step`` (code 0 = NaN)."""

    def __init__(self, codes: np.ndarray, lo: np.ndarray, step: np.ndarray, bits: int) -> None:
        self.codes, self.lo, self.step, self.bits = codes, lo, step, bits

    def values(self) -> np.ndarray:
        """The values the page shows (for tests: the decoding the JavaScript does)."""
        out = self.lo + (self.codes.astype(np.float64) - 1) * self.step
        return np.where(self.codes == 0, np.nan, out)

    @property
    def max_error(self) -> float:
        return float(np.max(self.step)) / 2 if self.step.size else 0.0

    def scale(self) -> dict:
        """The per-unit scale as the page reads it (float32 is plenty for a display)."""
        return {"lo": [float(v) for v in self.lo.astype(np.float32)],
                "step": [float(v) for v in self.step.astype(np.float32)]}


def quantize(values: np.ndarray, bits: int, lo: np.ndarray | None = None,
             hi: np.ndarray | None = None) -> Quantized:
    """Quantise ``values`` (..., units) with one scale per unit (the last axis).

    ``lo``/``hi`` default to each unit's smallest and largest finite value, so every unit
    uses all its codes (a unit that barely moves keeps its small changes)."""
    if bits not in (8, 16):
        raise ValueError(f"quantize(): bits must be 8 or 16, got {bits}.")
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    flat = values.reshape(-1, values.shape[-1])
    ok = finite.reshape(-1, values.shape[-1])
    if lo is None:
        lo = np.where(ok.any(0), np.min(np.where(ok, flat, np.inf), axis=0), 0.0)
    if hi is None:
        hi = np.where(ok.any(0), np.max(np.where(ok, flat, -np.inf), axis=0), 0.0)
    levels = (1 << bits) - 2                       # codes 1 .. 2**bits - 1
    # Float32 rounding of lo and step on the page must not push a code across a level.
    lo = np.asarray(lo, dtype=np.float32).astype(np.float64)
    step = np.asarray((np.asarray(hi) - lo) / levels, dtype=np.float32).astype(np.float64)
    step = np.where(step > 0, step, 1e-30)         # a constant unit: every code is lo
    codes = np.rint((np.where(finite, values, 0.0) - lo) / step) + 1
    codes = np.clip(codes, 1, levels + 1)
    dtype = np.uint8 if bits == 8 else np.uint16
    codes = np.where(finite, codes, 0).astype(dtype)
    return Quantized(codes, lo, step, bits)


def delta_bytes(codes: np.ndarray, time_axis: int) -> bytes:
    """``codes`` as differences along ``time_axis`` (wrapping, as the page's integers do),
    little-endian, as typed arrays are on every browser."""
    codes = np.asarray(codes)
    deltas = np.diff(codes, axis=time_axis, prepend=np.zeros_like(
        np.take(codes, [0], axis=time_axis)))      # unsigned wrap-around: exact both ways
    return np.ascontiguousarray(deltas.astype(codes.dtype.newbyteorder("<"))).tobytes()


def deflate(raw: bytes) -> str:
    """zlib, then base64: what the page's ``DecompressionStream("deflate")`` reads."""
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def pack(codes: np.ndarray, time_axis: int) -> str:
    """Delta-code ``codes`` along ``time_axis``, deflate and base64 them."""
    return deflate(delta_bytes(codes, time_axis))


def pack_floats(values: np.ndarray) -> str:
    """Float32 values, deflated and base64 (the memory curves: they span decades)."""
    raw = np.ascontiguousarray(np.asarray(values, dtype="<f4")).tobytes()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def inflate(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text))


def undelta(raw: bytes, dtype: str, shape: tuple[int, ...], time_axis: int) -> np.ndarray:
    deltas = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
    return np.cumsum(deltas, axis=time_axis, dtype=deltas.dtype)


def unpack(text: str, dtype: str, shape: tuple[int, ...], time_axis: int) -> np.ndarray:
    """What the page does, in NumPy (the tests read pages back with it)."""
    return undelta(inflate(text), dtype, shape, time_axis)


def unpack_floats(text: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype="<f4").reshape(shape)
