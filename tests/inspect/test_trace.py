"""``trace()``: each layer's shapes for a concrete input, axes named, states and notes."""
import numpy as np
import pytest
import torch

from rnnkit.inspect import trace
from rnnkit.inspect.trace import named_shape
from rnnkit.layers import (GRU, LSTM, Bidirectional, Dense, Embedding, Masking, SimpleRNN,
                           TimeDistributed)
from rnnkit.models import Sequential

TRAIN_X = np.array([[[0.1, 4.2, 1.5, 1.1, 2.8], [1.0, 3.1, 2.5, 0.7, 1.1],
                     [0.3, 2.1, 1.5, 2.1, 0.1], [2.2, 1.4, 0.5, 0.9, 1.1]]], dtype=np.float32)


def test_seed_example_single_layer_with_states():
    layer = LSTM(3, return_sequences=True, return_state=True)
    t = trace(layer, TRAIN_X)
    row, = t.rows
    assert row.input_shape == (1, 4, 5)
    assert row.output_shape == [(1, 4, 3), (1, 3), (1, 3)]
    assert row.states == [("h", (1, 3)), ("c", (1, 3))]
    text = str(t)
    assert "in:  (batch=1, time=4, features=5)" in text
    assert "out: (batch=1, time=4, units=3), (batch=1, units=3), (batch=1, units=3)" in text
    assert "states: h (batch=1, units=3), c (batch=1, units=3)" in text
    assert "return_sequences=True: the hidden state h at each of the 4 steps" in text
    # The recorded output is the layer's own.
    torch.testing.assert_close(row.output[1], layer(TRAIN_X)[1])


def test_return_sequences_false_note_says_the_time_axis_is_gone():
    t = trace(SimpleRNN(3, return_state=True), TRAIN_X)
    assert t.rows[0].output_axes == [("batch", "units"), ("batch", "units")]
    assert "only the last step's h comes out (the time axis of 4 steps is gone)" in str(t)
    assert "(h equals the output)" in str(t)
    assert torch.equal(t.rows[0].output[0], t.rows[0].output[1])


def test_model_rows_follow_the_layers():
    model = Sequential([Embedding(20, 6, input_length=4, mask_zero=True),
                        Bidirectional(GRU(3, return_sequences=True)),
                        TimeDistributed(Dense(2)), LSTM(5), Dense(1)])
    ids = np.array([[3, 5, 0, 0], [1, 2, 3, 4]])
    t = trace(model, ids)
    assert [r.name for r in t.rows] == [layer.name for layer in model.layers]
    shapes = [(r.input_shape, r.output_shape) for r in t.rows]
    assert shapes == [((2, 4), (2, 4, 6)), ((2, 4, 6), (2, 4, 6)), ((2, 4, 6), (2, 4, 2)),
                      ((2, 4, 2), (2, 5)), ((2, 5), (2, 1))]
    assert t.rows[0].input_axes == ("batch", "time")
    assert t.rows[0].output_axes == [("batch", "time", "embedding")]
    assert [n for n, _ in t.rows[1].states] == ["forward h", "backward h"]
    assert "merge_mode='concat'" in t.rows[1].note
    # The mask from the Embedding travels with the rows' inputs, as in the model.
    assert torch.equal(t.rows[1].input._keras_mask, torch.tensor(ids) != 0)
    torch.testing.assert_close(t.output, model(ids))
    assert str(t).startswith(f'Trace of "{model.name}" on an input of shape (batch=2, time=4)')


def test_masking_time_major_and_named_shape():
    model = Sequential([Masking(input_shape=(4, 5)), SimpleRNN(2, return_sequences=True)])
    t = trace(model, TRAIN_X)
    assert t.rows[1].output_axes == [("batch", "time", "units")]
    tm = trace(SimpleRNN(2, time_major=True, return_sequences=True), TRAIN_X.transpose(1, 0, 2))
    assert tm.rows[0].input_axes == ("time", "batch", "features")
    assert tm.rows[0].output_axes == [("time", "batch", "units")]
    assert named_shape((1, 2), ("batch", "units")) == "(batch=1, units=2)"


def test_stateful_states_are_put_back():
    layer = LSTM(2, stateful=True, batch_input_shape=(1, 4, 5))
    layer(TRAIN_X)
    before = [s.clone() for s in layer.states]
    trace(layer, TRAIN_X)
    assert all(torch.equal(a, b) for a, b in zip(layer.states, before))


def test_trace_errors():
    with pytest.raises(TypeError, match=r"trace\(\) takes an rnnkit model or layer, got dict"):
        trace({}, TRAIN_X)
    with pytest.raises(ValueError, match=r"trace\(\): model 'sequential.*' has no layers"):
        trace(Sequential(), TRAIN_X)


def test_functional_models_chain_or_clear_error():
    from rnnkit.layers import Concatenate, Input
    from rnnkit.models import Model
    inputs = Input((4, 5))
    chain = Model(inputs, Dense(1)(LSTM(3)(inputs)))
    t = trace(chain, TRAIN_X)
    assert [r.class_name for r in t.rows] == ["LSTM", "Dense"]
    torch.testing.assert_close(t.output, chain(TRAIN_X))
    branches = Model(inputs, Concatenate()([LSTM(2)(inputs), GRU(2)(inputs)]))
    with pytest.raises(ValueError, match=r"trace\(\) follows a model's layers one after "
                                         r"another; model '.*' is not such a chain"):
        trace(branches, TRAIN_X)
