"""Matching arrays read from a file to a model's weights, checked before anything is written.

A loader produces a *plan*: one ``(layer name, weight name, parameter, array)`` entry per
weight. :func:`check_plan` verifies every shape first (so a file that does not fit changes
nothing and the error names the layer, the weight and both shapes); :func:`apply_plan` then
copies. Loading a whole model checks the plan against a model built on the ``meta`` device
(no memory) before the real model is built, so a config that declares huge layers cannot
make rnnkit allocate more than the file actually stores.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch

from . import weight_maps
from .errors import WeightMismatchError


class PlanEntry(NamedTuple):
    layer: str
    weight: str
    param: torch.nn.Parameter
    array: np.ndarray


def layer_entries(layer: Any, arrays: list[np.ndarray], label: str) -> list[PlanEntry]:
    """Pair ``arrays`` (in ``layer.weights`` order) with the layer's weights, counts checked."""
    params = layer.weights
    names = layer.weight_names()
    if len(arrays) != len(params):
        raise WeightMismatchError(
            f"{label}: layer {layer.name!r} ({type(layer).__name__}) expects {len(params)} "
            f"weights ({', '.join(f'{n} {tuple(p.shape)}' for n, p in zip(names, params))}), "
            f"but the file has {len(arrays)} for it "
            f"({', '.join(str(tuple(a.shape)) for a in arrays) or 'none'}).")
    return [PlanEntry(layer.name, n, p, a) for n, p, a in zip(names, params, arrays)]


def check_plan(plan: list[PlanEntry], label: str) -> None:
    for entry in plan:
        if tuple(entry.array.shape) != tuple(entry.param.shape):
            raise WeightMismatchError(
                f"{label}: layer {entry.layer!r} weight {entry.weight} has shape "
                f"{tuple(entry.param.shape)} in the model, but the file stores shape "
                f"{tuple(entry.array.shape)} for it.")


def apply_plan(plan: list[PlanEntry], label: str) -> None:
    check_plan(plan, label)
    with torch.no_grad():
        for entry in plan:
            entry.param.copy_(torch.as_tensor(entry.array, dtype=entry.param.dtype))


# ---------------------------------------------------------------------- legacy arrays
def accepted_counts(layer: Any) -> set[int]:
    """How many arrays a saved layer may hold for ``layer``: its own count, or the count of
    a layout :func:`convert_legacy` converts (Keras 1 LSTM: 12, GRU: 9)."""
    from ..layers.recurrent import GRU, LSTM
    from ..layers.wrappers import Bidirectional, TimeDistributed

    counts = {len(layer.weights)}
    if isinstance(layer, Bidirectional):
        counts |= {2 * c for c in accepted_counts(layer.forward_layer)}
    elif isinstance(layer, TimeDistributed):
        counts |= accepted_counts(layer.layer)
    elif isinstance(layer, LSTM):
        counts.add(12)
    elif isinstance(layer, GRU):
        counts.add(9)
    return counts



def convert_legacy(layer: Any, arrays: list[np.ndarray], label: str) -> list[np.ndarray]:
    """tf.keras 2's ``preprocess_weights_for_loading``: Keras 1 and CuDNN arrays, by shape."""
    from ..layers.recurrent import GRU, LSTM
    from ..layers.wrappers import Bidirectional, TimeDistributed

    if isinstance(layer, Bidirectional):
        half = len(arrays) // 2
        return (convert_legacy(layer.forward_layer, arrays[:half], label)
                + convert_legacy(layer.backward_layer, arrays[half:], label))
    if isinstance(layer, TimeDistributed):
        return convert_legacy(layer.layer, arrays, label)
    if isinstance(layer, LSTM):
        if len(arrays) == 12:
            return weight_maps.keras1_lstm_to_keras(arrays)
        if _rnn_triple(arrays) and arrays[2].shape == (8 * arrays[1].shape[0],):
            return weight_maps.cudnn_lstm_to_keras(*arrays)
    if isinstance(layer, GRU):
        if len(arrays) == 9:
            return weight_maps.keras1_gru_to_keras(arrays)
        if _rnn_triple(arrays):
            units = arrays[1].shape[0]
            source = {(6 * units,): "CuDNNGRU", (2, 3 * units): "GRU(reset_after=True)",
                      (3 * units,): "GRU(reset_after=False)"}.get(tuple(arrays[2].shape))
            target = "GRU(reset_after=True)" if layer.reset_after else "GRU(reset_after=False)"
            if source is not None and source != target:
                if "GRU(reset_after=False)" in (source, target):
                    raise WeightMismatchError(
                        f"{label}: layer {layer.name!r}: {source} is not compatible with "
                        f"{target} (bias shape {tuple(arrays[2].shape)} in the file).")
                return weight_maps.cudnn_gru_to_keras(*arrays)
    return arrays


def _rnn_triple(arrays: list[np.ndarray]) -> bool:
    return (len(arrays) == 3 and arrays[0].ndim == 2 and arrays[1].ndim == 2
            and arrays[1].shape[0] > 0 and arrays[0].shape[1] == arrays[1].shape[1])
