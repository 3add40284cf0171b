"""Keras weight layout -> PyTorch ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` layout, in one place.

Keras stores ``kernel (D, G·H)``, ``recurrent_kernel (H, G·H)`` and one bias; torch stores
``weight_ih (G·H, D)``, ``weight_hh (G·H, H)``, ``bias_ih`` and ``bias_hh``. The gate blocks:

* LSTM: Keras ``i f c o`` = torch ``i f g o``; Keras has one bias -> ``bias_hh = 0``.
* GRU (``reset_after=True`` only; the other variant has no torch twin): Keras ``z r h`` ->
  torch ``r z n``; the (2, 3H) bias is ``[bias_ih, bias_hh]``.
* SimpleRNN: one block; ``bias_hh = 0``.

The functions use only indexing and ``.T``, so they work on torch tensors (staying
differentiable: gradients reach the Keras weights) and on NumPy arrays alike.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch


def gru_torch_order(units: int) -> np.ndarray:
    """Column permutation taking Keras GRU blocks ``z r h`` to torch blocks ``r z n``."""
    z, r, h = (np.arange(units) + k * units for k in range(3))
    return np.concatenate([r, z, h])


def gru_keras_order(units: int) -> np.ndarray:
    """The inverse permutation: torch ``r z n`` -> Keras ``z r h``."""
    return np.argsort(gru_torch_order(units))


def _zeros_like(x: Any) -> Any:
    return torch.zeros_like(x) if isinstance(x, torch.Tensor) else np.zeros_like(x)


def _index(order: np.ndarray, like: Any) -> Any:
    return torch.as_tensor(order, device=like.device) if isinstance(like, torch.Tensor) else order


def keras_to_torch(kind: str, kernel: Any, recurrent_kernel: Any, bias: Any = None,
                   units: int | None = None) -> list:
    """``[weight_ih, weight_hh, bias_ih, bias_hh]`` (no biases when ``bias`` is None).

    ``kind`` is ``"lstm"``, ``"gru"`` (reset_after=True) or ``"simple_rnn"``.
    """
    if kind == "gru":
        units = units or recurrent_kernel.shape[0]
        order = _index(gru_torch_order(units), kernel)
        weights = [kernel[:, order].T, recurrent_kernel[:, order].T]
        if bias is None:
            return weights
        return weights + [bias[0][order], bias[1][order]]
    if kind not in ("lstm", "simple_rnn"):
        raise ValueError(f"No torch layout for {kind!r}; expected lstm, gru or simple_rnn.")
    weights = [kernel.T, recurrent_kernel.T]
    if bias is None:
        return weights
    return weights + [bias, _zeros_like(bias)]


def torch_to_keras(kind: str, weight_ih: Any, weight_hh: Any, bias_ih: Any = None,
                   bias_hh: Any = None) -> list:
    """The reverse: ``[kernel, recurrent_kernel(, bias)]`` in Keras layout.

    torch's two biases fold into Keras's one for LSTM and SimpleRNN (their sum acts the same).
    """
    if kind == "gru":
        units = weight_hh.shape[1]
        order = _index(gru_keras_order(units), weight_ih)
        weights = [weight_ih.T[:, order], weight_hh.T[:, order]]
        if bias_ih is None:
            return weights
        stack = torch.stack if isinstance(bias_ih, torch.Tensor) else np.stack
        return weights + [stack([bias_ih[order], bias_hh[order]])]
    if kind not in ("lstm", "simple_rnn"):
        raise ValueError(f"No Keras layout for {kind!r}; expected lstm, gru or simple_rnn.")
    weights = [weight_ih.T, weight_hh.T]
    if bias_ih is None:
        return weights
    return weights + [bias_ih + bias_hh]
