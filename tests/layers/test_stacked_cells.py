"""``RNN([cell, ...])`` and ``StackedRNNCells`` against real tf.keras 2.12.

The fixtures (``fixtures/keras2_stacked``, recorded by its ``record.py``) hold random
weights in ``layer.weights`` order, the inputs, every returned tensor flattened, and the
nesting tf.keras 2.12 gave them: the states come back per cell (``[output, [h, c], h_gru]``).
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit.layers as L
from rnnkit.backend import clear_session
from rnnkit.models import Sequential, load_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_stacked"
TOL = 2e-5


def _case(name):
    return np.load(FIXTURES / f"{name}.npz"), json.loads((FIXTURES / f"{name}.json").read_text())


def _nesting(structure):
    """The json's nested shapes as a skeleton: a shape (list of ints) is a leaf."""
    if structure and all(isinstance(d, int) for d in structure):
        return "leaf"
    return [_nesting(s) for s in structure]


def _skeleton(outputs):
    if isinstance(outputs, torch.Tensor):
        return "leaf"
    return [_skeleton(o) for o in outputs]


def _flat(outputs):
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [leaf for o in outputs for leaf in _flat(o)]


def _layer_from(info, data):
    layer = L.deserialize({"class_name": info["class_name"], "config": info["config"]})
    layer.build(data["x"].shape)
    weights = [data[f"w{k:03d}"] for k in range(len(info["weight_names"]))]
    layer.set_weights(weights)
    return layer


@pytest.mark.parametrize("name", ["lstm_gru", "masked_backwards", "initial_state"])
def test_outputs_and_states_match_tf_keras_2(name):
    data, info = _case(name)
    layer = _layer_from(info, data)
    kwargs = {}
    if "mask" in data:
        kwargs["mask"] = torch.tensor(data["mask"])
    if "initial_state_0" in data:
        flat = [torch.tensor(data[f"initial_state_{k}"]) for k in range(3)]
        kwargs["initial_state"] = [flat[0], flat[1:]]  # nested per cell, as Keras takes it
    outputs = layer(data["x"], **kwargs)
    assert _skeleton(outputs) == _nesting(info["output_structure"])
    flat = _flat(outputs)
    assert len(flat) == len([k for k in data if k.startswith("output_")])
    for k, tensor in enumerate(flat):
        np.testing.assert_allclose(tensor.detach().numpy(), data[f"output_{k}"], atol=TOL)


def test_flat_initial_state_gives_the_same_numbers():
    data, info = _case("initial_state")
    layer = _layer_from(info, data)
    flat = [torch.tensor(data[f"initial_state_{k}"]) for k in range(3)]
    outputs = _flat(layer(data["x"], initial_state=flat))
    np.testing.assert_allclose(outputs[0].detach().numpy(), data["output_0"], atol=TOL)


def test_weight_names_and_state_size_follow_keras():
    data, info = _case("lstm_gru")
    layer = L.RNN([L.LSTMCell(4, name="lstm_cell"), L.GRUCell(3, name="gru_cell")], name="rnn")
    layer.build((None, 5, 4))
    cells = layer.cell
    assert isinstance(cells, L.StackedRNNCells)
    assert cells.state_size == ([4, 4], 3) and cells.output_size == 3
    names = [n.split("/", 1)[1] for n in layer.weight_names()]
    assert [n.split("/", 1)[1] for n in info["weight_names"]] == [
        n.replace(cells.name, "stacked_rnn_cells") for n in names]
    assert [w.shape for w in layer.get_weights()] == [
        data[f"w{k:03d}"].shape for k in range(len(info["weight_names"]))]


def test_config_round_trip_and_keras_config_form():
    data, info = _case("lstm_gru")
    assert info["config"]["cell"]["class_name"] == "StackedRNNCells"
    layer = _layer_from(info, data)
    config = layer.get_config()
    cell_config = config["cell"]["config"]
    assert [c["class_name"] for c in cell_config["cells"]] == ["LSTMCell", "GRUCell"]
    assert json.loads(json.dumps(config["cell"])) == info["config"]["cell"]
    clone = L.RNN.from_config(config)
    clone.build(data["x"].shape)
    clone.set_weights(layer.get_weights())
    for a, b in zip(_flat(clone(data["x"])), _flat(layer(data["x"]))):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    stacked = L.deserialize(L.serialize(layer.cell))
    assert isinstance(stacked, L.StackedRNNCells)
    assert stacked.state_size == ([4, 4], 3)


def test_recorded_h5_loads_predicts_and_summarises_as_keras():
    data, info = _case("seq_model")
    model = load_model(FIXTURES / "seq_model.h5")
    np.testing.assert_allclose(np.asarray(model.predict(data["x"], verbose=0)), data["y"],
                               atol=TOL)
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) == info["summary"]
    assert [n for layer in model.layers for n in layer.weight_names()] == info["weight_names"]


