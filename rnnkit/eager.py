"""Layer outputs that print and behave like tf.keras 2 eager tensors.

A Keras tutorial calls a layer on a NumPy array and prints the result or its shape::

    hidden_states = SimpleRNN(3)(train_X)
    print(hidden_states.shape)   # tf.keras 2: (1, 3)
    print(hidden_states)         # tf.Tensor([[...]], shape=(1, 3), dtype=float32)
    hidden_states.numpy()

``Layer.__call__`` returns an ``EagerTensor`` for such calls: a ``torch.Tensor`` subclass
that prints as TensorFlow does (with ``tensor`` in place of ``tf.Tensor``), whose ``.shape``
prints as ``(1, 3)`` and whose ``.numpy()`` works while it requires grad. Only calls whose
inputs hold no plain torch tensor get one (NumPy arrays, lists, scalars, or an earlier
``EagerTensor``, so a chain of layers called by hand keeps printing the Keras way); calls
on torch tensors (``fit``, ``predict``, a PyTorch loop) return plain tensors, untouched.

The subclass changes nothing else: ``__torch_function__`` is disabled, so every torch
operation on it (``+``, slicing, ``.detach()``, ``.clone()``, ``torch.cat`` ...) runs at
plain-tensor cost and returns a plain ``torch.Tensor``, and autograd flows through it as
through the tensor it wraps. ``torch.save`` writes it as a plain tensor (so
``torch.load(weights_only=True)`` reads it), ``copy.deepcopy`` gives a detached
``EagerTensor`` copy (TensorFlow's eager tensors carry no graph either).
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch


class Shape(tuple):
    """``EagerTensor.shape``: a tuple of ints that prints as TensorFlow's ``TensorShape``
    printed, ``(1, 3)``. It compares equal to tuples and ``torch.Size`` and goes wherever
    torch takes a size (``torch.zeros(t.shape)``, ``x.view(t.shape)``). ``torch.Size``
    cannot be subclassed, so its one extra method, ``numel``, is here, and so is
    ``as_list`` from ``TensorShape``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return tuple.__repr__(self)

    __str__ = __repr__

    def numel(self) -> int:
        count = 1
        for d in self:
            count *= d
        return count

    def as_list(self) -> list[int]:
        return list(self)


class EagerTensor(torch.Tensor):
    """A layer's output from a call on NumPy data (see the module docstring)."""

    # Every torch function on it runs as on a plain tensor and returns plain tensors.
    __torch_function__ = torch._C._disabled_torch_function_impl

    @property
    def shape(self) -> Shape:  # type: ignore[override]
        return Shape(torch.Tensor.shape.__get__(self))

    def numpy(self, *, force: bool = False) -> np.ndarray:  # type: ignore[override]
        """The values as NumPy, also while the tensor requires grad or sits on a GPU (as
        TensorFlow's ``.numpy()``). On the CPU the array shares the tensor's memory."""
        return self.detach().cpu().numpy(force=force)

    # float(t), int(t), t.item(): TensorFlow reads an eager value without a word; torch
    # warns when the tensor requires grad (a loss on a model's outputs), so read it detached
    def __float__(self) -> float:
        return float(self.detach())

    def __int__(self) -> int:
        return int(self.detach())

    def item(self) -> Any:  # type: ignore[override]
        return self.detach().item()

    def _values_text(self, is_repr: bool) -> str:
        # TensorFlow's numpy_text: str() or repr() of the array, on a new line if multi-line.
        plain = self.detach().cpu()
        if plain.dtype == torch.bfloat16:  # NumPy has no bfloat16: show the float32 values
            plain = plain.float()
        array = plain.numpy()
        text = repr(array) if is_repr else str(array)
        return "\n" + text if "\n" in text else text

    def _dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    def __str__(self) -> str:
        # tf.Tensor(<values>, shape=(1, 3), dtype=float32)
        return (f"tensor({self._values_text(False)}, shape={self.shape}, "
                f"dtype={self._dtype_name()})")

    def __repr__(self, *, tensor_contents: Any = None) -> str:  # type: ignore[override]
        # <tf.Tensor: shape=(1, 3), dtype=float32, numpy=array([[...]], dtype=float32)>
        return (f"<tensor: shape={self.shape}, dtype={self._dtype_name()}, "
                f"numpy={self._values_text(True)}>")

    def __format__(self, spec: str) -> str:
        # f"{t}" prints str(t); f"{loss:.3f}" formats the value, as NumPy would.
        return format(self.numpy(), spec) if spec else str(self)

    def __reduce_ex__(self, protocol: int) -> Any:
        # Pickled (torch.save, copy.copy) as the plain tensor: a file never needs rnnkit's
        # class, and torch.load(weights_only=True) accepts it.
        return self.as_subclass(torch.Tensor).__reduce_ex__(protocol)

    def __deepcopy__(self, memo: dict) -> "EagerTensor":
        if id(self) in memo:
            return memo[id(self)]
        # Detached: an EagerTensor is an alias of a layer's output (never a leaf), and
        # torch's own deepcopy refuses non-leaf tensors that require grad.
        result = self.detach().clone().as_subclass(EagerTensor)
        memo[id(self)] = result
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))  # _keras_mask
        return result


def is_eager_call(inputs: Any) -> bool:
    """Whether a layer call on ``inputs`` returns ``EagerTensor``s: no plain torch tensor
    among the inputs (checked first, so a training step pays one ``type`` test)."""
    if isinstance(inputs, torch.Tensor):
        return type(inputs) is EagerTensor
    if isinstance(inputs, (list, tuple)):
        items = inputs
    elif isinstance(inputs, dict):
        items = inputs.values()
    else:
        return True
    return not any(isinstance(x, torch.Tensor) and type(x) is not EagerTensor for x in items)


def to_eager(outputs: Any) -> Any:
    """Every tensor in ``outputs`` (nested lists, tuples, dicts) as an ``EagerTensor`` on
    the same data and autograd graph, with its attributes (``_keras_mask``) kept."""
    if isinstance(outputs, torch.Tensor):
        if type(outputs) is EagerTensor or isinstance(outputs, torch.nn.Parameter):
            return outputs
        eager = outputs.as_subclass(EagerTensor)
        eager.__dict__.update(outputs.__dict__)
        return eager
    if isinstance(outputs, dict):
        return type(outputs)((k, to_eager(v)) for k, v in outputs.items())
    if isinstance(outputs, (list, tuple)):
        items = [to_eager(o) for o in outputs]
        if hasattr(outputs, "_fields"):  # a namedtuple
            return type(outputs)(*items)
        return type(outputs)(items)
    return outputs


def keras_outputs(inputs: Any, outputs: Any) -> Any:
    """A layer call's ``outputs`` as the call returns them: ``EagerTensor``s when
    ``inputs`` were NumPy data (``is_eager_call``), else unchanged."""
    return to_eager(outputs) if is_eager_call(inputs) else outputs
