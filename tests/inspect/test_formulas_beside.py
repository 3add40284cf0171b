"""explain() formulas of the layers beside the RNNs: every recorded tf.keras 2.12 case
(convolutions with and without bias, groups, depthwise and separable, transposed,
BatchNormalization with center/scale off, LayerNormalization over several axes,
MultiHeadAttention with and without bias or output_shape, ConvLSTM1D/2D/3D): the formula
evaluates to the count it states, and that count is the layer's count_params()."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import rnnkit
from rnnkit import layers
from rnnkit.inspect.formulas import explain_layer

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_beside"
CASES = [c for c in json.loads((HERE / "layers.json").read_text()) if c["weight_names"]]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_formula_states_count_params(case):
    rnnkit.backend.clear_session()
    layer = getattr(layers, case["class_name"])(**case["kwargs"])
    xs = [np.zeros(s, "float32") for s in case["input_shapes"]]
    layer(*xs) if isinstance(layer, layers.MultiHeadAttention) else layer(xs[0])
    found = explain_layer(layer)
    assert found.count == layer.count_params()
    assert eval(found.formula.replace("×", "*")) == found.count  # the text says the number
    assert [w.shape for w in found.weights] == [tuple(s) for s in case["weight_shapes"]]


def test_conv1d_formula_reads_as_keras_teaches_it():
    layer = layers.Conv1D(6, 3)
    layer(np.zeros((1, 10, 8), "float32"))
    found = explain_layer(layer)
    assert found.formula == "3 × 8 × 6 + 6" and found.count == 150
    assert found.legend == "kernel_size × input channels × filters + filters (bias)"


def test_batch_norm_formula_names_the_non_trainable_statistics():
    layer = layers.BatchNormalization()
    layer(np.zeros((2, 5), "float32"))
    found = explain_layer(layer)
    assert found.formula == "4 × 5" and "non-trainable" in found.legend
    assert [w.name for w in found.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
