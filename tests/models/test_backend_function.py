"""K.function (rnnkit.backend.function) against tf.keras 2.12: the same values for the same
weights, a list out for a list of outputs and one array for one tensor
(fixtures/keras2_program_api/program_api.json)."""
import json
from pathlib import Path

import numpy as np
import pytest

import rnnkit as keras
from rnnkit import backend as K
from rnnkit import layers

RECORD = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras2_program_api"
                     / "program_api.json").read_text())["function"]


@pytest.fixture()
def model():
    keras.backend.clear_session()
    built = keras.Sequential([layers.LSTM(6, return_sequences=True, input_shape=(5, 3)),
                              layers.Dropout(0.5), layers.LSTM(4), layers.Dense(2)])
    built.set_weights([np.asarray(w, "float32") for w in RECORD["weights"]])
    return built


def test_intermediate_outputs_match_tf_keras(model):
    x = np.asarray(RECORD["x"], "float32")
    get_3rd = K.function([model.layers[0].input], [model.layers[2].output])
    result = get_3rd([x])
    assert type(result).__name__ == RECORD["list_one"]["type"]
    assert type(result[0]).__name__ == RECORD["list_one"]["item_type"]
    np.testing.assert_allclose(result[0], RECORD["list_one"]["value"], atol=2e-6)
    single = K.function(model.input, model.output)(x)
    assert type(single).__name__ == RECORD["single"]["type"]
    np.testing.assert_allclose(single, RECORD["single"]["value"], atol=2e-6)
    several = K.function(model.inputs, [model.layers[0].output, model.output])(x)
    assert type(several).__name__ == RECORD["several"]["type"]
    for ours, theirs in zip(several, RECORD["several"]["values"]):
        np.testing.assert_allclose(ours, theirs, atol=2e-6)


def test_dropout_is_off_and_no_gradient_is_kept(model):
    x = np.asarray(RECORD["x"], "float32")
    f = K.function(model.input, model.layers[1].output)
    np.testing.assert_array_equal(f(x), f(x))  # inference: no random dropout mask
    assert isinstance(f(x), np.ndarray)


@pytest.mark.parametrize("case, kwargs", [("updates_error", {"updates": [1]}),
                                          ("kwargs_error", {"fetches": 1})])
def test_graph_mode_arguments_are_refused_as_tf_keras_does(model, case, kwargs):
    with pytest.raises(ValueError) as caught:
        K.function(model.inputs, model.outputs, **kwargs)
    assert str(caught.value) == RECORD[case]["message"]


def test_one_element_lists_unwrap_as_in_tf_keras():
    inputs = keras.Input((3,))
    outputs = layers.Dense(2)(inputs)
    model = keras.Model([inputs], [outputs])
    assert model.output is outputs and model.input is inputs
    assert isinstance(model.predict(np.zeros((1, 3)), verbose=0), np.ndarray)
