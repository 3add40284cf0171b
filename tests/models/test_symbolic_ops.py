"""Arithmetic and slicing on symbolic tensors: op layers as tf.keras 2.12 makes them.

References: tests/fixtures/keras2_symbolic_ops/ (tf.keras 2.12 summaries, configs,
predictions and .h5 files; a Keras 3.15.1 archive; what both predicted from rnnkit's files).
"""
import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import backend
from rnnkit.io import UnsafeConfigError
from rnnkit.layers import GRU, LSTM, Dense, Embedding, SimpleRNN, SlicingOpLambda, TFOpLambda
from rnnkit.models import Model, load_model

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_symbolic_ops"
REFS = json.loads((HERE / "models.json").read_text())
TOL = 2e-5


# The models of record.py, written the same way with rnnkit.
def ops_mixed():
    inp = rnnkit.Input((5, 3))
    seq = LSTM(4, return_sequences=True)(inp)
    last = seq[:, -1]
    a = last + 1.0
    b = 1 - a
    c = a * b
    d = c / 2
    e = -d
    f = 2.0 / (a * a + 1)
    g = seq[..., None]
    h = seq[:, 1:3, ::2]
    p = a ** 2 - b
    out = Dense(2)(e + f + p)
    return Model(inp, [out, g, h])


def ops_chain():
    inp = rnnkit.Input((6, 2))
    x = GRU(3)(inp)
    x = x * 0.5
    x = -x
    return Model(inp, Dense(1)(x))


def ops_masked():
    inp = rnnkit.Input((4,))
    e = Embedding(5, 3, mask_zero=True)(inp)
    return Model(inp, LSTM(2)(e * 2.0))


def ops_two_inputs():
    a = rnnkit.Input((3,))
    b = rnnkit.Input((3,))
    s = a - b
    t = s[:, 0:2]
    out = Dense(1)(t * 3 - 1.5)
    return Model([a, b], [out, a[:, 1], b[1:]])


BUILDERS = {f.__name__: f for f in (ops_mixed, ops_chain, ops_masked, ops_two_inputs)}


def _arrays(name):
    z = np.load(HERE / f"{name}.npz")
    xs = [z[k] for k in sorted(z) if k.startswith("x")]
    ys = [z[k] for k in sorted(z) if k.startswith("y")]
    ws = [z[k] for k in sorted(z) if k.startswith("w")]
    return (xs if len(xs) > 1 else xs[0]), ys, ws


def _predict(model, x):
    ys = model.predict(x, verbose=0)
    return ys if isinstance(ys, list) else [ys]


def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


@pytest.fixture(autouse=True)
def _fresh_names():
    backend.clear_session()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_summary_and_outputs_match_tf_keras_2(name):
    model = BUILDERS[name]()
    x, ys, ws = _arrays(name)
    model.set_weights(ws)
    assert _summary(model) == REFS[name]["summary"]
    for got, want in zip(_predict(model, x), ys, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=TOL)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_config_nodes_are_tf_keras_2s(name):
    """The op layers' entries (class, config, nodes with `_CONSTANT_VALUE`, `y`,
    `slice_spec`) are exactly what tf.keras 2.12 wrote."""
    mine = BUILDERS[name]().get_config()["layers"]
    theirs = REFS[name]["config"]["config"]["layers"]
    ops = [(m, t) for m, t in zip(mine, theirs, strict=True)
           if t["class_name"] in ("TFOpLambda", "SlicingOpLambda")]
    assert ops
    for m, t in ops:
        assert json.loads(json.dumps(m)) == t


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keras_made_h5_with_op_layers_loads(name):
    x, ys, _ = _arrays(name)
    model = load_model(HERE / f"{name}.h5")
    assert _summary(model) == REFS[name]["summary"]
    for got, want in zip(_predict(model, x), ys, strict=True):
        np.testing.assert_allclose(got, want, atol=TOL)


