"""The ``keras.backend`` tensor functions that Keras 2 custom layers and cells call, on torch.

tf.keras 2.12's semantics (``keras/backend.py``), torch tensors in and out: NumPy arrays
and Python numbers are converted first (floats to ``floatx()``). ``rnnkit.backend``
re-exports every public name here, so ``K.dot``, ``K.batch_dot``, ``K.sum`` ... read as in a
Keras 2 program. Values are pinned by ``tests/fixtures/keras2_backend/`` (recorded with
tf.keras 2.12).
"""
from __future__ import annotations

import builtins
import math
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

_EPSILON = [1e-7]
_IMAGE_DATA_FORMAT = ["channels_last"]
_UIDS: dict = {}
_TORCH_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16,
                 "float32": torch.float32, "float64": torch.float64, "int8": torch.int8,
                 "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
                 "uint8": torch.uint8, "bool": torch.bool}


def _floatx_dtype() -> torch.dtype:
    from .backend import floatx
    return _TORCH_DTYPES[floatx()]


def _dtype(dtype: Any) -> torch.dtype:
    if dtype is None:
        return _floatx_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in _TORCH_DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}; expected one of {sorted(_TORCH_DTYPES)}.")
    return _TORCH_DTYPES[name]


def _t(x: Any) -> torch.Tensor:
    """A torch tensor: tensors as they are, NumPy/Python floats in floatx, ints as int32
    (TensorFlow's default integer)."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, torch.nn.Parameter):
        return x
    if _symbolic(x):
        raise TypeError(symbolic_refusal("this keras.backend function", x))
    array = np.asarray(x)
    if array.dtype.kind == "f":
        return torch.as_tensor(array, dtype=_floatx_dtype())
    if array.dtype.kind in "iu" and not isinstance(x, np.ndarray):
        return torch.as_tensor(array, dtype=torch.int32)
    return torch.as_tensor(array)


def symbolic_refusal(what: str, x: Any) -> str:
    """Why ``what`` cannot take the symbolic tensor ``x``, and what does."""
    return (f"{what} got a symbolic tensor ({x!r}). On symbolic tensors rnnkit records "
            "tf.keras 2.12's op layers for + - * / **, slicing and keras.backend's mean, sum, "
            "max, min, square, sqrt, exp, log, abs, tanh and sigmoid: write the expression "
            "with those (a mean squared error: K.mean(K.square(a - b), axis=-1)), or compute "
            "it in a Lambda layer or a custom layer's call.")


def _symbolic(x: Any) -> bool:
    """A KerasTensor (``rnnkit.Input`` and what layers make of it): the function records
    the op layer tf.keras 2.12 records (the tensor builds it: it lives above this module)."""
    return getattr(type(x), "_keras_symbolic", False)


def _axes(axis: Any) -> Any:
    if axis is None:
        return None
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


# ---------------------------------------------------------------------- configuration
def epsilon() -> float:
    """The fuzz factor Keras adds to denominators (1e-7)."""
    return _EPSILON[0]


def set_epsilon(value: float) -> None:
    _EPSILON[0] = float(value)


def image_data_format() -> str:
    return _IMAGE_DATA_FORMAT[0]


def set_image_data_format(data_format: str) -> None:
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"Unknown data_format: {data_format!r}")
    _IMAGE_DATA_FORMAT[0] = data_format


def backend() -> str:
    return "torch"


def get_uid(prefix: str = "") -> int:
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return _UIDS[prefix]


def reset_uids() -> None:
    _UIDS.clear()


def learning_phase() -> int:
    return 0


def set_learning_phase(value: int) -> None:
    if value not in (0, 1):
        raise ValueError("Expected learning phase to be 0 or 1.")


def manual_variable_initialization(value: bool) -> None:
    """Accepted for Keras code: torch variables are always initialised when created."""


# ---------------------------------------------------------------------- creating tensors
def variable(value: Any, dtype: Any = None, name: str | None = None,
             constraint: Any = None) -> torch.nn.Parameter:
    """A trainable ``nn.Parameter`` holding ``value`` (Keras: a ``tf.Variable``)."""
    param = torch.nn.Parameter(torch.as_tensor(np.asarray(value), dtype=_dtype(dtype)).clone())
    if name is not None:
        param._keras_name = name
    return param


def constant(value: Any, dtype: Any = None, shape: Sequence[int] | None = None,
             name: str | None = None) -> torch.Tensor:
    result = torch.as_tensor(np.asarray(value), dtype=_dtype(dtype))
    if shape is not None:
        result = result.expand(*shape).clone() if result.dim() == 0 else result.reshape(shape)
    return result


def cast_to_floatx(x: Any) -> Any:
    return np.asarray(x, dtype=np.dtype(_floatx_dtype().__str__().split(".")[-1]))


def zeros(shape: Sequence[int], dtype: Any = None, name: str | None = None) -> torch.Tensor:
    return torch.zeros(tuple(shape), dtype=_dtype(dtype))


def ones(shape: Sequence[int], dtype: Any = None, name: str | None = None) -> torch.Tensor:
    return torch.ones(tuple(shape), dtype=_dtype(dtype))


def eye(size: int, dtype: Any = None, name: str | None = None) -> torch.Tensor:
    return torch.eye(size, dtype=_dtype(dtype))


def zeros_like(x: Any, dtype: Any = None, name: str | None = None) -> torch.Tensor:
    x = _t(x)
    return torch.zeros_like(x, dtype=_dtype(dtype) if dtype is not None else x.dtype)


def ones_like(x: Any, dtype: Any = None, name: str | None = None) -> torch.Tensor:
    x = _t(x)
    return torch.ones_like(x, dtype=_dtype(dtype) if dtype is not None else x.dtype)


def arange(start: Any, stop: Any = None, step: int = 1, dtype: str = "int32") -> torch.Tensor:
    if stop is None:
        start, stop = 0, start
    return torch.arange(start, stop, step, dtype=_dtype(dtype))


def random_normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0,
                  dtype: Any = None, seed: int | None = None) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    return torch.randn(tuple(shape), generator=gen, dtype=_dtype(dtype)) * stddev + mean


def random_uniform(shape: Sequence[int], minval: float = 0.0, maxval: float = 1.0,
                   dtype: Any = None, seed: int | None = None) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    return torch.rand(tuple(shape), generator=gen, dtype=_dtype(dtype)) * (maxval - minval) \
        + minval


def random_bernoulli(shape: Sequence[int], p: float = 0.0, dtype: Any = None,
                     seed: int | None = None) -> torch.Tensor:
    return (random_uniform(shape, dtype=dtype, seed=seed) < p).to(_dtype(dtype))


random_binomial = random_bernoulli


def truncated_normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0,
                     dtype: Any = None, seed: int | None = None) -> torch.Tensor:
    result = torch.empty(tuple(shape), dtype=_dtype(dtype))
    torch.nn.init.trunc_normal_(result, mean, stddev, mean - 2 * stddev, mean + 2 * stddev)
    return result


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    return variable(random_normal(shape, mean, scale, dtype, seed), dtype, name)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    return variable(random_uniform(shape, low, high, dtype, seed), dtype, name)


# ---------------------------------------------------------------------- values and shapes
def get_value(x: Any) -> Any:
    """The value of a tensor or variable as NumPy (Keras: ``x.numpy()``)."""
    if not isinstance(x, torch.Tensor) and callable(getattr(x, "numpy", None)):
        return x.numpy()  # an optimizer's learning rate or step count (a Keras variable)
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def batch_get_value(tensors: Sequence[Any]) -> list:
    return [get_value(x) for x in tensors]


eval = get_value  # noqa: A001 - Keras's name


def set_value(x: torch.Tensor, value: Any) -> None:
    """Write ``value`` into the variable ``x`` in place (shapes must match)."""
    if not isinstance(x, torch.Tensor) and callable(getattr(x, "assign", None)):
        x.assign(value)  # model.optimizer.lr (tf.keras 2: a tf.Variable)
        return
    if isinstance(x, (int, float)):
        raise TypeError(f"set_value needs a variable to write into, got the number {x!r}; for "
                        "a learning rate pass `model.optimizer.learning_rate` itself.")
    with torch.no_grad():
        x.copy_(torch.as_tensor(np.asarray(value), dtype=x.dtype).reshape(x.shape))


def batch_set_value(tuples: Sequence[tuple]) -> None:
    for x, value in tuples:
        set_value(x, value)


def shape(x: Any) -> torch.Tensor:
    """The dynamic shape as an int32 tensor, as ``tf.shape``."""
    return torch.tensor(tuple(_t(x).shape) if not hasattr(x, "_keras_history")
                        else x.shape, dtype=torch.int32)


def int_shape(x: Any) -> tuple | None:
    """The shape as a tuple of ints (``None`` where unknown, on symbolic tensors)."""
    found = getattr(x, "shape", None)
    if found is None:
        return None
    return tuple(None if d is None else int(d) for d in found)


def ndim(x: Any) -> int:
    found = int_shape(x)
    return len(found) if found is not None else np.ndim(x)


def dtype(x: Any) -> str:
    value = getattr(x, "dtype", None)
    if isinstance(value, str):
        return value
    return str(value).replace("torch.", "")


def count_params(x: Any) -> int:
    return int(np.prod(int_shape(x)))


def is_keras_tensor(x: Any) -> bool:
    if not isinstance(x, (torch.Tensor, np.ndarray)) and not hasattr(x, "_keras_history"):
        raise ValueError(f"Unexpectedly found an instance of type `{type(x)}`. Expected a "
                         "symbolic tensor instance.")
    return getattr(type(x), "_keras_symbolic", False)


def is_sparse(x: Any) -> bool:
    return isinstance(x, torch.Tensor) and x.is_sparse


def to_dense(x: Any) -> torch.Tensor:
    return x.to_dense() if is_sparse(x) else _t(x)


def cast(x: Any, dtype: Any) -> torch.Tensor:
    return _t(x).to(_dtype(dtype))


def stop_gradient(variables: Any) -> Any:
    if isinstance(variables, (list, tuple)):
        return [_t(v).detach() for v in variables]
    return _t(variables).detach()


def update(x: torch.Tensor, new_x: Any) -> torch.Tensor:
    set_value(x, get_value(new_x))
    return x


def update_add(x: torch.Tensor, increment: Any) -> torch.Tensor:
    with torch.no_grad():
        x.add_(_t(increment).to(x.dtype))
    return x


def update_sub(x: torch.Tensor, decrement: Any) -> torch.Tensor:
    with torch.no_grad():
        x.sub_(_t(decrement).to(x.dtype))
    return x


def moving_average_update(x: torch.Tensor, value: Any, momentum: float) -> torch.Tensor:
    with torch.no_grad():
        x.mul_(momentum).add_(_t(value).to(x.dtype) * (1 - momentum))
    return x


# ---------------------------------------------------------------------- products
def dot(x: Any, y: Any) -> torch.Tensor:
    """Keras's ``dot``: for N-D tensors, sums the last axis of ``x`` with the second-to-last
    of ``y`` (``(2, 3, 4) . (4, 5) -> (2, 3, 5)``; ``(2, 3) . (4, 3, 5) -> (2, 4, 5)``)."""
    x, y = _t(x), _t(y)
    if x.dim() > 2 or y.dim() > 2:
        return torch.tensordot(x, y, dims=([x.dim() - 1], [builtins.max(y.dim() - 2, 0)]))
    return torch.matmul(x, y)


def batch_dot(x: Any, y: Any, axes: Any = None) -> torch.Tensor:
    """Keras's ``batch_dot``: a dot product per batch row over ``axes`` (x's, y's); the
    result keeps x's other axes, then y's; a result of rank 1 gets a trailing axis."""
    x, y = _t(x), _t(y)
    x_ndim, y_ndim = x.dim(), y.dim()
    if x_ndim < 2 or y_ndim < 2:
        raise ValueError(f"Cannot do batch_dot on inputs with rank < 2. Received inputs with "
                         f"shapes {tuple(x.shape)} and {tuple(y.shape)}.")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"Cannot do batch_dot on inputs with different batch sizes. Received "
                         f"inputs with shapes {tuple(x.shape)} and {tuple(y.shape)}.")
    if axes is None:
        axes = [x_ndim - 1, y_ndim - 1] if y_ndim == 2 else [x_ndim - 1, y_ndim - 2]
    elif isinstance(axes, int):
        axes = [axes, axes]
    a0, a1 = (a % n if a < 0 else a for a, n in zip(axes, (x_ndim, y_ndim)))
    if 0 in (a0, a1):
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not "
                         "batched, add a dummy batch dimension to your inputs using "
                         "K.expand_dims(x, 0)")
    if x.shape[a0] != y.shape[a1]:
        raise ValueError(f"Cannot do batch_dot on inputs with shapes {tuple(x.shape)} and "
                         f"{tuple(y.shape)} with axes={[a0, a1]}. x.shape[{a0}] != "
                         f"y.shape[{a1}] ({x.shape[a0]} != {y.shape[a1]}).")
    xm = torch.movedim(x, a0, -1)
    ym = torch.movedim(y, a1, 1)
    batch, k = x.shape[0], x.shape[a0]
    rest_x, rest_y = tuple(xm.shape[1:-1]), tuple(ym.shape[2:])
    result = torch.bmm(xm.reshape(batch, -1, k), ym.reshape(batch, k, -1))
    result = result.reshape((batch,) + rest_x + rest_y)
    if result.dim() == 1:
        result = result.unsqueeze(1)
    return result


# ---------------------------------------------------------------------- reductions
def _reduce(fn_name: str, x: Any, axis: Any, keepdims: bool) -> torch.Tensor:
    x = _t(x)
    axis = _axes(axis)
    if fn_name in ("mean", "std", "var") and not x.is_floating_point():
        x = x.to(_floatx_dtype())
    if axis is None:
        axis = tuple(range(x.dim()))
    if fn_name in ("max", "min", "prod", "any", "all"):
        dims = (axis,) if isinstance(axis, int) else axis
        dims = sorted({d % builtins.max(x.dim(), 1) for d in dims}, reverse=True)
        for d in dims:
            if fn_name == "max":
                x = x.amax(dim=d, keepdim=keepdims)
            elif fn_name == "min":
                x = x.amin(dim=d, keepdim=keepdims)
            elif fn_name == "prod":
                x = x.prod(dim=d, keepdim=keepdims)
            elif fn_name == "any":
                x = x.to(torch.bool).any(dim=d, keepdim=keepdims)
            else:
                x = x.to(torch.bool).all(dim=d, keepdim=keepdims)
        return x
    if fn_name == "sum":
        return x.sum(dim=axis, keepdim=keepdims)
    if fn_name == "mean":
        return x.mean(dim=axis, keepdim=keepdims)
    if fn_name == "var":
        return x.var(dim=axis, keepdim=keepdims, unbiased=False)
    return x.std(dim=axis, keepdim=keepdims, unbiased=False)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    if _symbolic(x):
        return x._tf_op("math.reduce_sum", axis=axis, keepdims=keepdims)
    return _reduce("sum", x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    if _symbolic(x):
        return x._tf_op("math.reduce_mean", axis=axis, keepdims=keepdims)
    return _reduce("mean", x, axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    if _symbolic(x):
        return x._tf_op("math.reduce_max", axis=axis, keepdims=keepdims)
    return _reduce("max", x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    if _symbolic(x):
        return x._tf_op("math.reduce_min", axis=axis, keepdims=keepdims)
    return _reduce("min", x, axis, keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce("prod", x, axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce("var", x, axis, keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce("std", x, axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    return _reduce("any", x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    return _reduce("all", x, axis, keepdims)


def cumsum(x: Any, axis: int = 0) -> torch.Tensor:
    return torch.cumsum(_t(x), dim=axis)


def cumprod(x: Any, axis: int = 0) -> torch.Tensor:
    return torch.cumprod(_t(x), dim=axis)


def argmax(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.argmax(_t(x), dim=axis)


def argmin(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.argmin(_t(x), dim=axis)


# ---------------------------------------------------------------------- element-wise
def square(x: Any) -> torch.Tensor:
    if _symbolic(x):
        return x._tf_op("math.square", name=None)
    return torch.square(_t(x))


def abs(x: Any) -> torch.Tensor:  # noqa: A001
    if _symbolic(x):
        return x._tf_op("math.abs")
    return torch.abs(_t(x))


def sqrt(x: Any) -> torch.Tensor:
    """Keras 2 clips at zero first: ``sqrt(-1) == 0``, not NaN."""
    if _symbolic(x):  # tf.keras 2.12 records the clip as tf.math.maximum(x, 0.0)
        return x._tf_op("math.maximum", y=0.0, name=None)._tf_op("math.sqrt")
    x = _t(x)
    return torch.sqrt(torch.clamp(x, min=0.0))


def exp(x: Any) -> torch.Tensor:
    if _symbolic(x):
        return x._tf_op("math.exp")
    return torch.exp(_t(x))


def log(x: Any) -> torch.Tensor:
    if _symbolic(x):
        return x._tf_op("math.log", name=None)
    return torch.log(_t(x))


def round(x: Any) -> torch.Tensor:  # noqa: A001
    return torch.round(_t(x))  # half to even, as tf.round


def sign(x: Any) -> torch.Tensor:
    return torch.sign(_t(x))


def pow(x: Any, a: Any) -> torch.Tensor:  # noqa: A001
    return torch.pow(_t(x), a)


def sin(x: Any) -> torch.Tensor:
    return torch.sin(_t(x))


def cos(x: Any) -> torch.Tensor:
    return torch.cos(_t(x))


def clip(x: Any, min_value: Any = None, max_value: Any = None) -> torch.Tensor:
    """Keras 2: ``max_value < min_value`` means ``max_value = min_value``; None: unbounded."""
    x = _t(x)
    if min_value is not None and max_value is not None and max_value < min_value:
        max_value = min_value
    lo = -math.inf if min_value is None else min_value
    hi = math.inf if max_value is None else max_value
    return torch.clamp(x, lo, hi)


def _pair(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    x = _t(x)
    y = _t(y) if isinstance(y, (torch.Tensor, np.ndarray)) else torch.as_tensor(y, dtype=x.dtype)
    return x, y


def maximum(x: Any, y: Any) -> torch.Tensor:
    return torch.maximum(*_pair(x, y))


def minimum(x: Any, y: Any) -> torch.Tensor:
    return torch.minimum(*_pair(x, y))


def equal(x: Any, y: Any) -> torch.Tensor:
    return torch.eq(*_pair(x, y))


def not_equal(x: Any, y: Any) -> torch.Tensor:
    return torch.ne(*_pair(x, y))


def greater(x: Any, y: Any) -> torch.Tensor:
    return torch.gt(*_pair(x, y))


def greater_equal(x: Any, y: Any) -> torch.Tensor:
    return torch.ge(*_pair(x, y))


def less(x: Any, y: Any) -> torch.Tensor:
    return torch.lt(*_pair(x, y))


def less_equal(x: Any, y: Any) -> torch.Tensor:
    return torch.le(*_pair(x, y))


# ---------------------------------------------------------------------- activations
def tanh(x: Any) -> torch.Tensor:
    if _symbolic(x):
        return x._tf_op("math.tanh", name=None)
    return torch.tanh(_t(x))


def sigmoid(x: Any) -> torch.Tensor:
    if _symbolic(x):
        return x._tf_op("math.sigmoid")
    return torch.sigmoid(_t(x))


def hard_sigmoid(x: Any) -> torch.Tensor:
    """Keras 2's: ``clip(0.2 x + 0.5, 0, 1)``."""
    return torch.clamp(0.2 * _t(x) + 0.5, 0.0, 1.0)


