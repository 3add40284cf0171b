"""Sequential beyond the recorded models: building, the stack, predict, configs, errors."""
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.layers import GRU, LSTM, Dense, Embedding, Input, SimpleRNN
from rnnkit.models import Sequential

KERAS3 = Path(__file__).resolve().parents[1] / "fixtures" / "keras3"


@pytest.fixture(autouse=True)
def fresh_names():
    rnnkit.backend.clear_session()


def summary_text(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines)


def test_auto_names_count_per_class_and_reset():
    assert [Sequential().name, Sequential().name] == ["sequential", "sequential_1"]
    assert [SimpleRNN(2).name, SimpleRNN(2).name, LSTM(2).name] == ["simple_rnn", "simple_rnn_1", "lstm"]
    rnnkit.backend.clear_session()
    assert Sequential().name == "sequential"


def test_builds_from_the_first_layer_shape_and_reports_shapes():
    model = Sequential([SimpleRNN(4, input_shape=(6, 3), return_sequences=True), LSTM(5), Dense(2)])
    assert model.built
    assert model.input_shape == (None, 6, 3)
    assert model.output_shape == (None, 2)
    assert [layer.output_shape for layer in model.layers] == [(None, 6, 4), (None, 5), (None, 2)]
    assert model.count_params() == 4 * (3 + 4 + 1) + 4 * 5 * (4 + 5 + 1) + 2 * (5 + 1)


def test_input_layer_first_works_like_input_shape():
    a = Sequential([Input((6, 3)), LSTM(8)])
    b = Sequential([LSTM(8, input_shape=(6, 3))])
    assert len(a.layers) == 1 and a.output_shape == b.output_shape == (None, 8)
    assert "lstm_1 (LSTM)" in summary_text(b) and "(None, 8)" in summary_text(a)


def test_built_on_first_call_with_its_batch_size_as_tf_keras_2_12():
    # model(x) on two samples: tf.keras 2.12 infers the input shape (2, 5, 4), batch size
    # included (tests/fixtures/keras2_summaries_nested/ has the recorded summaries); fit,
    # evaluate and predict leave it open
    model = Sequential([GRU(3), Dense(1)])
    assert not model.built
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()
    out = model(np.zeros((2, 5, 4), dtype=np.float32))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 1)
    assert model.layers[0].output_shape == (2, 3)
    assert "(2, 3)" in summary_text(model)
    model.predict(np.zeros((3, 5, 4), dtype=np.float32), verbose=0)
    assert model.layers[0].output_shape == (None, 3)


def test_pop_and_add_rebuild_the_stack():
    model = Sequential([SimpleRNN(3, input_shape=(4, 2)), Dense(5)])
    popped = model.pop()
    assert isinstance(popped, Dense) and len(model.layers) == 1
    model.add(Dense(7))
    assert model.output_shape == (None, 7)
    with pytest.raises(TypeError, match="no layers"):
        Sequential().pop()


def test_duplicate_names_and_multi_output_layers_are_refused():
    model = Sequential([Dense(2, input_shape=(3,), name="d")])
    with pytest.raises(ValueError, match="unique names"):
        model.add(Dense(2, name="d"))
    with pytest.raises(ValueError, match="single output tensor"):
        Sequential([LSTM(4, return_state=True, input_shape=(5, 2))])
    with pytest.raises(TypeError, match="instance of class Layer"):
        Sequential().add("dense")


def test_predict_batches_and_returns_numpy():
    model = Sequential([LSTM(4, input_shape=(5, 3)), Dense(2)])
    x = np.random.default_rng(0).normal(size=(70, 5, 3)).astype(np.float32)
    full = model(x).detach().numpy()
    predicted = model.predict(x, batch_size=16)
    assert isinstance(predicted, np.ndarray) and predicted.shape == (70, 2)
    np.testing.assert_allclose(predicted, full, atol=1e-6)
    assert model.predict(x[:0]).shape == (0, 2)


def test_summary_line_length_positions_and_thousands():
    model = Sequential([Embedding(5000, 64, input_length=20), LSTM(128), Dense(1)])
    text = summary_text(model)
    assert "Total params: 418,945" in text
    wide = summary_text(model, line_length=80, positions=[0.5, 0.8, 1.0])
    assert all(len(line) == 80 for line in wide.splitlines()[1:4])


def test_weights_round_trip_and_nn_module_interop():
    model = Sequential([GRU(3, input_shape=(4, 2), return_sequences=True), SimpleRNN(2)])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(2, 9), (3, 9), (2, 9), (3, 2), (2, 2), (2,)]
    assert list(model.parameters()) == model.weights
    clone = Sequential.from_config(model.get_config())
    clone.set_weights(weights)
    x = np.ones((1, 4, 2), dtype=np.float32)
    np.testing.assert_allclose(clone.predict(x), model.predict(x))
    state = model.state_dict()
    assert any(key.endswith("cell.kernel") for key in state)


def test_float64_model_end_to_end():
    model = Sequential([LSTM(3, input_shape=(4, 2), dtype="float64"), Dense(1, dtype="float64")])
    out = model(np.ones((2, 4, 2)))
    assert out.dtype == torch.float64
    assert all(w.dtype == np.float64 for w in model.get_weights())


def test_set_random_seed_makes_weights_reproducible():
    rnnkit.utils.set_random_seed(7)
    first = LSTM(3)
    first.build((None, 2, 4))
    rnnkit.utils.set_random_seed(7)
    second = LSTM(3)
    second.build((None, 2, 4))
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("archive", sorted(KERAS3.glob("*.keras")), ids=lambda p: p.stem)
def test_keras3_sequential_configs_deserialize(archive):
    with zipfile.ZipFile(archive) as zf:
        config = json.loads(zf.read("config.json"))
    model = Sequential.from_config(config["config"])
    assert model.built
    recorded = np.load(archive.with_suffix(".npz"))
    assert model.predict(recorded["x"]).shape == recorded["y"].shape


def test_get_layer_by_name_and_index_with_keras_messages():
    model = Sequential([LSTM(4, input_shape=(5, 3), name="enc"), Dense(2)])
    assert model.get_layer("enc") is model.layers[0]
    assert model.get_layer(index=1) is model.layers[1]
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="at index 5 but model only has 2 layers"):
        model.get_layer(index=5)
