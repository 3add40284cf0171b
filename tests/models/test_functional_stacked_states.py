"""Functional models over ``RNN([cell, ...], return_state=True)`` with multi-state cells,
against tf.keras 2.12 (fixtures ``keras2_stacked/functional_*``, written by its
``record_functional.py``): the states come back nested per cell (``[output, [h, c], h2]``)
in a graph too, a decoder can start from them, and the models load from and save to
``.h5`` files that tf.keras 2.12 wrote and reads."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import backend
from rnnkit import layers as L
from rnnkit.models import Model, load_model
from rnnkit.layers.keras_tensor import flatten

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_stacked"
NAMES = ["seq2seq", "nested_outputs"]
TOL = dict(atol=2e-5, rtol=2e-5)


def _case(name):
    data = np.load(FIXTURES / f"functional_{name}.npz")
    info = json.loads((FIXTURES / f"functional_{name}.json").read_text())
    xs = [data[f"x{k}"] for k in range(sum(key.startswith("x") for key in data))]
    ys = [data[f"y{k}"] for k in range(sum(key.startswith("y") for key in data))]
    return (xs if len(xs) > 1 else xs[0]), ys, info


def _skeleton(structure):
    if isinstance(structure, (list, tuple)) and not all(d is None or isinstance(d, int)
                                                        for d in structure):
        return [_skeleton(s) for s in structure]
    return "leaf"


def _shapes(outputs):
    if isinstance(outputs, (list, tuple)):
        return [_shapes(o) for o in outputs]
    return list(outputs.shape)


def seq2seq():
    """The recorded encoder-decoder, written with rnnkit's names (record_functional.py)."""
    enc_in, dec_in = rnnkit.Input((6, 3)), rnnkit.Input((4, 2))
    _, enc_1, enc_2 = L.RNN([L.LSTMCell(5), L.LSTMCell(4)], return_state=True)(enc_in)
    dec_seq, dec_1, dec_2 = L.RNN([L.LSTMCell(5), L.LSTMCell(4)], return_sequences=True,
                                  return_state=True)(dec_in, initial_state=[enc_1, enc_2])
    probs = L.Dense(3, activation="softmax")(dec_seq)
    last = L.Concatenate()([dec_1[0], dec_2[1]])
    return Model([enc_in, dec_in], [probs, last])


@pytest.mark.parametrize("name", NAMES)
def test_keras_h5_loads_and_computes_what_tf_keras_computed(name):
    x, ys, info = _case(name)
    model = load_model(FIXTURES / f"functional_{name}.h5")
    outputs = model(x)
    assert _shapes(outputs) == info["output_structure"]  # nested the same way
    for got, want in zip(flatten(outputs), ys, strict=True):
        np.testing.assert_allclose(got.detach().numpy(), want, **TOL)
    lines = []
    model.summary(print_fn=lines.append)
    assert lines == info["summary"]
    config = model.get_config()
    for mine, keras in zip(config["layers"], info["config"]["layers"], strict=True):
        assert mine["inbound_nodes"] == keras["inbound_nodes"], mine["name"]
    assert config["output_layers"] == info["config"]["output_layers"]


@pytest.mark.parametrize("name", NAMES)
def test_h5_written_by_rnnkit_loads_back_the_same(name, tmp_path):
    x, _, info = _case(name)
    model = load_model(FIXTURES / f"functional_{name}.h5")
    model.save(tmp_path / "model.h5")
    again = load_model(tmp_path / "model.h5")
    for got, want in zip(flatten(again(x)), flatten(model(x)), strict=True):
        torch.testing.assert_close(got, want)
    # The nested initial state is written as tf.keras 2.12 writes (and only reads) it.
    assert [e["inbound_nodes"] for e in again.get_config()["layers"]] == \
        [e["inbound_nodes"] for e in info["config"]["layers"]]


def test_the_same_code_builds_the_recorded_model():
    x, ys, info = _case("seq2seq")
    backend.clear_session()
    model = seq2seq()
    lines = []
    model.summary(print_fn=lines.append)
    assert lines == info["summary"]
    model.set_weights(load_model(FIXTURES / "functional_seq2seq.h5").get_weights())
    for got, want in zip(model.predict(x, verbose=0), ys, strict=True):
        np.testing.assert_allclose(got, want, **TOL)


