"""Every recorded tf.keras 2.12 model, rebuilt from its config: same summary, same predictions."""
import json
from pathlib import Path

import numpy as np
import pytest

import rnnkit
from rnnkit.layers import deserialize
from rnnkit.models import Sequential

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras2"
MODELS = json.loads((FIXTURES / "models.json").read_text())["models"]


def build(entry):
    rnnkit.backend.clear_session()
    model = Sequential()
    for layer in entry["layers"]:
        model.add(deserialize({"class_name": layer["class"], "config": layer["config"]}))
    return model


@pytest.mark.parametrize("entry", MODELS, ids=[m["name"] for m in MODELS])
def test_summary_text_is_identical(entry):
    model = build(entry)
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) == entry["summary"]


@pytest.mark.parametrize("entry", MODELS, ids=[m["name"] for m in MODELS])
def test_weights_have_keras_order_and_shapes(entry):
    model = build(entry)
    assert [list(w.shape) for w in model.get_weights()] == entry["weight_shapes"]


@pytest.mark.parametrize("entry", MODELS, ids=[m["name"] for m in MODELS])
def test_predictions_match_keras(entry):
    data = np.load(FIXTURES / "models" / f"{entry['name']}.npz")
    model = build(entry)
    weights = [data[f"w{k:03d}"] for k in range(len(model.weights))]
    assert f"w{len(weights):03d}" not in data.files, "the model has fewer weights than Keras"
    model.set_weights(weights)
    predicted = model.predict(data["x"])
    assert isinstance(predicted, np.ndarray)
    np.testing.assert_allclose(predicted, data["y"], atol=2e-5)
    # The model called directly gives the same numbers as a tensor.
    np.testing.assert_allclose(model(data["x"]).detach().numpy(), data["y"], atol=2e-5)


@pytest.mark.parametrize("entry", MODELS, ids=[m["name"] for m in MODELS])
def test_config_round_trip(entry):
    model = build(entry)
    config = model.get_config()
    again = Sequential.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert [list(w.shape) for w in again.get_weights()] == entry["weight_shapes"]