def test_slice_specs_are_written_as_tf_keras_2_writes_them():
    x = rnnkit.Input((4, 3))
    model = Model(x, [x[1], x[1:], x[:, None, 2]])
    nodes = [entry["inbound_nodes"] for entry in model.get_config()["layers"][1:]]
    assert json.loads(json.dumps(nodes)) == REFS["slice_specs"]


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_saved_op_model_loads_back(tmp_path, suffix):
    model = ops_mixed()
    x, ys, ws = _arrays("ops_mixed")
    model.set_weights(ws)
    model.save(tmp_path / f"m{suffix}")
    loaded = load_model(tmp_path / f"m{suffix}")
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    for got, want in zip(_predict(loaded, x), ys, strict=True):
        np.testing.assert_allclose(got, want, atol=TOL)


def test_real_keras_loads_rnnkits_files():
    """What tf.keras 2.12 (.h5) and Keras 3.15.1 (.keras) predicted from the files rnnkit
    wrote (make_rnnkit_files.py) equals tf.keras 2.12's own predictions, and rnnkit reads
    the same files back."""
    _, ys, _ = _arrays("ops_mixed")
    keras2 = np.load(HERE / "rnnkit_files_keras2.npz")
    keras3 = np.load(HERE / "rnnkit_files_keras3.npz")
    for k, want in enumerate(ys):
        np.testing.assert_allclose(keras2[f"ops_mixed_y{k}"], want, atol=TOL)
        np.testing.assert_allclose(keras3[f"ops_mixed_y{k}"], want, atol=TOL)
    assert json.loads((HERE / "rnnkit_files_keras2.json").read_text())["ops_mixed"] == \
        REFS["ops_mixed"]["summary"]
    x = _arrays("ops_mixed")[0]
    for suffix in (".h5", ".keras"):
        for got, want in zip(_predict(load_model(HERE / f"rnnkit_ops_mixed{suffix}"), x), ys):
            np.testing.assert_allclose(got, want, atol=TOL)


def test_keras3_archive_with_operations_loads():
    model = load_model(HERE / "keras3_ops_mixed.keras")
    z = np.load(HERE / "keras3_ops_mixed.npz")
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"TFOpLambda", "SlicingOpLambda"} <= kinds
    assert model.get_layer("get_item").function == "__operators__.getitem"
    for k, got in enumerate(_predict(model, z["x0"])):
        np.testing.assert_allclose(got, z[f"y{k}"], atol=TOL)


def test_keras3_array_constants_both_ways(tmp_path):
    """Keras 3 writes array constants as `__numpy__` objects (keras3_constants.keras);
    rnnkit reads them and writes its own constants that way."""
    model = load_model(HERE / "keras3_constants.keras")
    z = np.load(HERE / "keras3_constants.npz")
    for k, got in enumerate(_predict(model, z["x0"])):
        np.testing.assert_allclose(got, z[f"y{k}"], atol=TOL)
    from rnnkit.io.configs import keras3_model_config
    layers = keras3_model_config(model)["config"]["layers"]
    assert layers[1]["inbound_nodes"][0]["args"][1] == {
        "class_name": "__numpy__", "config": {"value": [1.0, 2.0, 3.0], "dtype": "float32"}}
    assert layers[2]["inbound_nodes"][0]["args"][0]["class_name"] == "__numpy__"
    model.save(tmp_path / "again.keras")
    for k, got in enumerate(_predict(load_model(tmp_path / "again.keras"), z["x0"])):
        np.testing.assert_allclose(got, z[f"y{k}"], atol=TOL)


def test_keras3_config_uses_keras3_operations():
    from rnnkit.io.configs import keras3_model_config
    layers = keras3_model_config(ops_mixed())["config"]["layers"]
    by_name = {entry["name"]: entry for entry in layers}
    sub = by_name["tf.math.subtract"]
    assert (sub["module"], sub["class_name"]) == ("keras.src.ops.numpy", "Subtract")
    assert sub["inbound_nodes"][0]["args"][0] == 1.0  # `1 - a`: the constant comes first
    assert sub["inbound_nodes"][0]["args"][1]["config"]["keras_history"] == \
        ["tf.__operators__.add", 0, 0]
    item = by_name["tf.__operators__.getitem"]["inbound_nodes"][0]["args"][1]
    assert item == [{"class_name": "__slice__",
                     "config": {"start": None, "stop": None, "step": None}}, -1]
    assert by_name["tf.math.negative"]["inbound_nodes"][0]["args"][1:] == []


