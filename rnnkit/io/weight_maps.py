"""Weight layouts of files: legacy arrays (CuDNN, Keras 1), and the paths a Keras file
stores a layer's weights under.

Keras ⇄ torch layouts are tensor functions the fused kernels use too, so they live below
the layers, in ``rnnkit.kernels.torch_layout``. The helpers here work on NumPy arrays and
shapes.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch


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
