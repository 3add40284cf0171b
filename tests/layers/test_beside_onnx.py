"""ONNX export of models with the layers beside the RNNs: onnxruntime computes what
tf.keras 2.12 predicted (the keras2_beside models: Conv1D/MaxPooling1D before an LSTM,
BatchNormalization between LSTMs, ConvLSTM2D + Conv3D, LayerNormalization, SeparableConv1D,
Conv2D pooling)."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import rnnkit
from rnnkit import export
from rnnkit.models import load_model

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_beside"
# (rnnkit.export takes Sequential models: the functional "mha" model is not exported)
MODELS = sorted(set(json.loads((HERE / "models.json").read_text())) - {"mha"})


@pytest.mark.parametrize("name", MODELS)
def test_onnx_graph_predicts_what_tf_keras_predicted(name, tmp_path):
    rnnkit.backend.clear_session()
    model = load_model(HERE / "models" / f"{name}.h5")
    data = np.load(HERE / "models" / f"{name}.npz")
    x = data["x"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = export.onnx(model, tmp_path / "m.onnx", sequence_length=x.shape[1])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feed = x.astype("int64") if x.dtype.kind in "iu" else x
    (got,) = session.run(None, {"input": feed})
    np.testing.assert_allclose(got, data["y"], atol=2e-5)