def test_built_model_summary_matches_keras(tmp_path):
    data, info = _case("seq_model")
    # The record was made in a fresh session, where the model's automatic name is
    # "sequential"; a model built by an earlier test would make this one "sequential_1".
    clear_session()
    model = Sequential([L.RNN([L.SimpleRNNCell(3), L.SimpleRNNCell(2)], input_shape=(5, 4),
                              name="rnn_3"), L.Dense(1, name="dense")])
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) == info["summary"]
    model.set_weights([data[f"w{k:03d}"] for k in range(8)])
    np.testing.assert_allclose(np.asarray(model.predict(data["x"], verbose=0)), data["y"],
                               atol=TOL)
    model.save(tmp_path / "m.h5")  # and back: rnnkit's own .h5 of a stacked cell
    again = load_model(tmp_path / "m.h5")
    np.testing.assert_allclose(np.asarray(again.predict(data["x"], verbose=0)), data["y"],
                               atol=TOL)


def test_a_training_step_changes_every_cells_weights():
    torch.manual_seed(0)
    model = Sequential([L.RNN([L.LSTMCell(3), L.GRUCell(2), L.SimpleRNNCell(2)],
                              input_shape=(5, 4)), L.Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    before = model.layers[0].get_weights()
    assert len(before) == 9
    x = np.random.default_rng(0).normal(size=(8, 5, 4)).astype("float32")
    model.fit(x, np.ones((8, 1), "float32"), epochs=1, batch_size=8, verbose=0)
    after = model.layers[0].get_weights()
    for name, old, new in zip(model.layers[0].weight_names(), before, after):
        assert not np.allclose(old, new), name


def test_stacked_cell_runs_on_the_reference_loop_with_a_reason():
    layer = L.RNN([L.LSTMCell(3), L.GRUCell(2)])
    x = torch.zeros(2, 4, 3)
    layer(x)
    choice = layer.select_kernel(x)
    assert choice.name == "reference"
    assert "StackedRNNCells is not one of rnnkit's cells" in choice.reason


def test_forcing_a_fused_kernel_on_stacked_cells_is_refused_with_the_reason():
    layer = L.RNN([L.LSTMCell(3), L.GRUCell(2)])
    layer.rnn_kernel = "torch"
    with pytest.raises(ValueError, match="StackedRNNCells is not one of rnnkit's cells"):
        layer(torch.zeros(2, 4, 3))


def test_dropout_of_the_cells_applies_in_training_only():
    torch.manual_seed(0)
    layer = L.RNN([L.LSTMCell(3, dropout=0.5, recurrent_dropout=0.5), L.GRUCell(2)],
                  return_sequences=True)
    x = torch.randn(4, 6, 3)
    inference = layer(x, training=False)
    torch.testing.assert_close(layer(x), inference)
    assert not torch.allclose(layer(x, training=True), inference)


def test_stateful_stacked_cells_carry_every_cells_states():
    layer = L.RNN([L.SimpleRNNCell(3), L.LSTMCell(2)], stateful=True,
                  batch_input_shape=(4, 6, 3))
    x = torch.randn(4, 6, 3)
    first = layer(x)
    assert [tuple(s.shape) for s in layer.states] == [(4, 3), (4, 2), (4, 2)]
    assert not torch.allclose(layer(x), first)
    layer.reset_states()
    torch.testing.assert_close(layer(x), first)


def test_stacked_cells_step_and_initial_state():
    cells = L.StackedRNNCells([L.LSTMCell(3), L.SimpleRNNCell(2)])
    x = torch.ones(4, 5)
    states = cells.get_initial_state(batch_size=4)
    assert [[tuple(s.shape) for s in states[0]], tuple(states[1].shape)] == [[(4, 3), (4, 3)],
                                                                             (4, 2)]
    output, new_states = cells(x, states)
    assert tuple(output.shape) == (4, 2)
    torch.testing.assert_close(output, new_states[1])  # the last cell's output is its h
    assert cells.built and len(cells.weights) == 6


def test_return_state_with_masks_and_one_state_cells_is_flat_and_symbolic():
    layer = L.RNN([L.SimpleRNNCell(3), L.GRUCell(2)], return_state=True)
    inputs = L.Input((5, 4))
    out, h1, h2 = layer(inputs)
    assert tuple(h1.shape) == (None, 3) and tuple(h2.shape) == (None, 2)
    assert layer.compute_mask(None, torch.ones(2, 5, dtype=torch.bool))[1:] == [None, None]


@pytest.mark.parametrize("cells, match", [
    ([], "argument `cell` is an empty list"),
    ([L.LSTMCell(2), "lstm"], r"argument `cell\[1\]` should have a `call` method"),
])
def test_rnn_refuses_bad_cell_lists(cells, match):
    with pytest.raises(ValueError, match=match):
        L.RNN(cells)


@pytest.mark.parametrize("cells, match", [
    ([], "argument `cells` should be a non-empty list"),
    ((L.GRUCell(2), 3), r"argument `cells\[1\]` should be an RNN cell"),
    (L.GRUCell(2), "argument `cells` should be a non-empty list"),
])
def test_stacked_cells_refuses_bad_cells(cells, match):
    with pytest.raises(ValueError, match=match):
        L.StackedRNNCells(cells)