# ---------------------------------------------------------------------- behaviour
def test_op_layers_drop_masks_as_tf_keras_2():
    inp = rnnkit.Input((4,))
    e = Embedding(5, 3, mask_zero=True)(inp)
    doubled = e * 2.0
    assert e._has_mask and not doubled._has_mask
    x = torch.tensor([[1, 2, 0, 0]])
    out = Model(inp, doubled)(x)
    assert getattr(out, "_keras_mask", None) is None


def test_gradients_flow_through_op_layers():
    torch.manual_seed(0)
    inp = rnnkit.Input((3, 2))
    seq = SimpleRNN(2, return_sequences=True)(inp)
    out = (seq[:, -1] * seq[:, 0] - 1.0) / (seq[:, 1] ** 2 + 2.0) + (-seq[..., 0:1])[:, 0]
    model = Model(inp, out).double()
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: model(t), (x,))
    model(x).sum().backward()
    grads = [p.grad for p in model.weights]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)


def test_fit_trains_through_op_layers():
    torch.manual_seed(1)
    inp = rnnkit.Input((4, 2))
    h = GRU(4)(inp)
    model = Model(inp, Dense(1)(1 - h * 0.5))
    model.compile("adam", "mse")
    x = np.random.default_rng(0).normal(size=(32, 4, 2)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None]
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_shapes_dtypes_and_names():
    x = rnnkit.Input((None, 3), dtype="int32")
    y = x + 1
    assert y.shape == (None, None, 3) and y.dtype == "int32"
    assert (x[:, 2:, None]).shape == (None, None, 1, 3)
    assert (x[0]).shape == (None, 3)
    assert (x[..., -1]).shape == (None, None)
    assert y._keras_history.layer.name == "tf.__operators__.add"
    assert (x + x)._keras_history.layer.name == "tf.__operators__.add_1"
    data = np.array([[[1, 2, 3]]], dtype="int32")
    result = Model(x, 1 - y)(data)
    assert result.dtype == torch.int32 and result.tolist() == [[[-1, -2, -3]]]


def test_broadcasting_shapes():
    a = rnnkit.Input((5, 1))
    b = rnnkit.Input((1, 4))
    assert (a * b).shape == (None, 5, 4)
    assert (a[:, 0] * 2 + b[:, 0, :1]).shape == (None, 1)
    out = Model([a, b], a * b)([np.ones((2, 5, 1)), np.full((2, 1, 4), 3.0)])
    assert tuple(out.shape) == (2, 5, 4) and float(out[0, 0, 0]) == 3.0


def test_op_layer_config_round_trip():
    layer = TFOpLambda("math.subtract")
    config = layer.get_config()
    assert config == {"name": "tf.math.subtract", "trainable": True, "dtype": "float32",
                      "function": "math.subtract"}
    again = TFOpLambda.from_config(config)
    assert again.function == "math.subtract" and again.count_params() == 0
    assert SlicingOpLambda("tf.__operators__.getitem").name == "tf.__operators__.getitem"


# ---------------------------------------------------------------------- errors
def test_unsupported_operands_and_operators_are_clear():
    x = rnnkit.Input((3,))
    with pytest.raises(TypeError, match=r"Cannot combine the symbolic tensor .* with a "
                                        r"str: .* another symbolic tensor, a Python number or "
                                        r"an array of numbers"):
        x * "a"
    with pytest.raises(TypeError, match=r"with a ndarray"):
        np.array(["a", "b", "c"]) + x
    with pytest.raises(TypeError, match=r"support layer calls, \+ - \* / \*\* .* not this "
                                        r"operator"):
        x @ x


