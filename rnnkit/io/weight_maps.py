"""Every weight layout conversion in one place: Keras ⇄ torch, Keras ⇄ file paths, legacy arrays.

Keras keeps an RNN as ``kernel (D, kH)``, ``recurrent_kernel (H, kH)`` and ``bias``; torch's
``nn.LSTM``/``nn.GRU``/``nn.RNN`` keep ``weight_ih (kH, D)``, ``weight_hh (kH, H)``,
``bias_ih (kH,)`` and ``bias_hh (kH,)``. The differences:

- transposed matrices (``weight_ih = kernel.T``);
- LSTM gate blocks are ``i, f, c, o`` in both; Keras has one bias, so ``bias_hh`` is zeros
  (and going back, ``bias = bias_ih + bias_hh``);
- GRU gate blocks are ``z, r, h`` in Keras and ``r, z, n`` in torch; torch's GRU is Keras's
  ``reset_after=True`` GRU, whose bias ``(2, 3H)`` holds the input bias in row 0 and the
  recurrent bias in row 1. ``reset_after=False`` has no torch twin.

The torch-side functions take and return tensors (differentiable, so fused kernels can use
them inside a graph); NumPy arrays are accepted as input. The file-side helpers (legacy
CuDNN and Keras 1 arrays, the paths a Keras file stores a layer's weights under) work on
NumPy arrays and shapes.
"""
from __future__ import annotations

from typing import Any, Sequence

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


# ---------------------------------------------------------------------- legacy file arrays
def _per_gate(kernel: np.ndarray, fn: Any, n_gates: int) -> np.ndarray:
    return np.hstack([fn(k) for k in np.hsplit(kernel, n_gates)])


def _cudnn_input(from_cudnn: bool) -> Any:
    # tf.keras `_convert_rnn_weights`: CuDNN stores each gate's input kernel transposed in
    # Fortran order.
    order = "F" if from_cudnn else "C"
    return lambda k: k.T.reshape(k.shape, order=order)


def cudnn_lstm_to_keras(kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
                        ) -> list[np.ndarray]:
    """CuDNNLSTM arrays (bias ``(8u,)``) -> LSTM arrays, as tf.keras 2 converts them."""
    return [_per_gate(kernel, _cudnn_input(True), 4),
            _per_gate(recurrent_kernel, lambda k: k.T, 4),
            np.sum(np.split(bias, 2, axis=0), axis=0)]


def keras_to_cudnn_lstm(kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
                        ) -> list[np.ndarray]:
    """LSTM arrays -> CuDNNLSTM arrays (the inverse of :func:`cudnn_lstm_to_keras`)."""
    return [_per_gate(kernel, _cudnn_input(False), 4),
            _per_gate(recurrent_kernel, lambda k: k.T, 4),
            np.concatenate([bias, np.zeros_like(bias)])]


def cudnn_gru_to_keras(kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
                       ) -> list[np.ndarray]:
    """CuDNNGRU arrays (bias ``(6u,)``) -> GRU(reset_after=True) arrays."""
    return [_per_gate(kernel, _cudnn_input(True), 3),
            _per_gate(recurrent_kernel, lambda k: k.T, 3),
            np.asarray(bias).reshape(2, -1)]


def keras_to_cudnn_gru(kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
                       ) -> list[np.ndarray]:
    """GRU(reset_after=True) arrays -> CuDNNGRU arrays."""
    return [_per_gate(kernel, _cudnn_input(False), 3),
            _per_gate(recurrent_kernel, lambda k: k.T, 3),
            np.asarray(bias).reshape(-1)]


