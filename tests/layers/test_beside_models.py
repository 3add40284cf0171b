"""Whole tf.keras 2.12 models that use the layers beside the RNNs (tests/fixtures/keras2_beside):
a CNN-LSTM text classifier (Embedding, SpatialDropout1D, Conv1D, MaxPooling1D, LSTM), the
imdb_cnn_lstm example, BatchNormalization between LSTMs, a ConvLSTM2D next-frame model
(ConvLSTM2D, BatchNormalization, Conv3D), an LSTM with MultiHeadAttention and
LayerNormalization (functional), a Conv2D/pooling stack and an assortment of reshaping and
noise layers. Their .h5 files load with the same summary and predictions; a few SGD steps
give tf.keras 2.12's weights and moving statistics; rnnkit's own .h5/.keras files load back.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import rnnkit
from rnnkit.models import load_model

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_beside"
MODELS = json.loads((HERE / "models.json").read_text())
# models whose training is deterministic (cnn_lstm has a SpatialDropout1D: random masks)
FIT_CASES = sorted(name for name, entry in MODELS.items()
                   if "fit" in entry and name != "cnn_lstm")


def _load(name):
    rnnkit.backend.clear_session()
    return load_model(HERE / "models" / f"{name}.h5"), dict(np.load(HERE / "models" / f"{name}.npz"))


def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_h5_file_loads_with_keras_summary_and_predictions(name):
    model, data = _load(name)
    assert _summary(model) == MODELS[name]["summary"]
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=2e-5)
    weights = [w.detach().numpy() for w in model.weights]
    for k, w in enumerate(weights):
        np.testing.assert_array_equal(w, data[f"w{k:03d}"])


@pytest.mark.parametrize("name", FIT_CASES)
def test_sgd_steps_give_keras_weights_and_moving_statistics(name):
    model, data = _load(name)
    fit = MODELS[name]["fit"]
    model.compile(optimizer=rnnkit.optimizers.SGD(0.1), loss="mse")
    model.fit(data["x"], data["fit_target"], batch_size=fit["batch_size"], epochs=fit["epochs"],
              shuffle=False, verbose=0)
    names = MODELS[name]["weight_names"]
    assert any("moving_mean" in n for n in names)
    for k, (w, n) in enumerate(zip(model.weights, names)):
        np.testing.assert_allclose(w.detach().numpy(), data[f"fit_w{k:03d}"], atol=1e-5,
                                   rtol=1e-4, err_msg=n)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("suffix", ["h5", "keras"])
def test_rnnkit_files_load_back(name, suffix, tmp_path):
    model, data = _load(name)
    path = tmp_path / f"model.{suffix}"
    with pytest.warns(UserWarning) if name == "conv_lstm" and suffix == "keras" else _nothing():
        model.save(path)  # (ConvLSTM2D's hard_sigmoid: Keras 3 computes it differently)
    rnnkit.backend.clear_session()
    again = load_model(path)
    assert _summary(again) == MODELS[name]["summary"]
    np.testing.assert_allclose(again.predict(data["x"], verbose=0), data["y"], atol=2e-5)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