def relu(x: Any, alpha: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> torch.Tensor:
    """Keras 2's ``relu``: ``x`` above ``threshold`` (capped at ``max_value``), else
    ``alpha * (x - threshold)``."""
    x = _t(x)
    negative = alpha * (x - threshold) if alpha != 0 else None
    out = torch.where(x > threshold, x, torch.zeros_like(x)) if threshold != 0 else F.relu(x)
    if max_value is not None:
        out = torch.clamp(out, max=max_value)
    if negative is not None:
        out = torch.where(x > threshold, out, negative)
    return out


def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    return F.elu(_t(x), alpha)


def softmax(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.softmax(_t(x), dim=axis)


def softplus(x: Any) -> torch.Tensor:
    return F.softplus(_t(x))


def softsign(x: Any) -> torch.Tensor:
    return F.softsign(_t(x))


def l2_normalize(x: Any, axis: Any = None) -> torch.Tensor:
    """``x / sqrt(max(sum(x**2), 1e-12))`` over ``axis`` (all axes when None), as tf.nn."""
    x = _t(x)
    total = torch.sum(x * x, dim=_axes(axis) if axis is not None else tuple(range(x.dim())),
                      keepdim=True)
    return x * torch.rsqrt(torch.clamp(total, min=1e-12))


def dropout(x: Any, level: float, noise_shape: Any = None, seed: int | None = None):
    x = _t(x)
    if noise_shape is None:
        return F.dropout(x, level, training=True)
    keep = (torch.rand(tuple(noise_shape), dtype=x.dtype) >= level).to(x.dtype)
    return x * keep / (1.0 - level)


def in_train_phase(x: Any, alt: Any, training: Any = None) -> Any:
    chosen = x if training else alt
    return chosen() if callable(chosen) else chosen


def in_test_phase(x: Any, alt: Any, training: Any = None) -> Any:
    return in_train_phase(alt, x, training)


def switch(condition: Any, then_expression: Any, else_expression: Any) -> torch.Tensor:
    """``then`` where ``condition`` holds, else ``else``. A condition of rank > 1 and lower
    than the expressions' is extended over their trailing axes (Keras 2 tiles it); a rank-1
    condition broadcasts as ``tf.where`` does; a scalar one picks a branch."""
    cond = _t(condition)
    then_value = then_expression() if callable(then_expression) else _t(then_expression)
    else_value = else_expression() if callable(else_expression) else _t(else_expression)
    if cond.dim() == 0:
        return then_value if bool(cond) else else_value
    if cond.dim() > then_value.dim():
        raise ValueError("Rank of `condition` should be less than or equal to rank of "
                         f"`then_expression` and `else_expression`. ndim(condition)="
                         f"{cond.dim()}, ndim(then_expression)={then_value.dim()}")
    while cond.dim() > 1 and cond.dim() < then_value.dim():
        cond = cond.unsqueeze(-1)
    return torch.where(cond.to(torch.bool), then_value, else_value)


# ---------------------------------------------------------------------- reshaping
def concatenate(tensors: Sequence[Any], axis: int = -1) -> torch.Tensor:
    tensors = [_t(t) for t in tensors]
    if axis < 0:
        axis = axis % tensors[0].dim() if tensors[0].dim() else 0
    return torch.cat(tensors, dim=axis)


def stack(x: Sequence[Any], axis: int = 0) -> torch.Tensor:
    return torch.stack([_t(t) for t in x], dim=axis)


def expand_dims(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.unsqueeze(_t(x), axis)


def squeeze(x: Any, axis: int) -> torch.Tensor:
    return torch.squeeze(_t(x), axis)


def reshape(x: Any, shape: Sequence[int]) -> torch.Tensor:
    return torch.reshape(_t(x), tuple(int(d) for d in shape))


def flatten(x: Any) -> torch.Tensor:
    return torch.reshape(_t(x), (-1,))


def batch_flatten(x: Any) -> torch.Tensor:
    x = _t(x)
    return torch.reshape(x, (x.shape[0], -1))


def permute_dimensions(x: Any, pattern: Sequence[int]) -> torch.Tensor:
    return _t(x).permute(*pattern)


def transpose(x: Any) -> torch.Tensor:
    """All axes reversed, as ``tf.transpose`` without ``perm``."""
    x = _t(x)
    return x.permute(*reversed(range(x.dim())))


def repeat(x: Any, n: int) -> torch.Tensor:
    """``(samples, dim)`` -> ``(samples, n, dim)`` (RepeatVector's operation)."""
    x = _t(x)
    if x.dim() != 2:
        raise ValueError(f"repeat: expected a 2-D tensor (samples, dim), got shape "
                         f"{tuple(x.shape)}.")
    return x.unsqueeze(1).expand(x.shape[0], int(n), x.shape[1]).contiguous()


def repeat_elements(x: Any, rep: int, axis: int) -> torch.Tensor:
    return torch.repeat_interleave(_t(x), int(rep), dim=axis)


def tile(x: Any, n: Any) -> torch.Tensor:
    x = _t(x)
    reps = (int(n),) if isinstance(n, int) else tuple(int(v) for v in n)
    return x.repeat(*reps) if len(reps) >= x.dim() else x.repeat(
        *((1,) * (x.dim() - len(reps)) + reps))


def reverse(x: Any, axes: Any) -> torch.Tensor:
    dims = [axes] if isinstance(axes, int) else list(axes)
    return torch.flip(_t(x), dims=dims)


def gather(reference: Any, indices: Any) -> torch.Tensor:
    return _t(reference)[_t(indices).to(torch.long)]


def one_hot(indices: Any, num_classes: int) -> torch.Tensor:
    return F.one_hot(_t(indices).to(torch.long), num_classes).to(_floatx_dtype())


def temporal_padding(x: Any, padding: Sequence[int] = (1, 1)) -> torch.Tensor:
    """Zeros before and after the time axis of a ``(batch, time, features)`` tensor."""
    return F.pad(_t(x), (0, 0, int(padding[0]), int(padding[1])))


def bias_add(x: Any, bias: Any, data_format: str | None = None) -> torch.Tensor:
    x, bias = _t(x), _t(bias)
    if data_format == "channels_first" and x.dim() > 2:
        return x + bias.reshape((1, -1) + (1,) * (x.dim() - 2))
    return x + bias


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> torch.Tensor:
    target, output = _t(target), _t(output)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = epsilon()
    output = torch.clamp(output, eps, 1.0 - eps)
    return -(target * torch.log(output + eps) + (1 - target) * torch.log(1 - output + eps))


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                             axis: int = -1) -> torch.Tensor:
    target, output = _t(target), _t(output)
    if from_logits:
        return -(target * torch.log_softmax(output, dim=axis)).sum(dim=axis)
    output = output / output.sum(dim=axis, keepdim=True)
    output = torch.clamp(output, epsilon(), 1.0 - epsilon())
    return -(target * torch.log(output)).sum(dim=axis)


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                                    axis: int = -1) -> torch.Tensor:
    """Keras 2.12: probabilities are clipped to ``[eps, 1 - eps]`` and their log taken as
    logits (so they are renormalised after clipping, unlike ``categorical_crossentropy``)."""
    target, output = _t(target).to(torch.long), _t(output)
    if target.dim() == output.dim():
        target = target.squeeze(-1)
    if not from_logits:
        output = torch.log(torch.clamp(output, epsilon(), 1.0 - epsilon()))
    logp = torch.log_softmax(torch.movedim(output, axis, -1), dim=-1)
    return -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)


