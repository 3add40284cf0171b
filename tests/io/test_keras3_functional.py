"""Functional models and Keras 3 ``.keras`` archives, both ways.

Fixtures (``tests/fixtures/keras3_functional``): ``<name>.keras`` saved by real Keras 3.15.1
with its predictions (``record.py``), and ``rnnkit_<name>.keras`` saved by rnnkit, which real
Keras 3.15.1 then loaded, recording its predictions (``make_rnnkit_files.py``,
``record_rnnkit_saved.py``); CI has no Keras, so the recorded numbers stand in for it.
"""
import copy
import importlib.util
import io
import json
import os
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from rnnkit import backend
from rnnkit.io import FileFormatError, UnsafeConfigError
from rnnkit.io import keras_v3
from rnnkit.layers import GRU, LSTM, Dense, Input
from rnnkit.models import Model, Sequential, load_model

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras3_functional"
KERAS_MADE = ["stacked", "two_in_two_out", "encoder_decoder", "masked", "embedded", "nested"]
RNNKIT_MADE = ["encoder_decoder", "shared_two_outputs", "embedded", "dict_io", "nested"]


@pytest.fixture(autouse=True)
def _fresh_names():
    # Layer names come from process-wide counters; leave them as found for later tests.
    backend.clear_session()
    yield
    backend.clear_session()


def _arrays(path, prefix):
    data = np.load(path)
    return [data[f"{prefix}{i}"] for i in range(sum(k.startswith(prefix) for k in data.files))]


def _predict(model, xs):
    ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    return [np.asarray(y) for y in (ys if isinstance(ys, list) else [ys])]


def _keyed(path, prefix):
    """``{key: array}`` of a dict-input model's ``<prefix>_<key>`` arrays."""
    data = np.load(path)
    return {k[len(prefix) + 1:]: data[k] for k in data.files if k.startswith(prefix + "_")}


def _run(model, npz):
    """The model's outputs for the inputs in ``npz``, in the order the file keeps them."""
    if _keyed(npz, "x"):
        with torch.no_grad():
            ys = model(_keyed(npz, "x"))
        return [ys[key].numpy() for key in sorted(ys)]
    return _predict(model, _arrays(npz, "x"))


def _expected(npz, prefix="y"):
    keyed = _keyed(npz, prefix)
    return [keyed[key] for key in sorted(keyed)] if keyed else _arrays(npz, prefix)


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _with_config(tmp_path, source, config, name="hostile.keras"):
    members = _members(source)
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as z:
        for member, data in members.items():
            z.writestr(member, data)
    return path


def _h5_arrays(data):
    found = {}
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda n, o: found.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset)
                     else None)
    return found


# ---------------------------------------------------------------------- Keras 3 -> rnnkit
@pytest.mark.parametrize("name", KERAS_MADE)
def test_keras3_functional_archives_load_and_predict_what_keras_did(name):
    model = load_model(HERE / f"{name}.keras")
    assert isinstance(model, Model)
    recorded = json.loads((HERE / "recorded.json").read_text())
    assert recorded["keras"] == "3.15.1"
    assert [layer.name for layer in model.layers] == recorded["models"][name]["layers"]
    assert model.count_params() == recorded["models"][name]["params"]
    xs, expected = _arrays(HERE / f"{name}.npz", "x"), _arrays(HERE / f"{name}.npz", "y")
    ys = _predict(model, xs)
    assert len(ys) == len(expected)
    for y, e in zip(ys, expected):
        np.testing.assert_allclose(y, e, atol=1e-5, rtol=0)
    lines = []
    model.summary(print_fn=lines.append)
    assert any(f"Total params: {model.count_params():,}" in line for line in lines)


def test_keras3_states_are_passed_as_initial_state():
    model = load_model(HERE / "encoder_decoder.keras")
    decoder = model.get_layer("lstm_1")
    node = [n for _, n in model._relevant(decoder)][0]
    states = node.kwargs["initial_state"]
    assert [t._keras_history.tensor_index for t in states] == [1, 2]
    assert {t._keras_history.layer.name for t in states} == {"lstm"}