def test_symbolic_states_are_nested_per_cell_and_match_the_eager_call():
    layer = L.RNN([L.LSTMCell(4), L.SimpleRNNCell(2), L.GRUCell(3)], return_state=True)
    inputs = rnnkit.Input((5, 4))
    out, (h1, c1), h2, h3 = layer(inputs)
    assert [t.shape for t in (out, h1, c1, h2, h3)] == [(None, 3), (None, 4), (None, 4),
                                                       (None, 2), (None, 3)]
    assert [t._keras_history.tensor_index for t in (out, h1, c1, h2, h3)] == [0, 1, 2, 3, 4]
    model = Model(inputs, [out, h1, c1, h2, h3])
    x = torch.randn(2, 5, 4)
    eager = layer(x)
    assert _skeleton(_shapes(eager)) == ["leaf", ["leaf", "leaf"], "leaf", "leaf"]
    for got, want in zip(model(x), flatten(eager), strict=True):
        torch.testing.assert_close(got, want)


def test_a_flat_initial_state_is_saved_nested_per_cell(tmp_path):
    enc_in, dec_in = rnnkit.Input((6, 3)), rnnkit.Input((4, 2))
    _, (h1, c1), h2 = L.RNN([L.LSTMCell(5), L.GRUCell(4)], return_state=True)(enc_in)
    decoder = L.RNN([L.LSTMCell(5), L.GRUCell(4)])
    model = Model([enc_in, dec_in], decoder(dec_in, initial_state=[h1, c1, h2]))  # flat
    (node,) = [e["inbound_nodes"] for e in model.get_config()["layers"]
               if e["name"] == decoder.name]

    def refs(entry):  # [layer, node, tensor] without the kwargs, nesting kept
        return entry[:3] if isinstance(entry[0], str) else [refs(e) for e in entry]
    encoder = node[0][1][0][0]
    assert refs(node[0]) == [[dec_in._keras_history.layer.name, 0, 0],
                             [[encoder, 0, 1], [encoder, 0, 2]], [encoder, 0, 3]]
    x = [torch.randn(2, 6, 3), torch.randn(2, 4, 2)]
    model.save(tmp_path / "flat.h5")
    torch.testing.assert_close(load_model(tmp_path / "flat.h5")(x), model(x))


def test_bidirectional_stacked_states_nest_per_direction_and_cell():
    layer = L.Bidirectional(L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_state=True))
    inputs = rnnkit.Input((5, 4))
    outputs = layer(inputs)
    # tf.keras 2.12: [output, [h, c], h_gru (forward), [h, c], h_gru (backward)]
    assert _skeleton(_shapes(outputs)) == ["leaf", ["leaf", "leaf"], "leaf",
                                           ["leaf", "leaf"], "leaf"]
    model = Model(inputs, outputs)
    x = torch.randn(2, 5, 4)
    for got, want in zip(flatten(model(x)), flatten(layer(x)), strict=True):
        torch.testing.assert_close(got, want)


def test_predict_returns_nested_states_as_keras_does():
    """tf.keras 2.12's predict returns [array, [array, array], array] for such a model."""
    inputs = rnnkit.Input(shape=(4, 3))
    model = Model(inputs, L.RNN([L.LSTMCell(5), L.GRUCell(2)], return_state=True)(inputs))
    x = np.random.default_rng(0).normal(size=(70, 4, 3)).astype("float32")
    predicted = model.predict(x, batch_size=32, verbose=0)   # three batches joined
    direct = model(x)
    assert [type(p) for p in predicted] == [np.ndarray, list, np.ndarray]
    np.testing.assert_allclose(predicted[0], direct[0].numpy(), atol=1e-6)
    for got, want in zip(predicted[1], direct[1]):
        np.testing.assert_allclose(got, want.numpy(), atol=1e-6)
    np.testing.assert_allclose(predicted[2], direct[2].numpy(), atol=1e-6)
