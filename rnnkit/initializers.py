"""Keras 2 (tf.keras 2.12) weight initialisers, drawing torch tensors.

Each initialiser is a small object: ``init(shape, dtype)`` returns a new tensor (not
requiring grad) and ``init.get_config()`` returns exactly the dict tf.keras 2.12 writes, so
configs round-trip through Keras ``.h5`` / ``.keras`` files.

What matters for matching Keras numbers and statistics:

- Fans follow Keras ``_compute_fans`` on the *whole* weight: an LSTM kernel ``(D, 4H)`` has
  ``fan_in = D`` and ``fan_out = 4H`` (torch's per-gate habit would give a different limit).
- ``Orthogonal`` is drawn as Keras draws it: QR of a ``(max, min)`` normal matrix, so a
  recurrent kernel ``(H, 4H)`` has orthonormal *rows*, not four orthogonal blocks.
- Truncated normals are cut at two standard deviations, and ``VarianceScaling`` divides
  by 0.8796..., the std of a unit normal truncated there, so the *result* has the target std.

Randomness: an unseeded initialiser draws from torch's global generator, so
``torch.manual_seed`` / ``rnnkit.utils.set_random_seed`` make a whole model reproducible.
A seeded one uses a private generator re-seeded on every call, so it returns the same
values each time (the Keras 2 contract for seeded initialisers).
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np
import torch

from . import backend
from ._keras_objects import KerasObjects, _instantiate

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform",
    "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal", "Identity",
    "get", "serialize", "deserialize", "compute_fans",
]

# Standard deviation of a unit normal truncated to [-2, 2]
# (scipy.stats.truncnorm.std(a=-2, b=2)); the constant Keras divides by.
_TRUNCATED_STD = 0.87962566103423978


# ---------------------------------------------------------------------------- helpers
def _as_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _as_dtype(dtype: Any) -> torch.dtype:
    """torch dtype from ``None`` (Keras floatx), a torch dtype, a name or a NumPy dtype."""
    if dtype is None:
        dtype = backend.floatx()
    if isinstance(dtype, torch.dtype):
        return dtype
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    found = getattr(torch, name, None)
    if not isinstance(found, torch.dtype):
        raise ValueError(f"Unknown dtype: {dtype!r}.")
    return found


def _float_dtype(dtype: Any) -> torch.dtype:
    dtype = _as_dtype(dtype)
    if not dtype.is_floating_point:
        raise ValueError(f"Expected floating point type, got {dtype}.")
    return dtype


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    # Draw in float64 when asked for float64 (full precision), else in float32: torch's
    # samplers and QR do not all support half types, and Keras draws float32 too.
    return torch.float64 if dtype == torch.float64 else torch.float32


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` as Keras ``_compute_fans``: the whole matrix, not per gate."""
    shape = _as_shape(shape)
    if len(shape) < 1:  # a scalar: Keras uses 1 to avoid dividing by zero
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:  # convolution kernels (..., input_depth, depth)
        receptive_field = math.prod(shape[:-2])
        fan_in = shape[-2] * receptive_field
        fan_out = shape[-1] * receptive_field
    return int(fan_in), int(fan_out)


def _truncated_unit_normal(shape, dtype, generator) -> torch.Tensor:
    """Unit normal truncated to [-2, 2].

    Keras re-draws values beyond two standard deviations; sampling the same truncated
    distribution through its inverse CDF gives it in one pass, with no rejection loop.
    """
    lo = 0.5 * (1.0 + math.erf(-2.0 / math.sqrt(2.0)))  # Phi(-2)
    hi = 1.0 - lo                                         # Phi(2)
    u = torch.empty(shape, dtype=dtype).uniform_(2 * lo - 1, 2 * hi - 1, generator=generator)
    return (torch.erfinv(u) * math.sqrt(2.0)).clamp_(-2.0, 2.0)


def _coerce_seed(seed: Any) -> int | None:
    # Keras 3 may serialise a SeedGenerator as a nested dict holding the int seed.
    if isinstance(seed, dict):
        seed = (seed.get("config") or {}).get("seed")
    if seed is not None and not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an int or None, got {seed!r}.")
    return None if seed is None else int(seed)