@pytest.mark.parametrize("name", ["masked", "embedded"])
def test_keras3_mask_operations_are_left_to_rnnkit_masks(name):
    # Keras 3 writes the masks as NotEqual/Any operations feeding the RNNs' `mask`
    # argument; rnnkit drops them and propagates the same masks itself.
    config = json.loads(_members(HERE / f"{name}.keras")["config.json"])
    ops = [e["class_name"] for e in config["config"]["layers"]
           if e["module"].startswith("keras.src.ops")]
    assert "NotEqual" in ops
    model = load_model(HERE / f"{name}.keras")
    assert not {type(layer).__name__ for layer in model.layers} & set(ops)
    xs, expected = _arrays(HERE / f"{name}.npz", "x"), _arrays(HERE / f"{name}.npz", "y")
    np.testing.assert_allclose(_predict(model, xs)[0], expected[0], atol=1e-5, rtol=0)
    # Keras's numbers depend on the masks: without them rnnkit would not match.
    if name == "masked":
        model.get_layer("masking").mask_value = 99.0
    else:
        model.get_layer("embedding").mask_zero = False
    assert np.abs(_predict(model, xs)[0] - expected[0]).max() > 1e-3


# ---------------------------------------------------------------------- rnnkit -> Keras 3
def _make_module():
    spec = importlib.util.spec_from_file_location("keras3_functional_make",
                                                  HERE / "make_rnnkit_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", RNNKIT_MADE)
