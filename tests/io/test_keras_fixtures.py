"""Every recorded Keras file loads and predicts what Keras predicted (within 2e-5)."""
import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit import backend
from rnnkit.io import FileFormatError, WeightMismatchError
from rnnkit.layers import LSTM, Dense, deserialize
from rnnkit.models import Sequential, load_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KERAS2 = FIXTURES / "keras2" / "models"
KERAS3 = FIXTURES / "keras3"
FULL_FILES = sorted(p for p in KERAS2.glob("*.h5") if not p.name.endswith(".weights.h5"))
WEIGHT_FILES = sorted(KERAS2.glob("*.weights.h5"))
KERAS3_FILES = sorted(KERAS3.glob("*.keras"))
MODELS = {m["name"]: m for m in json.loads((FIXTURES / "keras2" / "models.json").read_text())["models"]}


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def _reference(path: Path):
    data = np.load(path.parent / f"{_stem(path)}.npz")
    return data["x"], data["y"]


def _model_from_json(name: str) -> Sequential:
    """The model as the recording built it, with fresh (random) weights."""
    backend.clear_session()
    model = Sequential(name=name)
    for layer in MODELS[name]["layers"]:
        model.add(deserialize({"class_name": layer["class"], "config": layer["config"]}))
    return model


def test_the_fixture_files_are_all_there():
    assert len(FULL_FILES) == 4 and len(WEIGHT_FILES) == 4 and len(KERAS3_FILES) == 3


@pytest.mark.parametrize("path", FULL_FILES + KERAS3_FILES, ids=lambda p: p.name)
def test_load_model_predicts_what_keras_predicted(path):
    model = load_model(path)
    x, y = _reference(path)
    np.testing.assert_allclose(model.predict(x), y, atol=2e-5, rtol=0)


@pytest.mark.parametrize("path", WEIGHT_FILES + FULL_FILES, ids=lambda p: p.name)
def test_load_weights_into_a_model_built_in_code(path):
    model = _model_from_json(_stem(path))
    x, y = _reference(path)
    assert np.abs(model.predict(x) - y).max() > 1e-3  # fresh weights: the load must matter
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x), y, atol=2e-5, rtol=0)


@pytest.mark.parametrize("path", FULL_FILES, ids=lambda p: p.name)
def test_load_weights_by_name(path):
    model = _model_from_json(_stem(path))
    model.load_weights(path, by_name=True)
    x, y = _reference(path)
    np.testing.assert_allclose(model.predict(x), y, atol=2e-5, rtol=0)


def test_by_name_leaves_layers_without_a_saved_namesake_alone():
    model = _model_from_json("lstm_dense")
    dense = model.layers[-1]
    before = dense.get_weights()
    dense.name = "renamed"
    model.load_weights(KERAS2 / "lstm_dense.h5", by_name=True)
    for a, b in zip(before, dense.get_weights()):
        np.testing.assert_array_equal(a, b)
    saved = load_model(KERAS2 / "lstm_dense.h5")
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], saved.layers[0].get_weights()[0])


def test_keras3_archive_weights_load_into_a_model_built_in_code():
    source = load_model(KERAS3 / "k3_lstm_dense.keras")
    model = Sequential.from_config(source.get_config())
    model.load_weights(KERAS3 / "k3_lstm_dense.keras")
    x, y = _reference(KERAS3 / "k3_lstm_dense.keras")
    np.testing.assert_allclose(model.predict(x), y, atol=2e-5, rtol=0)


def test_weights_that_do_not_fit_name_the_layer_and_both_shapes():
    backend.clear_session()
    model = Sequential([LSTM(5, input_shape=(20, 4)), Dense(1)])  # the file has LSTM(32)
    before = [w.copy() for w in model.get_weights()] if hasattr(model, "get_weights") else None
    with pytest.raises(WeightMismatchError, match=r"layer 'lstm' weight lstm/lstm_cell/kernel:0 "
                       r"has shape \(4, 20\) in the model, but the file stores shape \(4, 128\)"):
        model.load_weights(KERAS2 / "lstm_dense.h5")
    if before is not None:  # nothing was written: shapes are all checked first
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_layer_count_mismatch_is_reported_with_both_lists():
    backend.clear_session()
    model = Sequential([LSTM(32, input_shape=(20, 4)), Dense(4), Dense(1)])
    with pytest.raises(WeightMismatchError, match=r"Model expected 3 layers with weights "
                       r"\(lstm, dense, dense_1\), found 2 saved layers \(lstm, dense\)"):
        model.load_weights(KERAS2 / "lstm_dense.h5")


def test_load_weights_needs_a_built_model():
    backend.clear_session()
    model = Sequential([LSTM(16), Dense(1)])
    with pytest.raises(ValueError, match="has not been built yet"):
        model.load_weights(KERAS2 / "lstm_dense.h5")


def test_weights_only_file_is_not_a_model():
    with pytest.raises(FileFormatError, match="holds weights only"):
        load_model(KERAS2 / "lstm_dense.weights.h5")


@pytest.mark.parametrize("name", ["k3_embed_bigru", "k3_lstm_dense", "k3_stacked_simplernn"])
def test_keras3_legacy_h5_files_load(name):
    """Keras 3's own .h5 writer (recorded by tests/fixtures/rnnkit_saved/record_keras3_h5.py)."""
    path = FIXTURES / "rnnkit_saved" / "keras3_h5" / f"{name}.h5"
    x, y = _reference(KERAS3 / f"{name}.keras")
    np.testing.assert_allclose(load_model(path).predict(x, verbose=0), y, atol=2e-5, rtol=0)


@pytest.mark.parametrize("name", ["embed_lstm", "gru_stack", "bidir", "lstm_dense"])
def test_a_loaded_keras_model_has_the_weight_names_keras_gave(name):
    """In a fresh session the names match the file's, cells included (``lstm/lstm_cell``):
    load_model's throwaway size-check build gives its automatic names back."""
    import h5py
    path = FIXTURES / "keras2" / "models" / f"{name}.h5"
    backend.clear_session()
    model = load_model(path, compile=False)
    with h5py.File(path, "r") as handle:
        group = handle["model_weights"]
        recorded = [n.decode() if isinstance(n, bytes) else n
                    for layer in group.attrs["layer_names"]
                    for n in group[layer].attrs.get("weight_names", [])]
    assert sorted(model.weight_names()) == sorted(recorded)


def test_names_after_a_load_continue_from_the_real_model():
    backend.clear_session()
    load_model(FIXTURES / "keras2" / "models" / "embed_lstm.h5", compile=False)
    assert LSTM(2).cell.name == "lstm_cell_1"   # one lstm_cell drawn, not two
