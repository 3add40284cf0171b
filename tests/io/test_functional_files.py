"""Functional models in files: real tf.keras 2.12 .h5 files load and predict what Keras did."""
from pathlib import Path

import numpy as np
import pytest

from rnnkit.models import Model, load_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_functional_h5"


def test_encoder_decoder_h5_from_tf_keras_2_12_loads_and_predicts():
    data = np.load(FIXTURES / "seq2seq.npz")
    model = load_model(FIXTURES / "seq2seq.h5")
    assert isinstance(model, Model)
    predicted = model.predict([data["x0"], data["x1"]], verbose=0)
    np.testing.assert_allclose(predicted, data["y"], atol=2e-5)


def test_shared_layer_two_output_compiled_h5_loads_and_predicts():
    data = np.load(FIXTURES / "shared_gru.npz")
    model = load_model(FIXTURES / "shared_gru.h5")
    assert model.output_names == ["score", "kind"]
    score, kind = model.predict([data["x0"], data["x1"]], verbose=0)
    np.testing.assert_allclose(score, data["y0"], atol=2e-5)
    np.testing.assert_allclose(kind, data["y1"], atol=2e-5)


def test_rnnkit_saved_functional_h5_round_trips(tmp_path):
    model = load_model(FIXTURES / "seq2seq.h5", compile=False)
    path = tmp_path / "again.h5"
    model.save(path)
    again = load_model(path, compile=False)
    x = np.load(FIXTURES / "seq2seq.npz")
    np.testing.assert_allclose(again.predict([x["x0"], x["x1"]], verbose=0),
                               model.predict([x["x0"], x["x1"]], verbose=0), atol=1e-6)
    lines = []
    again.summary(print_fn=lines.append)
    assert "Connected to" in lines[2]
