"""Keras ⇄ torch weight layouts, the one place they are written.

Keras keeps an RNN as ``kernel (D, kH)``, ``recurrent_kernel (H, kH)`` and ``bias``; torch's
``nn.LSTM``/``nn.GRU``/``nn.RNN`` keep ``weight_ih (kH, D)``, ``weight_hh (kH, H)``,
``bias_ih (kH,)`` and ``bias_hh (kH,)``. The differences:

- transposed matrices (``weight_ih = kernel.T``);
- LSTM gate blocks are ``i, f, c, o`` in both; Keras has one bias, so ``bias_hh`` is zeros
  (and going back, ``bias = bias_ih + bias_hh``);
- GRU gate blocks are ``z, r, h`` in Keras and ``r, z, n`` in torch; torch's GRU is Keras's
  ``reset_after=True`` GRU, whose bias ``(2, 3H)`` holds the input bias in row 0 and the
  recurrent bias in row 1. ``reset_after=False`` has no torch twin.

The functions take and return tensors (differentiable, so the fused kernels use them
inside a graph); NumPy arrays are accepted as input. The fused torch kernel
(``fused_torch``) and the torch interop of ``rnnkit.io`` both use them; the layouts of
files (legacy arrays, weight paths) are in ``rnnkit.io.weight_maps``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor


def _t(x: Any) -> Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def _swap_first_two_blocks(w: Tensor, units: int, dim: int) -> Tensor:
    """``[a, b, c]`` -> ``[b, a, c]`` along ``dim`` (blocks of ``units``): z,r,h ⇄ r,z,n."""
    a, b, c = torch.split(w, units, dim=dim)
    return torch.cat([b, a, c], dim=dim)


# ---------------------------------------------------------------------- LSTM
def keras_to_torch_lstm(kernel: Any, recurrent_kernel: Any, bias: Any = None
                        ) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    """Keras LSTM weights -> ``(weight_ih, weight_hh, bias_ih, bias_hh)`` of ``nn.LSTM``."""
    kernel, recurrent_kernel = _t(kernel), _t(recurrent_kernel)
    if bias is None:
        return kernel.t(), recurrent_kernel.t(), None, None
    bias = _t(bias)
    return kernel.t(), recurrent_kernel.t(), bias, torch.zeros_like(bias)


def torch_to_keras_lstm(weight_ih: Any, weight_hh: Any, bias_ih: Any = None, bias_hh: Any = None
                        ) -> tuple[Tensor, Tensor, Tensor | None]:
    """``nn.LSTM`` weights -> Keras ``(kernel, recurrent_kernel, bias)`` (the biases summed)."""
    return _t(weight_ih).t(), _t(weight_hh).t(), _sum_biases(bias_ih, bias_hh)


# ---------------------------------------------------------------------- GRU
def keras_to_torch_gru(kernel: Any, recurrent_kernel: Any, bias: Any = None,
                       reset_after: bool = True
                       ) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    """Keras GRU(reset_after=True) weights -> ``nn.GRU``'s ``(weight_ih, weight_hh, bias_ih, bias_hh)``."""
    if not reset_after:
        raise ValueError("GRU(reset_after=False) has no torch.nn.GRU equivalent: torch applies "
                         "the reset gate after the recurrent matmul (Keras reset_after=True).")
    kernel, recurrent_kernel = _t(kernel), _t(recurrent_kernel)
    units = recurrent_kernel.shape[0]
    w_ih = _swap_first_two_blocks(kernel, units, dim=1).t()
    w_hh = _swap_first_two_blocks(recurrent_kernel, units, dim=1).t()
    if bias is None:
        return w_ih, w_hh, None, None
    bias = _t(bias)
    if bias.dim() != 2 or bias.shape[0] != 2:
        raise ValueError(f"GRU(reset_after=True) bias must have shape (2, {3 * units}); "
                         f"got {tuple(bias.shape)}.")
    return (w_ih, w_hh, _swap_first_two_blocks(bias[0], units, dim=0),
            _swap_first_two_blocks(bias[1], units, dim=0))


def torch_to_keras_gru(weight_ih: Any, weight_hh: Any, bias_ih: Any = None, bias_hh: Any = None
                       ) -> tuple[Tensor, Tensor, Tensor | None]:
    """``nn.GRU`` weights -> Keras GRU(reset_after=True) ``(kernel, recurrent_kernel, bias (2, 3H))``."""
    weight_ih, weight_hh = _t(weight_ih), _t(weight_hh)
    units = weight_hh.shape[1]
    kernel = _swap_first_two_blocks(weight_ih.t(), units, dim=1)
    recurrent_kernel = _swap_first_two_blocks(weight_hh.t(), units, dim=1)
    if bias_ih is None and bias_hh is None:
        return kernel, recurrent_kernel, None
    zeros = torch.zeros(3 * units, dtype=weight_ih.dtype)
    b_ih = _t(bias_ih) if bias_ih is not None else zeros
    b_hh = _t(bias_hh) if bias_hh is not None else zeros
    bias = torch.stack([_swap_first_two_blocks(b_ih, units, 0), _swap_first_two_blocks(b_hh, units, 0)])
    return kernel, recurrent_kernel, bias


# ---------------------------------------------------------------------- SimpleRNN
def keras_to_torch_simple_rnn(kernel: Any, recurrent_kernel: Any, bias: Any = None
                              ) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    """Keras SimpleRNN weights -> ``nn.RNN``'s ``(weight_ih, weight_hh, bias_ih, bias_hh)``."""
    return keras_to_torch_lstm(kernel, recurrent_kernel, bias)  # same layout, one gate


def torch_to_keras_simple_rnn(weight_ih: Any, weight_hh: Any, bias_ih: Any = None,
                              bias_hh: Any = None) -> tuple[Tensor, Tensor, Tensor | None]:
    """``nn.RNN`` weights -> Keras SimpleRNN ``(kernel, recurrent_kernel, bias)``."""
    return torch_to_keras_lstm(weight_ih, weight_hh, bias_ih, bias_hh)


def _sum_biases(bias_ih: Any, bias_hh: Any) -> Tensor | None:
    if bias_ih is None and bias_hh is None:
        return None
    if bias_ih is None:
        return _t(bias_hh).clone()
    if bias_hh is None:
        return _t(bias_ih).clone()
    return _t(bias_ih) + _t(bias_hh)


KERAS_TO_TORCH = {"LSTM": keras_to_torch_lstm, "GRU": keras_to_torch_gru,
                  "SimpleRNN": keras_to_torch_simple_rnn}
TORCH_TO_KERAS = {"LSTM": torch_to_keras_lstm, "GRU": torch_to_keras_gru,
                  "SimpleRNN": torch_to_keras_simple_rnn}
