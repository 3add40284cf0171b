"""An optimizer's scalars as Keras variables: ``optimizer.learning_rate`` and ``iterations``.

tf.keras 2.12 keeps the learning rate and the step count in ``tf.Variable``s, and Keras 2
programs (learning-rate finders, users' schedule callbacks) handle them as variables::

    K.set_value(model.optimizer.lr, 0.01)        model.optimizer.learning_rate.assign(0.004)
    K.get_value(model.optimizer.lr)              float(model.optimizer.lr), lr.numpy()

A ``ScalarVariable`` reads and writes the optimizer's own number (the one its update uses),
so there is one value and nothing to keep in step. Arithmetic gives NumPy scalars of the
variable's dtype (where TensorFlow gives scalar tensors), so ``lr * 0.5`` and ``f"{lr:.3f}"``
work as they do in tf.keras 2.
"""
from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np


class ScalarVariable:
    """A read/write view of one scalar an optimizer owns (see the module docstring)."""

    shape = ()

    def __init__(self, name: str, dtype: str, read: Callable[[], Any],
                 write: Callable[[Any], None]) -> None:
        self.name = f"{name}:0"
        self.dtype = dtype
        self._read = read
        self._write = write

    # ------------------------------------------------------------------ reading
    def numpy(self) -> np.generic:
        return np.dtype(self.dtype).type(self._read())

    value = read_value = numpy

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.numpy(), dtype=dtype)

    def __float__(self) -> float:
        return float(self.numpy())

    def __int__(self) -> int:
        return int(self.numpy())

    def __index__(self) -> int:
        if np.dtype(self.dtype).kind not in "iu":
            raise TypeError(f"The {self.dtype} variable {self.name!r} cannot be an index.")
        return int(self.numpy())

    def __bool__(self) -> bool:
        return bool(self.numpy())

    def __format__(self, spec: str) -> str:
        return format(self.numpy().item(), spec)

    def __repr__(self) -> str:
        return (f"<tf.Variable '{self.name}' shape=() dtype={self.dtype}, "
                f"numpy={str(self.numpy())}>")

    __hash__ = object.__hash__  # a variable is one object; == compares values (below)

    # ------------------------------------------------------------------ writing
    def assign(self, value: Any, use_locking: Any = None, name: Any = None,
               read_value: bool = True) -> "ScalarVariable | None":
        self._write(_scalar(value, self.dtype))
        return self if read_value else None

    def assign_add(self, delta: Any, use_locking: Any = None, name: Any = None,
                   read_value: bool = True) -> "ScalarVariable | None":
        return self.assign(self.numpy() + _scalar(delta, self.dtype), read_value=read_value)

    def assign_sub(self, delta: Any, use_locking: Any = None, name: Any = None,
                   read_value: bool = True) -> "ScalarVariable | None":
        return self.assign(self.numpy() - _scalar(delta, self.dtype), read_value=read_value)


def _scalar(value: Any, dtype: str) -> Any:
    """``value`` as one number of ``dtype`` (a NumPy or torch scalar, a 0-d array, a number)."""
    if isinstance(value, str):
        value = float(value)  # ValueError: could not convert string to float: 'x' (TF's)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    array = np.asarray(value.numpy() if isinstance(value, ScalarVariable) else value)
    if array.size != 1:
        raise ValueError(f"Cannot assign a value of shape {array.shape} to a scalar variable "
                         "(shape ()).")
    return np.dtype(dtype).type(array.reshape(())).item()


def _binary(op: Callable[[Any, Any], Any], reflected: bool = False) -> Callable:
    def method(self: ScalarVariable, other: Any) -> Any:
        other = other.numpy() if isinstance(other, ScalarVariable) else other
        return op(other, self.numpy()) if reflected else op(self.numpy(), other)
    return method


for _name, _op in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv),
                   ("mod", operator.mod), ("pow", operator.pow)):
    setattr(ScalarVariable, f"__{_name}__", _binary(_op))
    setattr(ScalarVariable, f"__r{_name}__", _binary(_op, reflected=True))
for _name, _op in (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt),
                   ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge)):
    setattr(ScalarVariable, f"__{_name}__", _binary(_op))
ScalarVariable.__neg__ = lambda self: -self.numpy()  # type: ignore[attr-defined]
ScalarVariable.__abs__ = lambda self: abs(self.numpy())  # type: ignore[attr-defined]
