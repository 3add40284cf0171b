"""``KerasWeight``: a layer's weight, an ``nn.Parameter`` that also answers as a Keras variable.

Keras 2 programs read weights as ``tf.Variable``s: ``[w.name for w in model.weights]``
(``lstm/lstm_cell/kernel:0``), ``layer.weights[0].numpy()``, ``w.assign(value)``. A plain
``nn.Parameter`` has a read-only ``name`` that is always ``None`` and a ``numpy()`` that
refuses a tensor which requires grad. This subclass adds only those methods; it has no
``__torch_function__`` of its own (``nn.Parameter``'s, which returns plain tensors from every
operation), so torch's optimisers, ``state_dict`` (plain tensors), the fused kernels and
``torch.compile`` see an ordinary parameter.

The name is given when the weight is made (``<layer>/<weight>:0``) and again when the layer
that owns it finishes building (``lstm/lstm_cell/kernel:0``: the outer layer's names, as
tf.keras 2's name scopes give). ``copy.deepcopy`` and pickling keep the class and the name.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class KerasWeight(nn.Parameter):
    """An ``nn.Parameter`` with tf.keras 2's ``name``, ``numpy()`` and ``assign()``."""

    @property
    def name(self) -> str | None:  # type: ignore[override]
        return self.__dict__.get("_keras_name")

    @name.setter
    def name(self, value: str | None) -> None:
        self.__dict__["_keras_name"] = value

    def numpy(self, *, force: bool = False) -> np.ndarray:  # type: ignore[override]
        """A copy of the value (a variable's ``numpy()`` is a snapshot, as in TensorFlow)."""
        return self.detach().cpu().numpy().copy()

    def assign(self, value: Any, use_locking: Any = None, name: Any = None,
               read_value: bool = True) -> "KerasWeight | None":
        """Write ``value`` in place (same shape; the optimiser's slots stay attached)."""
        new = torch.as_tensor(np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor)
                                         else value), dtype=self.dtype)
        if tuple(new.shape) != tuple(self.shape):
            if new.numel() != self.numel():
                raise ValueError(f"Cannot assign a value of shape {tuple(new.shape)} to the "
                                 f"variable {self.name!r} of shape {tuple(self.shape)}.")
            new = new.reshape(self.shape)
        with torch.no_grad():
            self.copy_(new)
        return self if read_value else None

    def assign_add(self, delta: Any, use_locking: Any = None, name: Any = None,
                   read_value: bool = True) -> "KerasWeight | None":
        return self.assign(self.numpy() + np.asarray(delta), read_value=read_value)

    def assign_sub(self, delta: Any, use_locking: Any = None, name: Any = None,
                   read_value: bool = True) -> "KerasWeight | None":
        return self.assign(self.numpy() - np.asarray(delta), read_value=read_value)

    def value(self) -> torch.Tensor:
        return self.detach()

    read_value = value

    # ------------------------------------------------------------------ copies
    def __deepcopy__(self, memo: dict) -> "KerasWeight":
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(memory_format=torch.preserve_format),
                            self.requires_grad)
        memo[id(self)] = result
        result.__dict__.update(self.__dict__)  # the name and rnnkit's `_keras_trainable`
        return result

    def __reduce_ex__(self, protocol: int) -> Any:
        # nn.Parameter rebuilds a plain Parameter; this keeps the class and the name.
        return (_rebuild_keras_weight, (self.data, self.requires_grad, dict(self.__dict__)))

    def __repr__(self) -> str:
        return "Parameter containing:\n" + torch.Tensor.__repr__(self.detach())


def _rebuild_keras_weight(data: torch.Tensor, requires_grad: bool,
                          state: dict) -> KerasWeight:
    weight = KerasWeight(data, requires_grad)
    weight.__dict__.update(state)
    return weight