def test_real_keras3_loaded_rnnkit_functional_archives_and_predicted_the_same(name):
    report = json.loads((HERE / "rnnkit_keras3_report.json").read_text())
    assert report["keras"] == "3.15.1"
    entry = report["files"][f"rnnkit_{name}.keras"]
    assert max(entry["max_abs_diff_vs_rnnkit"]) < 1e-5
    keras_ys = _expected(HERE / f"rnnkit_{name}.keras3.npz")
    assert len(keras_ys) == len(entry["max_abs_diff_vs_rnnkit"])
    # What rnnkit computes today from the same file matches what Keras computed from it.
    model = load_model(HERE / f"rnnkit_{name}.keras")
    assert [layer.name for layer in model.layers] == entry["layers"]  # Keras's order too
    assert model.count_params() == entry["params"]
    ys = _run(model, HERE / f"rnnkit_{name}.npz")
    assert len(ys) == len(keras_ys)
    for y, k in zip(ys, keras_ys):
        np.testing.assert_allclose(y, k, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", RNNKIT_MADE)
def test_rnnkit_still_writes_the_archives_keras_checked(name, tmp_path):
    # Keras's verdict holds for the files rnnkit writes today only if they are the same:
    # rebuild each model, give it the fixture's weights, save, compare config and arrays.
    backend.clear_session()
    model, _ = getattr(_make_module(), name)()
    model.load_weights(HERE / f"rnnkit_{name}.keras")
    model.save(tmp_path / "again.keras")
    fixture, again = _members(HERE / f"rnnkit_{name}.keras"), _members(tmp_path / "again.keras")
    assert sorted(again) == ["config.json", "metadata.json", "model.weights.h5"]
    assert json.loads(again["config.json"]) == json.loads(fixture["config.json"])
    old, new = _h5_arrays(fixture["model.weights.h5"]), _h5_arrays(again["model.weights.h5"])
    assert sorted(old) == sorted(new)
    for key in old:
        np.testing.assert_array_equal(new[key], old[key])


def test_written_config_is_keras3_functional_form():
    config = json.loads(_members(HERE / "rnnkit_encoder_decoder.keras")["config.json"])
    assert config["class_name"] == "Functional"
    assert config["module"] == "keras.src.models.functional"
    layers = {e["name"]: e for e in config["config"]["layers"]}
    decoder = layers["lstm_1"]["inbound_nodes"][0]
    assert decoder["args"][0]["class_name"] == "__keras_tensor__"
    assert decoder["args"][0]["config"]["keras_history"] == ["input_2", 0, 0]
    states = decoder["kwargs"]["initial_state"]
    assert [s["config"]["keras_history"] for s in states] == [["lstm", 0, 1], ["lstm", 0, 2]]
    assert layers["lstm_1"]["build_config"] == {"shapes_dict": {
        "sequences_shape": [None, 5, 2], "initial_state_shape": [[None, 4], [None, 4]]}}
    assert config["config"]["output_layers"] == ["time_distributed", 0, 0]
    assert config["config"]["input_layers"] == [["input_1", 0, 0], ["input_2", 0, 0]]
    assert layers["input_1"]["config"]["batch_shape"] == [None, 6, 3]
    shared = json.loads(_members(HERE / "rnnkit_shared_two_outputs.keras")["config.json"])
    gru = next(e for e in shared["config"]["layers"] if e["name"] == "gru")
    assert len(gru["inbound_nodes"]) == 2  # one layer, two calls: nodes 0 and 1
    concat = next(e for e in shared["config"]["layers"]
                  if e["name"] == "concatenate")["inbound_nodes"][0]["args"][0]
    assert [t["config"]["keras_history"] for t in concat] == [
        ["gru", 0, 0], ["gru", 1, 0], ["input_3", 0, 0]]


def test_written_config_keeps_dict_structures_and_a_single_state():
    config = json.loads(_members(HERE / "rnnkit_dict_io.keras")["config.json"])["config"]
    assert config["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    assert config["output_layers"] == {"out": ["out", 0, 0], "aux": ["aux", 0, 0]}
    gru = next(e for e in config["layers"] if e["name"] == "gru")
    state = gru["inbound_nodes"][0]["kwargs"]["initial_state"]
    assert state["config"]["keras_history"] == ["dense", 0, 0]  # a tensor, not a list
    assert gru["build_config"]["shapes_dict"] == {"sequences_shape": [None, None, 2],
                                                  "initial_state_shape": [None, 2]}


# ---------------------------------------------------------------------- round trips
def _two_output_model():
    backend.clear_session()
    enc_in, dec_in = Input((5, 3)), Input((4, 2))
    _, h, c = LSTM(4, return_state=True)(enc_in)
    seq = LSTM(4, return_sequences=True)(dec_in, initial_state=[h, c])
    shared = Dense(3)
    return Model([enc_in, dec_in], [shared(seq), Dense(1)(GRU(2)(shared(seq)))])


def test_rnnkit_keras_rnnkit_round_trip(tmp_path):
    model = _two_output_model()
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(3, 5, 3)).astype("f"), rng.normal(size=(3, 4, 2)).astype("f")]
    path = tmp_path / "rt.keras"
    model.save(path)
    clone = load_model(path)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.output_names == model.output_names
    for a, b in zip(_predict(clone, xs), _predict(model, xs)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    clone.save(tmp_path / "again.keras")
    assert json.loads(_members(tmp_path / "again.keras")["config.json"]) == \
        json.loads(_members(path)["config.json"])


@pytest.mark.parametrize("name", KERAS_MADE)
def test_keras_file_through_rnnkit_save_predicts_the_same(name, tmp_path):
    model = load_model(HERE / f"{name}.keras")
    model.save(tmp_path / "resaved.keras")
    clone = load_model(tmp_path / "resaved.keras")
    xs, expected = _arrays(HERE / f"{name}.npz", "x"), _arrays(HERE / f"{name}.npz", "y")
    for y, e in zip(_predict(clone, xs), expected):
        np.testing.assert_allclose(y, e, atol=1e-5, rtol=0)


def test_functional_keras_save_is_atomic(tmp_path, monkeypatch):
    model = _two_output_model()
    path = tmp_path / "m.keras"
    model.save(path)
    before = path.read_bytes()

    def broken(handle, config, weights):
        handle.write(b"PK partial")
        raise OSError("disk full")

    monkeypatch.setattr(keras_v3, "write_archive", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]  # no temp file left behind
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(path, overwrite=False)


def test_nested_models_keep_keras3_node_numbers():
    # rnnkit (like tf.keras 2) gives a model its own node 0, so its calls are nodes 1, 2;
    # Keras 3 numbers them 0, 1 in the file.
    config = json.loads(_members(HERE / "rnnkit_nested.keras")["config.json"])["config"]
    layers = {e["name"]: e for e in config["layers"]}
    assert layers["encoder"]["class_name"] == "Functional"
    assert layers["head"]["class_name"] == "Sequential"
    assert [n["args"][0]["config"]["keras_history"] for n in layers["head"]["inbound_nodes"]] \
        == [["encoder", 0, 0], ["encoder", 1, 0]]
    concat = layers["concatenate"]["inbound_nodes"][0]["args"][0]
    assert [t["config"]["keras_history"] for t in concat] == [["head", 0, 0], ["head", 1, 0]]
    inner = layers["encoder"]["config"]["layers"]
    assert isinstance(inner[1]["inbound_nodes"][0], dict)  # the nested config: Keras 3 form
    with h5py.File(io.BytesIO(_members(HERE / "rnnkit_nested.keras")["model.weights.h5"])) as f:
        assert "layers/functional/layers/lstm/cell/vars/2" in f  # Keras 3's nested layout
        assert "layers/sequential/layers/gru/cell/vars/0" in f
    model = load_model(HERE / "rnnkit_nested.keras")
    head = model.get_layer("head")
    assert [i for i, _ in model._relevant(head)] == [1, 2]


# ---------------------------------------------------------------------- hostile configs
def _stacked_config():
    return json.loads(_members(HERE / "stacked.keras")["config.json"])


def test_unknown_class_in_functional_config_names_layer_and_class(tmp_path):
    config = _stacked_config()
    config["config"]["layers"][2]["class_name"] = "FancyGRU"
    with pytest.raises(UnsafeConfigError, match=r"layer 'gru' is class 'FancyGRU' \(module "
                                                r"'keras.layers'\), which rnnkit does not know"):
        load_model(_with_config(tmp_path, HERE / "stacked.keras", config))


def test_foreign_module_in_functional_config_is_refused(tmp_path):
    config = _stacked_config()
    config["config"]["layers"][2].update(module="os", class_name="system")
    with pytest.raises(UnsafeConfigError, match=r"\('system', layer 'gru'\) comes from module "
                                                r"'os'"):
        load_model(_with_config(tmp_path, HERE / "stacked.keras", config))


def test_lambda_in_functional_config_is_refused(tmp_path):
    config = _stacked_config()
    config["config"]["layers"][2]["class_name"] = "Lambda"
    with pytest.raises(UnsafeConfigError, match=r"layer 'gru' is a Lambda, which carries "
                                                r"Python code"):
        load_model(_with_config(tmp_path, HERE / "stacked.keras", config))


def test_keras_operation_used_as_data_is_refused_by_name(tmp_path):
    # An operation whose result feeds a layer's input (not only a mask) cannot be dropped.
    config = _stacked_config()
    layers = config["config"]["layers"]
    gru = next(e for e in layers if e["name"] == "gru")
    source = copy.deepcopy(gru["inbound_nodes"][0]["args"][0])
    layers.insert(2, {"module": "keras.src.ops.numpy", "class_name": "Absolute",
                      "config": {"name": "absolute"}, "registered_name": "Absolute",
                      "name": "absolute", "inbound_nodes": [{"args": [source], "kwargs": {}}]})
    gru["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["absolute", 0, 0]
    with pytest.raises(UnsafeConfigError, match=r"layer 'absolute' is the Keras operation "
                                                r"'Absolute' \(module 'keras.src.ops.numpy'\)"):
        load_model(_with_config(tmp_path, HERE / "stacked.keras", config))


def test_broken_functional_layer_entry_is_a_file_format_error(tmp_path):
    config = _stacked_config()
    config["config"]["layers"][1] = ["not", "a", "layer"]
    with pytest.raises(FileFormatError, match=r"layer #1 of the functional config is not a"):
        load_model(_with_config(tmp_path, HERE / "stacked.keras", config))


def test_subclassed_model_inside_is_refused_before_writing(tmp_path):
    class Custom(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(2)

        def call(self, x, training=None, mask=None):
            return self.dense(x)

    x = Input((3,))
    model = Model(x, Custom()(x))
    with pytest.raises(NotImplementedError, match=r"layer 'custom' is a subclassed Model, "
                                                  r"which has no config to save"):
        model.save(tmp_path / "sub.keras")
    assert not list(tmp_path.iterdir())


def test_unknown_class_inside_a_nested_model_is_named(tmp_path):
    config = json.loads(_members(HERE / "nested.keras")["config.json"])
    head = next(e for e in config["config"]["layers"] if e["name"] == "head")
    gru = next(e for e in head["config"]["layers"] if e["class_name"] == "GRU")
    gru["class_name"] = "FancyGRU"
    with pytest.raises(UnsafeConfigError, match=rf"layer '{gru['config']['name']}' is class "
                                                r"'FancyGRU' \(module 'keras.layers'\)"):
        load_model(_with_config(tmp_path, HERE / "nested.keras", config))
