"""Bidirectional and TimeDistributed against tf.keras 2.12 (and Keras 3 files)."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from rnnkit import backend
from rnnkit.layers import (GRU, LSTM, Bidirectional, Dense, Embedding, Masking, SimpleRNN,
                           TimeDistributed, deserialize)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def fresh_names():
    """Automatic names start again (``clear_session`` runs ``gc.collect``: used sparingly)."""
    backend.clear_session()


def _json(config: dict) -> str:
    return json.dumps(config)


def _set_all(layers, weights):
    start = 0
    for layer in layers:
        count = len(layer.weights)
        layer.set_weights(weights[start:start + count])
        start += count
    assert start == len(weights)


def _run(layers, x):
    for layer in layers:
        x = layer(x)
    return x


def _keras2_model(name: str):
    """A recorded tf.keras 2 model rebuilt layer by layer (no Sequential) with its weights."""
    backend.clear_session()  # the recorded weight names start from fresh counters
    models = json.loads((FIXTURES / "keras2" / "models.json").read_text())["models"]
    entry = next(m for m in models if m["name"] == name)
    arrays = np.load(FIXTURES / "keras2" / "models" / f"{name}.npz")
    layers = [deserialize({"class_name": c["class"], "config": c["config"]})
              for c in entry["layers"]]
    _run(layers, arrays["x"])  # build
    _set_all(layers, [arrays[k] for k in sorted(k for k in arrays.files if k.startswith("w"))])
    return layers, entry, arrays


def _sequence(shape=(3, 6, 4), seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


# ------------------------------------------------------------------------- recorded models
@pytest.mark.parametrize("name", ["bidir", "timedist"])
def test_recorded_keras2_models(name):
    layers, entry, arrays = _keras2_model(name)
    output = _run(layers, arrays["x"])
    np.testing.assert_allclose(output.detach().numpy(), arrays["y"], atol=2e-5, rtol=0)
    # Weight order and names as tf.keras 2 (what .h5 files are keyed by).
    assert [n for layer in layers for n in layer.weight_names()] == entry["weight_names"]
    assert [list(w.shape) for layer in layers for w in layer.weights] == entry["weight_shapes"]
    for layer, recorded in zip(layers, entry["layers"]):
        if recorded["class"] in ("Bidirectional", "TimeDistributed"):
            config = layer.get_config()
            assert list(config) == list(recorded["config"])
            assert json.loads(_json(config)) == recorded["config"]
            clone = deserialize({"class_name": recorded["class"], "config": config})
            assert json.loads(_json(clone.get_config())) == recorded["config"]


def test_recorded_shapes_and_param_counts():
    layers, _, _ = _keras2_model("bidir")
    assert layers[0].compute_output_shape((None, 9, 5)) == (None, 9, 12)
    assert layers[1].compute_output_shape((None, 9, 12)) == (None, 8)
    assert [layer.count_params() for layer in layers] == [576, 432, 27]
    layers, _, _ = _keras2_model("timedist")
    assert layers[1].compute_output_shape((None, 6, 7)) == (None, 6, 2)
    assert layers[1].count_params() == 16


def _keras3_model(name: str, weight_groups: list[str]):
    archive = zipfile.ZipFile(FIXTURES / "keras3" / f"{name}.keras")
    config = json.loads(archive.read("config.json"))
    layers = [deserialize(layer) for layer in config["config"]["layers"]]
    arrays = np.load(FIXTURES / "keras3" / f"{name}.npz")
    _run(layers, arrays["x"])
    with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as h5:
        weights = [h5[g][str(i)][()] for g in weight_groups for i in range(len(h5[g]))]
    _set_all(layers, weights)
    return layers, arrays


def test_keras3_embedding_bidirectional_gru():
    layers, arrays = _keras3_model("k3_embed_bigru", [
        "layers/embedding/vars", "layers/bidirectional/forward_layer/cell/vars",
        "layers/bidirectional/backward_layer/cell/vars", "layers/dense/vars"])
    bidir = layers[2]
    # Keras 3 names the copies forward_gru / backward_gru in the file; no double prefix.
    assert (bidir.forward_layer.name, bidir.backward_layer.name) == ("forward_gru", "backward_gru")
    assert bidir.get_config()["layer"]["config"]["name"] == "gru"
    output = _run(layers, arrays["x"])
    np.testing.assert_allclose(output.detach().numpy(), arrays["y"], atol=2e-5, rtol=0)


def test_keras3_time_distributed():
    layers, arrays = _keras3_model("k3_stacked_simplernn", [
        "layers/simple_rnn/cell/vars", "layers/simple_rnn_1/cell/vars",
        "layers/time_distributed/layer/vars"])
    output = _run(layers, arrays["x"])
    np.testing.assert_allclose(output.detach().numpy(), arrays["y"], atol=2e-5, rtol=0)


# -------------------------------------------------------------------------- Bidirectional
def test_bidirectional_is_forward_plus_reversed_backward(fresh_names):
    torch.manual_seed(0)
    x = _sequence()
    bidir = Bidirectional(GRU(5, return_sequences=True))
    out = bidir(x)
    assert tuple(out.shape) == (3, 6, 10)
    forward, backward = bidir.forward_layer, bidir.backward_layer
    assert (forward.name, backward.name) == ("forward_gru", "backward_gru")
    assert forward.go_backwards is False and backward.go_backwards is True
    # Each copy has its own weights; the wrapper's are forward's then backward's.
    assert bidir.weights == forward.weights + backward.weights
    assert not torch.equal(forward.weights[0], backward.weights[0])
    np.testing.assert_allclose(out[..., :5].detach().numpy(), forward(x).detach().numpy(),
                               atol=1e-6)
    # The backward half is x read from the end, re-aligned to input time.
    reversed_run = backward(x).flip(1)
    np.testing.assert_allclose(out[..., 5:].detach().numpy(), reversed_run.detach().numpy(),
                               atol=1e-6)
    # So time step 0 of the backward half is the backward layer's last output.
    np.testing.assert_allclose(out[:, 0, 5:].detach().numpy(),
                               backward(x)[:, -1].detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_merge_modes(merge_mode, return_sequences):
    torch.manual_seed(1)
    x = _sequence()
    bidir = Bidirectional(LSTM(3, return_sequences=return_sequences), merge_mode=merge_mode)
    out = bidir(x)
    y = bidir.forward_layer(x)
    y_rev = bidir.backward_layer(x)
    if return_sequences:
        y_rev = y_rev.flip(1)
    expected = {"concat": lambda: torch.cat([y, y_rev], -1), "sum": lambda: y + y_rev,
                "mul": lambda: y * y_rev, "ave": lambda: (y + y_rev) / 2,
                None: lambda: [y, y_rev]}[merge_mode]()
    shape = bidir.compute_output_shape((None, 6, 4))
    if merge_mode is None:
        assert isinstance(out, list) and len(out) == 2
        for got, want in zip(out, expected):
            torch.testing.assert_close(got, want)
        single = (None, 6, 3) if return_sequences else (None, 3)
        assert shape == [single, single]
    else:
        torch.testing.assert_close(out, expected)
        units = 6 if merge_mode == "concat" else 3
        assert shape == ((None, 6, units) if return_sequences else (None, units))
        assert tuple(out.shape) == tuple(3 if d is None else d for d in shape)


def test_bidirectional_return_state_and_initial_state():
    torch.manual_seed(2)
    x = _sequence()
    bidir = Bidirectional(LSTM(3, return_state=True))
    result = bidir(x)
    assert isinstance(result, list) and len(result) == 5
    out, h_f, c_f, h_b, c_b = result
    fwd = bidir.forward_layer(x)
    bwd = bidir.backward_layer(x)
    torch.testing.assert_close(out, torch.cat([fwd[0], bwd[0]], -1))
    for got, want in zip([h_f, c_f, h_b, c_b], fwd[1:] + bwd[1:]):
        torch.testing.assert_close(got, want)
    assert bidir.compute_output_shape((None, 6, 4)) == [(None, 6), (None, 3), (None, 3),
                                                        (None, 3), (None, 3)]
    assert all(getattr(t, "_keras_mask", None) is None for t in result)
    # initial_state: the first half goes forward, the second half backward.
    states = [torch.randn(3, 3) for _ in range(4)]
    with_states = bidir(x, initial_state=states)
    torch.testing.assert_close(with_states[0][:, :3],
                               bidir.forward_layer(x, initial_state=states[:2])[0])
    torch.testing.assert_close(with_states[0][:, 3:],
                               bidir.backward_layer(x, initial_state=states[2:])[0])
    with pytest.raises(ValueError, match=r"initial_state.*forward ones, then backward ones"):
        bidir(x, initial_state=states[:3])


def test_bidirectional_return_state_merge_none():
    bidir = Bidirectional(GRU(2, return_state=True, return_sequences=True), merge_mode=None)
    result = bidir(_sequence())
    assert len(result) == 4  # [forward, backward, h_forward, h_backward]
    assert bidir.compute_output_shape((None, 6, 4)) == [(None, 6, 2), (None, 6, 2), (None, 2),
                                                        (None, 2)]


def test_bidirectional_masks():
    torch.manual_seed(3)
    x = _sequence()
    x[0, 4:] = 0.0
    x[1, :2] = 0.0
    masked = Masking()(x)
    bidir = Bidirectional(SimpleRNN(3, return_sequences=True))
    assert bidir.forward_layer.zero_output_for_mask and bidir.backward_layer.zero_output_for_mask
    out = bidir(masked)
    mask = masked._keras_mask
    assert torch.equal(out._keras_mask, mask)
    # Keras forces zero_output_for_mask when returning sequences: masked steps give zeros.
    assert torch.equal(out[~mask], torch.zeros(int((~mask).sum()), 6))
    # Sample 0 equals a run on its 4 valid steps only.
    short = bidir(x[:1, :4])
    torch.testing.assert_close(out[:1, :4], short)
    # Without return_sequences the output mask is gone.
    last = Bidirectional(SimpleRNN(3))(masked)
    assert getattr(last, "_keras_mask", "missing") is None


def test_bidirectional_custom_backward_layer_and_config(fresh_names):
    forward = LSTM(4, return_sequences=True)
    backward = LSTM(4, activation="relu", return_sequences=True, go_backwards=True)
    bidir = Bidirectional(forward, backward_layer=backward, input_shape=(5, 3))
    assert bidir.backward_layer is backward and backward.name == "backward_lstm_1"
    out = bidir(_sequence((2, 5, 3)))
    assert tuple(out.shape) == (2, 5, 8)
    config = bidir.get_config()
    assert list(config) == ["name", "trainable", "dtype", "batch_input_shape", "layer",
                            "merge_mode", "backward_layer"]
    assert config["backward_layer"]["config"]["name"] == "lstm_1"
    assert config["backward_layer"]["config"]["activation"] == "relu"
    clone = Bidirectional.from_config(json.loads(_json(config)))
    assert json.loads(_json(clone.get_config())) == json.loads(_json(config))
    clone(_sequence((2, 5, 3)))  # build
    clone.set_weights(bidir.get_weights())
    torch.testing.assert_close(clone(_sequence((2, 5, 3))), bidir(_sequence((2, 5, 3))))


def test_bidirectional_weights_argument_and_trainable():
    source = Bidirectional(GRU(2))
    source(_sequence())
    copy = Bidirectional(GRU(2), weights=source.get_weights())
    torch.testing.assert_close(copy(_sequence()), source(_sequence()))
    frozen = Bidirectional(GRU(2), trainable=False)
    frozen(_sequence())
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 6
    assert not any(p.requires_grad for p in frozen.parameters())


def test_bidirectional_stateful_reset():
    bidir = Bidirectional(GRU(2, stateful=True), batch_input_shape=(3, 6, 4))
    x = _sequence()
    first = bidir(x)
    assert not torch.allclose(bidir(x), first)  # the states carried over
    bidir.reset_states()
    torch.testing.assert_close(bidir(x), first)
    with pytest.raises(AttributeError, match=r"must be stateful"):
        Bidirectional(GRU(2)).reset_states()


def test_bidirectional_errors():
    with pytest.raises(ValueError, match=r"Invalid merge mode.*'sum', 'mul', 'ave', 'concat'"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match=r"Please initialize `Bidirectional`"):
        Bidirectional("lstm")
    with pytest.raises(ValueError, match=r"needs a recurrent layer"):
        Bidirectional(Dense(2))
    with pytest.raises(ValueError, match=r"different `go_backwards`"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match=r'same value for attribute "return_sequences"'):
        Bidirectional(LSTM(2, return_sequences=True),
                      backward_layer=LSTM(2, go_backwards=True))
    with pytest.raises(ValueError, match=r"`backward_layer` needs to be"):
        Bidirectional(LSTM(2), backward_layer=3)
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=2"):
        Bidirectional(LSTM(2))(np.ones((2, 3), dtype="float32"))


# ------------------------------------------------------------------------ TimeDistributed
def test_time_distributed_dense(fresh_names):
    torch.manual_seed(4)
    x = _sequence((2, 5, 4))
    td = TimeDistributed(Dense(3, activation="tanh"))
    out = td(x)
    assert tuple(out.shape) == (2, 5, 3)
    kernel, bias = td.get_weights()
    assert kernel.shape == (4, 3) and bias.shape == (3,)
    np.testing.assert_allclose(out.detach().numpy(), np.tanh(x @ kernel + bias), atol=1e-6)
    per_step = torch.stack([td.layer(x[:, t]) for t in range(5)], dim=1)
    torch.testing.assert_close(out, per_step)
    assert td.weights == td.layer.weights
    assert td.weight_names() == ["time_distributed/kernel:0", "time_distributed/bias:0"]
    assert td.compute_output_shape((None, 5, 4)) == (None, 5, 3)
    assert td.compute_output_shape((None, None, 2, 4)) == (None, None, 2, 3)
    assert tuple(td(np.ones((2, 5, 7, 4), dtype="float32")).shape) == (2, 5, 7, 3)


def test_time_distributed_mask_and_config():
    x = torch.ones(2, 4, 3)
    x._keras_mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    td = TimeDistributed(Dense(2), input_shape=(4, 3))
    out = td(x)
    assert torch.equal(out._keras_mask, x._keras_mask)
    config = td.get_config()
    assert list(config) == ["name", "trainable", "dtype", "batch_input_shape", "layer"]
    assert config["layer"]["class_name"] == "Dense"
    clone = deserialize({"class_name": "TimeDistributed", "config": json.loads(_json(config))})
    assert json.loads(_json(clone.get_config())) == json.loads(_json(config))
    # An inner Embedding keeps integer ids and gives its mask per step.
    emb = TimeDistributed(Embedding(10, 2, mask_zero=True))
    ids = np.array([[[1, 0], [0, 0]]])
    embedded = emb(ids)
    assert tuple(embedded.shape) == (1, 2, 2, 2)
    assert torch.equal(embedded._keras_mask, torch.tensor([[[True, False], [False, False]]]))


def test_time_distributed_errors():
    with pytest.raises(ValueError, match=r"Please initialize `TimeDistributed`"):
        TimeDistributed(Dense)
    with pytest.raises(ValueError, match=r"at least 3 dimensions"):
        TimeDistributed(Dense(2))(np.ones((2, 3), dtype="float32"))
    with pytest.raises(ValueError, match=r"at least 3 dimensions"):
        TimeDistributed(Dense(2)).build((None, 3))


def test_wrappers_compute_in_the_wrapped_layers_dtype():
    from rnnkit.layers import LSTM, Bidirectional, Dense, TimeDistributed
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    out = Bidirectional(LSTM(4, dtype="float64"))(x)
    assert out.dtype == torch.float64
    out = TimeDistributed(Dense(2, dtype="float64"))(x)
    assert out.dtype == torch.float64