def keras1_lstm_to_keras(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Keras 1's 12 per-gate LSTM arrays (gate order i, c, f, o) -> kernel, recurrent, bias."""
    w = list(arrays)
    return [np.concatenate([w[0], w[6], w[3], w[9]], axis=-1),
            np.concatenate([w[1], w[7], w[4], w[10]], axis=-1),
            np.concatenate([w[2], w[8], w[5], w[11]], axis=-1)]


def keras1_gru_to_keras(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Keras 1's 9 per-gate GRU arrays -> kernel, recurrent_kernel, bias."""
    w = list(arrays)
    return [np.concatenate([w[0], w[3], w[6]], axis=-1),
            np.concatenate([w[1], w[4], w[7]], axis=-1),
            np.concatenate([w[2], w[5], w[8]], axis=-1)]


# ---------------------------------------------------------------------- paths in Keras files
def to_snake_case(name: str) -> str:
    """Keras's ``to_snake_case`` (``SimpleRNN`` -> ``simple_rnn``, ``LSTM`` -> ``lstm``)."""
    from ..backend import to_snake_case as snake
    return snake(name)


def legacy_weight_names(layer: Any) -> list[str]:
    """tf.keras 2 HDF5 ``weight_names`` of a layer (``lstm/lstm_cell/kernel:0``, ...)."""
    return layer.weight_names()


def saveable_groups(layer: Any) -> list[tuple[str, list[torch.nn.Parameter], str]]:
    """The ``vars`` groups Keras 3 (and tf.keras >= 2.12 ``.weights.h5``) writes for ``layer``.

    Returns ``(relative path, parameters in vars/0.. order, object name)`` triples, e.g. for
    an LSTM ``[("vars", [], "lstm"), ("cell/vars", [kernel, recurrent_kernel, bias], "lstm_cell")]``;
    an ``RNN([LSTMCell, GRUCell])`` has ``cell/vars`` (empty), ``cell/cells/lstm_cell/vars``
    and ``cell/cells/gru_cell/vars`` (as Keras 3.15.1 and tf.keras 2.12 write them).
    Children are visited in sorted attribute order, as Keras's ``_walk_saveable`` does, so a
    Bidirectional's ``backward_layer`` comes before its ``forward_layer``.
    """
    from ..layers.cells import StackedRNNCells
    from ..layers.recurrent import RNN
    from ..layers.wrappers import Bidirectional, TimeDistributed

    groups = [("vars", [p for p in layer._own_weights()], layer.name)]
    children: list[tuple[str, Any]] = []
    if isinstance(layer, RNN):
        children = [("cell", layer.cell)]
    elif isinstance(layer, StackedRNNCells):
        # A list attribute: Keras saves each item under its snake-cased class name, made
        # unique within the list (``cells/lstm_cell``, ``cells/simple_rnn_cell_1``).
        children = [(f"cells/{key}", cell)
                    for cell, key in zip(layer.cells, keras3_layer_keys(layer.cells))]
    elif isinstance(layer, Bidirectional):
        children = [("backward_layer", layer.backward_layer), ("forward_layer", layer.forward_layer)]
    elif isinstance(layer, TimeDistributed):
        children = [("layer", layer.layer)]
    else:
        children = [(name, sub) for name, sub in sorted(layer._modules.items())
                    if sub is not None and hasattr(sub, "_own_weights")]
    for attr, child in children:
        for path, params, name in saveable_groups(child):
            groups.append((f"{attr}/{path}", params, name))
    return groups


def keras3_layer_keys(layers: Sequence[Any]) -> list[str]:
    """Keras 3 ``layers/<key>``: snake-cased class names made unique within the list."""
    used: dict[str, int] = {}
    keys = []
    for layer in layers:
        name = to_snake_case(type(layer).__name__)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        keys.append(name)
    return keys


def tf212_layer_keys(layers: Sequence[Any]) -> list[str]:
    """tf.keras 2.12-2.15 ``.weights.h5``: keys under ``_layer_checkpoint_dependencies``.

    That container is a dict that lists each layer with weights twice
    (``layer_with_weights-i`` and ``layer-j``); the name counter advances for the second
    (already visited, not written) entry too, so the second LSTM is ``lstm_2``.
    """
    used: dict[str, int] = {}
    keys = []
    for layer in layers:
        seen_twice = 2 if layer.weights else 1
        for occurrence in range(seen_twice):
            name = to_snake_case(type(layer).__name__)
            if name in used:
                used[name] += 1
                name = f"{name}_{used[name]}"
            else:
                used[name] = 0
            if occurrence == 0:
                keys.append(name)
    return keys
