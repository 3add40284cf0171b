"""Weights as Keras variables (rnnkit/keras_weight.py): tf.keras 2.12's names
(program_api.json), numpy() and assign(); and still a plain parameter to torch: optimisers,
state_dict, deepcopy, pickling, torch.compile."""
import copy
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit as keras
from rnnkit import layers
from rnnkit.keras_weight import KerasWeight

RECORD = json.loads((Path(__file__).resolve().parent / "fixtures" / "keras2_program_api"
                     / "program_api.json").read_text())


def models_in_recorded_order():
    keras.backend.clear_session()
    return {
        "lstm_dense": [layers.LSTM(4, input_shape=(5, 3)), layers.Dense(2)],
        "embedding_gru": [layers.Embedding(10, 4, input_length=5),
                          layers.GRU(3, reset_after=False)],
        "bidirectional": [layers.Bidirectional(layers.LSTM(3), input_shape=(5, 2))],
        "simple_rnn_time_distributed": [
            layers.SimpleRNN(3, return_sequences=True, input_shape=(5, 2)),
            layers.TimeDistributed(layers.Dense(2))]}


def test_weight_names_match_tf_keras():
    for label, stack in models_in_recorded_order().items():
        model = keras.Sequential(stack)
        assert [w.name for w in model.weights] == RECORD["weight_names"][label], label
        assert [w.name for w in model.weights] == model.weight_names()  # the .h5 names


def test_numpy_and_assign():
    model = keras.Sequential([layers.LSTM(4, input_shape=(5, 3))])
    kernel = model.layers[0].weights[0]
    assert isinstance(kernel, KerasWeight) and kernel.requires_grad
    value = kernel.numpy()
    assert type(value).__name__ == RECORD["weight_numpy"]["type"] and value.shape == (3, 16)
    value[:] = 7.0  # a snapshot: writing to it leaves the weight alone
    assert not np.allclose(kernel.numpy(), 7.0)
    kernel.assign(np.ones((3, 16)))
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((3, 16)))
    kernel.assign_sub(np.ones((3, 16)))
    assert float(np.abs(kernel.numpy()).sum()) == 0.0
    with pytest.raises(ValueError, match="shape"):
        kernel.assign(np.ones((2, 2)))


def test_copies_keep_class_and_name():
    model = keras.Sequential([layers.GRU(3, input_shape=(4, 2)), layers.Dense(1)])
    names = [w.name for w in model.weights]
    clone = copy.deepcopy(model)
    assert [type(w) for w in clone.weights] == [KerasWeight] * len(names)
    assert [w.name for w in clone.weights] == names
    assert all(getattr(w, "_keras_trainable", None) is True for w in clone.weights)
    assert [w.name for w in pickle.loads(pickle.dumps(model)).weights] == names
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    assert [w.name for w in torch.load(buffer, weights_only=False).weights] == names
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)  # plain tensors: loads with weights_only
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert all(type(t) is torch.Tensor for t in state.values())
    model.load_state_dict(state)


def test_torch_optimizer_and_compile_treat_it_as_a_parameter():
    torch.manual_seed(0)
    model = keras.Sequential([layers.GRU(4, input_shape=(5, 3)), layers.Dense(2)])
    x = torch.rand(8, 5, 3)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    before = model.get_weights()
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()
    assert all(type(p) is KerasWeight for p in model.parameters())
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    out = model(x)
    assert type(out) is torch.Tensor  # operations give plain tensors
    compiled = torch.compile(model)
    torch.testing.assert_close(compiled(x), out, atol=1e-5, rtol=1e-5)
