"""Dense, Embedding, Masking, Dropout, Activation, InputLayer / Input against tf.keras 2.12."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import backend
from rnnkit.layers import (LSTM, Activation, Dense, Dropout, Embedding, Input, InputLayer,
                           Masking, deserialize)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras2"


def _model_fixture(name: str) -> tuple[dict, dict]:
    models = json.loads((FIXTURES / "models.json").read_text())["models"]
    entry = next(m for m in models if m["name"] == name)
    arrays = np.load(FIXTURES / "models" / f"{name}.npz")
    return entry, {k: arrays[k] for k in arrays.files}


def _run_fixture_model(name: str):
    """Rebuild a recorded Keras model layer by layer (no Sequential), load its weights,
    and return (layers, output, recorded prediction, entry)."""
    backend.clear_session()
    entry, arrays = _model_fixture(name)
    layers = [deserialize({"class_name": c["class"], "config": c["config"]})
              for c in entry["layers"]]
    x = arrays["x"]
    h = x
    for layer in layers:  # builds every layer
        h = layer(h)
    weights = [arrays[k] for k in sorted(k for k in arrays if k.startswith("w"))]
    start = 0
    for layer in layers:
        count = len(layer.weights)
        layer.set_weights(weights[start:start + count])
        start += count
    assert start == len(weights)
    h = x
    for layer in layers:
        h = layer(h)
    return layers, h, arrays["y"], entry


def _json(config: dict) -> str:
    """Configs compared as Keras writes them (JSON: tuples and lists alike, key order kept)."""
    return json.dumps(config)


@pytest.fixture
def fresh_names():
    """Automatic names start again (``clear_session`` runs ``gc.collect``: used sparingly)."""
    backend.clear_session()


# ------------------------------------------------------------------------- recorded models
@pytest.mark.parametrize("name", ["embed_lstm", "masking"])
def test_recorded_models_match_keras(name):
    layers, output, expected, entry = _run_fixture_model(name)
    np.testing.assert_allclose(output.detach().numpy(), expected, atol=2e-5, rtol=0)
    names = [n for layer in layers for n in layer.weight_names()]
    assert names == entry["weight_names"]
    for layer, recorded in zip(layers, entry["layers"]):
        if recorded["class"] in ("Embedding", "Masking", "Dropout", "Dense"):
            # Exactly the Keras 2 config, key order included.
            assert _json(layer.get_config()) == _json(recorded["config"])


def test_embedding_mask_reaches_the_lstm():
    """Without the mask the LSTM would read the trailing zeros and give other numbers."""
    layers, output, expected, _ = _run_fixture_model("embed_lstm")
    _, arrays = _model_fixture("embed_lstm")
    ids = arrays["x"]
    assert (ids == 0).any()
    embedded = layers[0](ids)
    assert torch.equal(embedded._keras_mask, torch.as_tensor(ids != 0))
    unmasked = embedded.detach().clone()  # a plain tensor: no mask travels with it
    lstm_out = layers[1](unmasked)
    assert not torch.allclose(layers[2](lstm_out), output, atol=1e-4)
    np.testing.assert_allclose(output.detach().numpy(), expected, atol=2e-5, rtol=0)


def test_masking_mask_equals_explicit_mask():
    layers, output, expected, _ = _run_fixture_model("masking")
    _, arrays = _model_fixture("masking")
    x = arrays["x"]
    masking, lstm = layers[0], layers[1]
    masked = masking(x)
    mask = torch.as_tensor(np.any(x != 0.0, axis=-1))
    assert torch.equal(masked._keras_mask, mask)
    explicit = lstm(torch.as_tensor(x), mask=mask)
    np.testing.assert_allclose(lstm(masked).detach().numpy(), explicit.detach().numpy(),
                               atol=1e-6)


# ------------------------------------------------------------------------------- Dense
def test_dense_2d_and_3d(fresh_names):
    torch.manual_seed(0)
    dense = Dense(4, activation="relu")
    x2 = np.random.RandomState(0).randn(5, 3).astype("float32")
    y2 = dense(x2)
    assert isinstance(y2, torch.Tensor) and tuple(y2.shape) == (5, 4)
    kernel, bias = dense.get_weights()
    assert kernel.shape == (3, 4) and bias.shape == (4,)
    np.testing.assert_allclose(y2.detach().numpy(), np.maximum(x2 @ kernel + bias, 0), atol=1e-6)
    x3 = np.random.RandomState(1).randn(2, 6, 3).astype("float32")
    y3 = dense(x3)
    assert tuple(y3.shape) == (2, 6, 4)
    np.testing.assert_allclose(y3.detach().numpy(), np.maximum(x3 @ kernel + bias, 0), atol=1e-6)
    x4 = np.ones((2, 3, 5, 3), dtype="float32")
    assert tuple(dense(x4).shape) == (2, 3, 5, 4)
    assert dense.compute_output_shape((None, 6, 3)) == (None, 6, 4)
    assert dense.compute_output_shape((None, 3)) == (None, 4)
    assert dense.weight_names() == ["dense/kernel:0", "dense/bias:0"]
    assert dense.count_params() == 16


def test_dense_without_bias_and_masks_pass_through():
    dense = Dense(2, use_bias=False, kernel_initializer="ones")
    x = torch.ones(2, 3, 4)
    x._keras_mask = torch.tensor([[True, True, False], [True, False, False]])
    y = dense(x)
    assert [w.shape for w in dense.weights] == [(4, 2)]
    assert torch.equal(y, torch.full((2, 3, 2), 4.0))
    assert torch.equal(y._keras_mask, x._keras_mask)


def test_dense_config_and_legacy_input_dim():
    dense = Dense(3, input_dim=8, kernel_regularizer="l2")
    assert dense._batch_input_shape == (None, 8)
    config = dense.get_config()
    assert list(config) == ["name", "trainable", "dtype", "batch_input_shape", "units",
                            "activation", "use_bias", "kernel_initializer", "bias_initializer",
                            "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                            "kernel_constraint", "bias_constraint"]
    assert config["activation"] == "linear"
    assert config["kernel_regularizer"]["class_name"] == "L2"
    clone = Dense.from_config(config)
    assert _json(clone.get_config()) == _json(config)
    again = deserialize({"class_name": "Dense", "config": json.loads(_json(config))})
    assert _json(again.get_config()) == _json(config)


@pytest.mark.parametrize("units", [0, -3, 2.5, "4", None])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match=r'Dense layer "dense.*`units`.*positive integer'):
        Dense(units)


def test_dense_input_errors():
    dense = Dense(2)
    with pytest.raises(ValueError, match=r"expected min_ndim=2, found ndim=1"):
        dense(np.ones(3, dtype="float32"))
    dense(np.ones((1, 3), dtype="float32"))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 3"):
        dense(np.ones((1, 4), dtype="float32"))
    with pytest.raises(ValueError, match=r"last dimension"):
        Dense(2).build((None, None))


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match=r"unit"):
        Dense(units=2, unit=3)


# ---------------------------------------------------------------------------- Embedding
def test_embedding_lookup_mask_and_shapes():
    emb = Embedding(10, 3, mask_zero=True)
    ids = [[1, 2, 0], [9, 0, 0]]
    out = emb(ids)
    table = emb.get_weights()[0]
    assert table.shape == (10, 3)
    assert np.abs(table).max() <= 0.05  # "uniform" = RandomUniform(-0.05, 0.05)
    np.testing.assert_array_equal(out.detach().numpy(), table[np.array(ids)])
    assert torch.equal(out._keras_mask, torch.tensor([[True, True, False], [True, False, False]]))
    # Float ids are cast to integers; torch int32 is accepted.
    np.testing.assert_array_equal(emb(np.array([[1.0, 2.0]])).detach().numpy(), table[[[1, 2]]])
    np.testing.assert_array_equal(emb(torch.tensor([[3]], dtype=torch.int32)).detach().numpy(),
                                  table[[[3]]])
    assert emb.compute_output_shape((None, 7)) == (None, 7, 3)
    assert Embedding(10, 3)(ids)._keras_mask is None


def test_embedding_input_shape_and_config():
    # tf.keras 2: an Embedding always has a batch input shape.
    assert Embedding(5, 2)._batch_input_shape == (None, None)
    emb = Embedding(100, 8, input_length=15, mask_zero=True)
    assert emb._batch_input_shape == (None, 15)
    assert emb.compute_output_shape((None, None)) == (None, 15, 8)
    config = emb.get_config()
    assert list(config) == ["name", "trainable", "dtype", "batch_input_shape", "input_dim",
                            "output_dim", "embeddings_initializer", "embeddings_regularizer",
                            "activity_regularizer", "embeddings_constraint", "mask_zero",
                            "input_length"]
    assert config["embeddings_initializer"] == {
        "class_name": "RandomUniform", "config": {"minval": -0.05, "maxval": 0.05, "seed": None}}
    clone = deserialize({"class_name": "Embedding", "config": json.loads(_json(config))})
    assert _json(clone.get_config()) == _json(config)
    with pytest.raises(ValueError, match=r'"input_length" is 15'):
        emb.compute_output_shape((None, 12))


def test_embedding_out_of_range_ids():
    emb = Embedding(10, 3, name="words")
    with pytest.raises(ValueError, match=r'Embedding layer "words": id 10 at index \[1, 0\].*'
                                         r"input_dim=10"):
        emb([[1, 2], [10, 3]])
    with pytest.raises(ValueError, match=r"id -1 .*\[0, 10\)"):
        emb([[-1]])


@pytest.mark.parametrize("args, argument", [((0, 4), "input_dim"), ((5, -1), "output_dim")])
def test_embedding_rejects_bad_sizes(args, argument):
    with pytest.raises(ValueError, match=rf"Embedding layer .*`{argument}`"):
        Embedding(*args)


# ------------------------------------------------------------------------------ Masking
def test_masking_zeroes_and_masks(fresh_names):
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]],
                  [[5.0, 5.0], [5.0, 5.0], [0.0, 1.0]]], dtype="float32")
    layer = Masking(mask_value=5.0)
    out = layer(x)
    expected_mask = np.array([[True, True, True], [False, False, True]])
    assert torch.equal(out._keras_mask, torch.as_tensor(expected_mask))
    np.testing.assert_array_equal(out.detach().numpy(), x * expected_mask[..., None])
    assert torch.equal(layer.compute_mask(torch.as_tensor(x)), torch.as_tensor(expected_mask))
    config = layer.get_config()
    assert config == {"name": "masking", "trainable": True, "dtype": "float32",
                      "mask_value": 5.0}
    assert Masking.from_config(config).mask_value == 5.0


def test_masking_then_lstm_skips_masked_steps():
    torch.manual_seed(0)
    x = np.random.RandomState(0).randn(2, 5, 3).astype("float32")
    x[0, 3:] = 0.0
    lstm = LSTM(4)
    full = lstm(Masking()(x))
    trimmed = lstm(x[:1, :3])
    np.testing.assert_allclose(full[0].detach().numpy(), trimmed[0].detach().numpy(), atol=1e-6)


# ------------------------------------------------------------------------------ Dropout
def test_dropout_identity_outside_training():
    layer = Dropout(0.5)
    x = torch.ones(4, 10)
    assert torch.equal(layer(x), x)
    assert torch.equal(layer(x, training=False), x)


def test_dropout_drops_about_rate_in_training():
    torch.manual_seed(0)
    layer = Dropout(0.3)
    x = torch.ones(200, 500)
    y = layer(x, training=True)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.3) < 0.01
    kept = y[y != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / 0.7))
    layer.train()  # torch's training mode turns it on as well
    assert (layer(x) == 0).any()
    layer.eval()
    assert torch.equal(layer(x), x)


def test_dropout_noise_shape_seed_and_mask():
    x = torch.ones(8, 6, 4)
    x._keras_mask = torch.ones(8, 6, dtype=torch.bool)
    layer = Dropout(0.5, noise_shape=(None, 1, 4), seed=3)
    y = layer(x, training=True)
    # One draw per (sample, feature), shared over time.
    assert torch.equal(y, y[:, :1].expand_as(y))
    assert torch.equal(y._keras_mask, x._keras_mask)
    first = Dropout(0.5, seed=7)(torch.ones(50, 50), training=True)
    second = Dropout(0.5, seed=7)(torch.ones(50, 50), training=True)
    assert torch.equal(first, second)
    assert Dropout(0.0)(x, training=True) is x
    config = layer.get_config()
    assert list(config) == ["name", "trainable", "dtype", "rate", "noise_shape", "seed"]
    assert config["noise_shape"] == [None, 1, 4]
    clone = deserialize({"class_name": "Dropout", "config": config})
    assert (clone.rate, clone.noise_shape, clone.seed) == (0.5, [None, 1, 4], 3)


@pytest.mark.parametrize("rate", [-0.1, 1.5, "0.5"])
def test_dropout_rejects_bad_rate(rate):
    with pytest.raises(ValueError, match=r'Dropout layer "dropout.*`rate`.*between 0 and 1'):
        Dropout(rate)


# --------------------------------------------------------------------------- Activation
def test_activation_layer(fresh_names):
    layer = Activation("relu")
    x = torch.tensor([[-1.0, 2.0]])
    x._keras_mask = torch.tensor([True])
    y = layer(x)
    assert torch.equal(y, torch.tensor([[0.0, 2.0]]))
    assert torch.equal(y._keras_mask, x._keras_mask)
    config = layer.get_config()
    assert config == {"name": "activation", "trainable": True, "dtype": "float32",
                      "activation": "relu"}
    clone = deserialize({"class_name": "Activation", "config": config})
    assert torch.equal(clone(x), y)
    assert torch.allclose(Activation("softmax")(x).sum(-1), torch.ones(1))
    with pytest.raises(ValueError, match=r"Unknown activation function: 'nope'"):
        Activation("nope")


# ------------------------------------------------------------------- InputLayer / Input
def test_input_layer_names_are_one_based(fresh_names):
    first, second = Input((5, 3)), InputLayer(input_shape=(2,))
    assert (first.name, second.name) == ("input_1", "input_2")
    backend.clear_session()
    assert Input(shape=(1,)).name == "input_1"


def _layer_of(tensor):
    return tensor._keras_history.layer


def test_input_layer_shapes_and_config():
    tensor = Input((7, 3), name="seq")  # tf.keras 2: a symbolic tensor made by an InputLayer
    assert tensor.shape == (None, 7, 3) and tensor.dtype == "float32"
    layer = _layer_of(tensor)
    assert isinstance(layer, InputLayer)
    assert layer._batch_input_shape == (None, 7, 3)
    assert layer.get_config() == {"batch_input_shape": (None, 7, 3), "dtype": "float32",
                                  "sparse": False, "ragged": False, "name": "seq"}
    assert Input((7, 3), batch_size=4).shape == (4, 7, 3)
    assert _layer_of(Input(batch_shape=(2, 7, 3)))._batch_input_shape == (2, 7, 3)
    assert Input(8).shape == (None, 8)
    assert InputLayer(batch_input_shape=(1, 4))._batch_input_shape == (1, 4)
    assert InputLayer(shape=(4,))._batch_input_shape == (None, 4)
    clone = InputLayer.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert layer.built and layer.count_params() == 0 and layer.weights == []
    x = torch.ones(2, 7, 3)
    assert torch.equal(layer(x), x)


def test_input_layer_from_keras3_config():
    keras3 = {"class_name": "InputLayer",
              "config": {"batch_shape": [None, 12], "dtype": "int32", "sparse": False,
                         "ragged": False, "name": "input_layer_1", "optional": False}}
    layer = deserialize(keras3)
    assert layer.name == "input_layer_1" and layer._batch_input_shape == (None, 12)
    out = layer(np.array([[1.0, 2.0]]))
    assert out.dtype == torch.int32
    assert layer.get_config()["dtype"] == "int32"


def test_input_errors():
    with pytest.raises(ValueError, match=r"Please provide to Input a `shape`"):
        Input()
    with pytest.raises(ValueError, match=r"Only provide the `shape` OR `batch_shape`"):
        Input((3,), batch_shape=(None, 3))
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to Input"):
        Input((3,), foo=1)
    with pytest.raises(ValueError, match=r"Only provide the input_shape OR batch_input_shape"):
        InputLayer(input_shape=(3,), batch_input_shape=(None, 3))
    with pytest.raises(ValueError, match=r"ragged"):
        Input((3,), ragged=True)


def test_rnnkit_input_is_the_layers_input():
    assert rnnkit.Input is Input