def print_tensor(x: Any, message: str = "", summarize: int = 3) -> Any:
    print(message, get_value(x))
    return x


def gradients(loss: torch.Tensor, variables: Sequence[torch.Tensor]) -> list:
    return list(torch.autograd.grad(loss, list(variables), allow_unused=True))


# ``K.function`` builds a sub-model, and models sit above this module: rnnkit.models
# registers the builder here when it is imported (``import rnnkit`` does).
_function_builder: Any = None


def _register_function_builder(builder: Any) -> None:
    global _function_builder
    _function_builder = builder


def function(inputs: Any, outputs: Any, updates: Any = None, name: str | None = None,
             **kwargs: Any) -> Any:
    """``K.function(inputs, outputs)``: a callable from input arrays to output arrays, as
    tf.keras 2.12 makes it in eager mode (a ``Model(inputs, outputs)`` run for inference;
    a list of arrays out, or one array when ``outputs`` is one tensor)."""
    if _function_builder is None:
        raise RuntimeError("rnnkit.backend.function needs rnnkit.models: import rnnkit first.")
    return _function_builder(inputs, outputs, updates=updates, name=name, **kwargs)


# Every public function above (the names a Keras 2 program reaches as ``K.<name>``).
__all__ = [_name for _name, _value in list(globals().items())
           if not _name.startswith("_") and callable(_value)
           and getattr(_value, "__module__", None) == __name__]