# ---------------------------------------------------------------------------- base
class Initializer:
    """Base class: ``__call__(shape, dtype=None)`` returns a new tensor (dtype None = floatx)."""

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> torch.Tensor:
        raise NotImplementedError("Initializer subclasses must implement __call__().")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return _instantiate(cls, config, "initializer")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _RandomInitializer(Initializer):
    """Shared seeding: global torch RNG when unseeded, a fresh private one when seeded."""

    def __init__(self, seed: Any = None):
        self.seed = _coerce_seed(seed)

    def _generator(self) -> torch.Generator | None:
        if self.seed is None:
            return None  # torch's global generator
        # Re-seeded on every call so a seeded initialiser repeats its values.
        return torch.Generator().manual_seed(self.seed)


# ---------------------------------------------------------------------------- constants
class Zeros(Initializer):
    """All zeros (any numeric or bool dtype)."""

    def __call__(self, shape, dtype=None):
        return torch.zeros(_as_shape(shape), dtype=_as_dtype(dtype))


class Ones(Initializer):
    """All ones (any numeric or bool dtype)."""

    def __call__(self, shape, dtype=None):
        return torch.ones(_as_shape(shape), dtype=_as_dtype(dtype))


class Constant(Initializer):
    """A scalar broadcast to ``shape``, or values with exactly ``prod(shape)`` elements."""

    def __init__(self, value: Any = 0):
        self.value = value

    def __call__(self, shape, dtype=None):
        shape, dtype = _as_shape(shape), _as_dtype(dtype)
        value = torch.as_tensor(np.asarray(self.value) if not isinstance(self.value, torch.Tensor)
                                else self.value.detach(), dtype=dtype)
        if value.numel() == 1:
            return torch.full(shape, value.item(), dtype=dtype)
        if value.numel() != math.prod(shape):
            raise ValueError(f"Constant initializer: a value with {value.numel()} elements "
                             f"cannot fill shape {shape}.")
        return value.reshape(shape).clone()

    def get_config(self):
        value = self.value
        # Arrays and tensors become lists so the config stays JSON-serialisable.
        if isinstance(value, (np.ndarray, torch.Tensor)):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        return {"value": value}