def test_array_constants_are_recorded_as_tf_keras_2_records_them():
    x = rnnkit.Input((3,))
    scaled = x * np.array([1.0, 2.0, 3.0], dtype="float32")
    shifted = np.array([[1, 2, 3]]) - scaled
    out = torch.ones(3) + shifted
    model = Model(x, out)
    nodes = [entry["inbound_nodes"][0] for entry in model.get_config()["layers"][1:]]
    # tf.keras 2.12 writes `x * np.array(...)` as {"y": [1.0, 2.0, 3.0]} and a constant
    # first argument as ["_CONSTANT_VALUE", -1, [[1.0, 2.0, 3.0]], {...}] (checked by hand).
    assert nodes[0] == ["input_1", 0, 0, {"y": [1.0, 2.0, 3.0], "name": None}]
    assert nodes[1][:3] == ["_CONSTANT_VALUE", -1, [[1.0, 2.0, 3.0]]]
    assert nodes[2][:3] == ["_CONSTANT_VALUE", -1, [1.0, 1.0, 1.0]]
    assert out.shape == (None, 3)
    data = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]], dtype="float32")
    want = 1 + (np.array([[1, 2, 3]]) - data * np.array([1, 2, 3]))
    np.testing.assert_allclose(model.predict(data, verbose=0), want)
    again = Model.from_config(model.get_config())
    np.testing.assert_allclose(again.predict(data, verbose=0), want)


def test_bad_indices_are_clear():
    x = rnnkit.Input((5, 3))
    with pytest.raises(TypeError, match=r"Unsupported index 'a' \(str\) on a symbolic tensor"):
        x["a"]
    with pytest.raises(TypeError, match=r"Unsupported index 1.5 \(float\)"):
        x[:, 1.5]
    with pytest.raises(IndexError, match=r'Layer "tf.__operators__.getitem_\d+": index 7 is '
                                         r"out of bounds for axis 1 with size 5"):
        x[:, 7]
    with pytest.raises(IndexError, match=r"too many indices for a tensor of shape "
                                         r"\(None, 5, 3\) \(4 indexed dimensions"):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError, match=r"a single ellipsis"):
        x[..., 0, ...]
    with pytest.raises(TypeError, match=r"cannot be iterated over"):
        first, second = x  # would otherwise call x[0], x[1], ... for ever


def test_incompatible_shapes_are_clear():
    a, b = rnnkit.Input((3,)), rnnkit.Input((4,))
    with pytest.raises(ValueError, match=r'Layer "tf.__operators__.add": the operands have '
                                         r"incompatible shapes \[\(None, 3\), \(None, 4\)\]"):
        a + b


def test_unknown_operation_is_refused():
    with pytest.raises(ValueError, match=r"rnnkit does not know the TensorFlow operation "
                                         r"'tf.nn.relu'; it supports"):
        TFOpLambda("nn.relu")
    with pytest.raises(ValueError, match=r"SlicingOpLambda: rnnkit supports only "
                                         r"'__operators__.getitem'"):
        SlicingOpLambda("math.add")
    with pytest.raises(TypeError, match=r"TFOpLambda: `function` must be the name"):
        TFOpLambda(torch.add)


def test_file_naming_an_operation_outside_the_allow_list_is_refused(tmp_path):
    path = tmp_path / "m.h5"
    shutil.copy(HERE / "ops_chain.h5", path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        for entry in config["config"]["layers"]:
            if entry["class_name"] == "TFOpLambda":
                entry["config"]["function"] = "io.write_file"
        f.attrs["model_config"] = json.dumps(config).encode()
    with pytest.raises(UnsafeConfigError, match=r"layer 'tf.math.multiply' is a TFOpLambda "
                                                r"calling the TensorFlow operation "
                                                r"'io.write_file', which rnnkit does not "
                                                r"support"):
        load_model(path)
