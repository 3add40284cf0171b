"""A Sequential with a known input shape is a graph: model.input/output, layer.output, the
feature-extraction sub-model; without an input shape, tf.keras 2.12's errors
(fixtures/keras2_program_api, recorded by record_program_api.py there)."""
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit as keras
from rnnkit import layers

RECORD = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras2_program_api"
                     / "program_api.json").read_text())


def shape(t):
    return [None if d is None else int(d) for d in t.shape]


def stacked():
    keras.backend.clear_session()
    return keras.Sequential([layers.LSTM(6, return_sequences=True, input_shape=(5, 3)),
                             layers.LSTM(4, name="lstm_last"),
                             layers.Dense(2, activation="softmax")])


def test_graph_of_a_sequential_with_input_shape_matches_tf_keras():
    want = RECORD["sequential_graph"]
    model = stacked()
    features = keras.Model(inputs=model.input, outputs=model.layers[-2].output)
    every = keras.Model(model.inputs, [layer.output for layer in model.layers])
    assert shape(model.input) == want["input_shape"]
    assert shape(model.output) == want["output_shape"]
    assert model.input._keras_history.layer.name == want["input_layer"]
    assert (len(model.inputs), len(model.outputs)) == (want["inputs"], want["outputs"])
    assert [shape(layer.input) for layer in model.layers] == want["layer_inputs"]
    assert [shape(layer.output) for layer in model.layers] == want["layer_outputs"]
    assert shape(model.get_layer("lstm_last").output) == want["get_layer_output"]
    lines = []
    features.summary(print_fn=lines.append)
    assert lines == want["features_summary"]
    assert [shape(t) for t in every.outputs] == want["every_output_shapes"]
    assert [layer["name"] for layer in features.get_config()["layers"]] == \
        want["features_config_layers"]


def test_sub_models_share_the_trained_layers():
    model = stacked()
    x = np.random.default_rng(0).normal(size=(3, 5, 3)).astype("float32")
    features = keras.Model(inputs=model.input, outputs=model.layers[-2].output)
    full = model.predict(x, verbose=0)
    with torch.no_grad():
        by_hand = model.layers[2](torch.as_tensor(features.predict(x, verbose=0)))
    np.testing.assert_allclose(by_hand.numpy(), full, atol=1e-6)
    outputs = keras.Model(model.inputs, [l.output for l in model.layers]).predict(x, verbose=0)
    np.testing.assert_allclose(outputs[-1], full, atol=1e-6)


def test_an_input_first_is_the_graph_input():
    keras.backend.clear_session()
    want = RECORD["sequential_graph"]["input_first"]
    model = keras.Sequential([keras.Input((7, 2)), layers.GRU(3)])
    assert model.input._keras_history.layer.name == want["input_layer"]
    assert shape(model.output) == want["output_shape"]


def test_without_input_shape_tf_keras_errors():
    keras.backend.clear_session()
    want = RECORD["sequential_unbuilt"]
    bare = keras.Sequential([layers.LSTM(4), layers.Dense(2)])
    assert repr(bare.inputs) == want["inputs"] and repr(bare.outputs) == want["outputs"]
    for attribute, target in (("input", bare), ("output", bare),
                              ("layer_input", bare.layers[0]),
                              ("layer_output", bare.layers[0])):
        name = attribute.replace("layer_", "")
        with pytest.raises(AttributeError) as caught:
            getattr(target, name)
        assert str(caught.value).startswith(want[attribute]["message"]), attribute
    assert not hasattr(bare, "input")


def test_build_then_pop_moves_the_output():
    keras.backend.clear_session()
    want = RECORD["sequential_built"]
    bare = keras.Sequential([layers.LSTM(4), layers.Dense(2)])
    bare.build((None, 5, 3))
    assert shape(bare.input) == want["input_shape"]
    assert bare.input._keras_history.layer.name == want["input_layer"]
    assert shape(bare.layers[0].output) == want["layer_output"]
    bare.pop()
    assert shape(bare.output) == want["after_pop_output"]
    bare.add(layers.Dense(5))
    assert shape(bare.output) == [None, 5]
    assert bare.layers[-1].input is bare.layers[0].output


def test_a_model_called_on_data_gets_its_graph():
    keras.backend.clear_session()
    model = keras.Sequential([layers.SimpleRNN(3), layers.Dense(1)])
    model(np.zeros((4, 6, 2), "float32"))
    # as tf.keras 2.12: a direct call's batch size is kept, and relaxed by a call with another
    assert shape(model.input) == [4, 6, 2]
    assert shape(model.layers[0].output) == [4, 3]
    model(np.zeros((5, 6, 2), "float32"))
    assert shape(model.input) == [None, 6, 2]
    assert shape(model.output) == [None, 1]


def test_the_graph_survives_copies_and_nesting():
    model = stacked()
    clone = copy.deepcopy(model)
    assert shape(clone.output) == [None, 2]
    assert clone.output._keras_history.layer is clone.layers[-1]
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    assert shape(torch.load(buffer, weights_only=False).output) == [None, 2]
    # used as a layer of a functional model, it is that model's node 1
    inputs = keras.Input((5, 3))
    outer = keras.Model(inputs, model(inputs))
    assert outer.predict(np.zeros((2, 5, 3), "float32"), verbose=0).shape == (2, 2)
    assert outer.get_config()["layers"][1]["inbound_nodes"][0][0][:3] == ["input_1", 0, 0]


def test_an_input_layers_shapes_are_lists_of_tuples_as_in_tf_keras():
    want = RECORD["input_layer_shapes"]
    inputs = keras.Input((10, 3))
    functional = keras.Model(inputs, layers.LSTM(2)(inputs))
    first = functional.layers[0]
    assert first.input_shape == [tuple(want["input_shape"][0])]
    assert first.output_shape == [tuple(want["output_shape"][0])]