class Identity(Initializer):
    """``gain * eye(rows, cols)``; 2-D shapes only, as in Keras."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape, dtype = _as_shape(shape), _float_dtype(dtype)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return self.gain * torch.eye(*shape, dtype=dtype)

    def get_config(self):
        return {"gain": self.gain}


# ---------------------------------------------------------------------------- random
class RandomUniform(_RandomInitializer):
    """Uniform on ``[minval, maxval)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None):
        super().__init__(seed)
        self.minval = minval
        self.maxval = maxval

    def __call__(self, shape, dtype=None):
        shape, dtype = _as_shape(shape), _as_dtype(dtype)
        if not dtype.is_floating_point:
            if dtype in (torch.bool, torch.complex64, torch.complex128):
                raise ValueError(f"Expected float or integer dtype, got {dtype}.")
            # Keras allows integer dtypes here (half-open range, like tf.random.uniform).
            return torch.randint(int(self.minval), int(self.maxval), shape, dtype=dtype,
                                 generator=self._generator())
        values = torch.empty(shape, dtype=_work_dtype(dtype))
        values.uniform_(self.minval, self.maxval, generator=self._generator())
        return values.to(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_RandomInitializer):
    """Normal with ``mean`` and ``stddev``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape, dtype=None):
        shape, dtype = _as_shape(shape), _float_dtype(dtype)
        values = torch.randn(shape, dtype=_work_dtype(dtype), generator=self._generator())
        return (values * self.stddev + self.mean).to(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(_RandomInitializer):
    """Normal with ``mean`` and ``stddev`` (before truncation), cut at two stddevs."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape, dtype=None):
        shape, dtype = _as_shape(shape), _float_dtype(dtype)
        values = _truncated_unit_normal(shape, _work_dtype(dtype), self._generator())
        return (values * self.stddev + self.mean).to(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_RandomInitializer):
    """Variance ``scale / n`` with ``n`` = fan_in, fan_out or their mean (Keras rules).

    ``truncated_normal``: std ``sqrt(scale/n) / 0.8796...`` before the cut at two stds;
    ``untruncated_normal``: std ``sqrt(scale/n)``; ``uniform``: limit ``sqrt(3*scale/n)``.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: Any = None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive float. Received: scale={scale}.")
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Please use one of {self._MODES}.")
        distribution = distribution.lower()
        if distribution == "normal":  # old keras-team/keras spelling, kept by tf.keras
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}. "
                             f"Allowed distributions: {self._DISTRIBUTIONS}.")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution

    def __call__(self, shape, dtype=None):
        shape, dtype = _as_shape(shape), _float_dtype(dtype)
        work, generator = _work_dtype(dtype), self._generator()
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATED_STD
            values = _truncated_unit_normal(shape, work, generator) * stddev
        elif self.distribution == "untruncated_normal":
            values = torch.randn(shape, dtype=work, generator=generator) * math.sqrt(scale)
        else:
            limit = math.sqrt(3.0 * scale)
            values = torch.empty(shape, dtype=work).uniform_(-limit, limit, generator=generator)
        return values.to(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self.seed}


class _FixedVarianceScaling(VarianceScaling):
    """A named VarianceScaling preset: only ``seed`` is a hyperparameter (Keras config)."""

    _preset: tuple[float, str, str]

    def __init__(self, seed: Any = None):
        scale, mode, distribution = self._preset
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform within ``±sqrt(6 / (fan_in + fan_out))``."""
    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with std ``sqrt(2 / (fan_in + fan_out))``."""
    _preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform within ``±sqrt(6 / fan_in)``."""
    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with std ``sqrt(2 / fan_in)``."""
    _preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform within ``±sqrt(3 / fan_in)``."""
    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with std ``sqrt(1 / fan_in)``."""
    _preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(_RandomInitializer):
    """An orthogonal matrix from the QR of a normal matrix, times ``gain``, drawn as Keras does.

    The weight is flattened to ``(prod(shape[:-1]), shape[-1])``; a ``(max, min)`` normal
    matrix is factored ``q, r = qr(a)``, ``q`` is made unique with ``sign(diag(r))`` and
    transposed when there are fewer rows than columns. So a ``(H, 4H)`` recurrent kernel
    has orthonormal rows and a ``(4H, H)`` one orthonormal columns.
    """

    def __init__(self, gain: float = 1.0, seed: Any = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape, dtype = _as_shape(shape), _float_dtype(dtype)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        num_rows, num_cols = math.prod(shape[:-1]), shape[-1]
        flat = (max(num_rows, num_cols), min(num_rows, num_cols))
        a = torch.randn(flat, dtype=_work_dtype(dtype), generator=self._generator())
        q, r = torch.linalg.qr(a, mode="reduced")
        q = q * torch.sign(torch.diagonal(r))  # scales column j by sign(r_jj)
        if num_rows < num_cols:
            q = q.T
        return (self.gain * q.reshape(shape)).to(dtype).contiguous()

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


# ---------------------------------------------------------------------------- (de)serialisation
# Reading configs is shared with regularizers and constraints (rnnkit/_keras_objects.py).
_CLASSES = [Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
            VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
            LecunNormal, Orthogonal, Identity]

# Names tf.keras 2 resolves (class names and their snake_case forms, plus its
# compatibility aliases), and Keras 3's extra class aliases.
_REGISTRY: dict[str, type] = {}
for _cls in _CLASSES:
    _REGISTRY[_cls.__name__] = _cls
    _REGISTRY[backend.to_snake_case(_cls.__name__)] = _cls
    _REGISTRY[_cls.__name__ + "V2"] = _cls
_REGISTRY.update({
    "zero": Zeros, "one": Ones, "normal": RandomNormal, "uniform": RandomUniform,
    "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity,
})
del _cls


_OBJECTS = KerasObjects("initializer", _REGISTRY, Initializer)
deserialize, get, serialize = _OBJECTS.deserialize, _OBJECTS.get, _OBJECTS.serialize

# tf.keras 2's `keras.initializers.glorot_uniform` & co. are the classes under snake_case names.
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, \
    HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
