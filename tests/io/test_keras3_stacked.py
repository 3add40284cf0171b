"""``RNN([cell, ...])`` (``StackedRNNCells``) in Keras 3 ``.keras`` archives, both ways.

Fixtures (``tests/fixtures/keras3_stacked``): ``<name>.keras`` saved by real Keras 3.15.1
with its predictions (``record.py``), and ``rnnkit_<name>.keras`` saved by rnnkit, which real
Keras 3.15.1 then loaded, recording its predictions (``make_rnnkit_files.py``,
``record_rnnkit_saved.py``); CI has no Keras, so the recorded numbers stand in for it.
"""
import importlib.util
import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from rnnkit import backend
from rnnkit.io import FileFormatError
from rnnkit.layers import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from rnnkit.models import load_model

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras3_stacked"
NAMES = ["lstm_gru", "simple_stack", "functional"]
RNNKIT_MADE = NAMES + ["single_cells"]  # and two one-cell RNN(cell) layers
CELLS = {"lstm_gru": [LSTMCell, GRUCell], "simple_stack": [SimpleRNNCell, SimpleRNNCell],
         "functional": [LSTMCell, GRUCell], "single_cells": [LSTMCell, SimpleRNNCell]}


@pytest.fixture(autouse=True)
def _fresh_names():
    # Layer names come from process-wide counters; leave them as found for later tests.
    backend.clear_session()
    yield
    backend.clear_session()


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _h5_arrays(data):
    found = {}
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda n, o: found.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset)
                     else None)
    return found


def _make_module():
    spec = importlib.util.spec_from_file_location("keras3_stacked_make",
                                                  HERE / "make_rnnkit_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stacked(model):
    rnn = next(layer for layer in model.layers if isinstance(getattr(layer, "cell", None),
                                                              StackedRNNCells))
    return rnn.cell


# ---------------------------------------------------------------------- Keras 3 -> rnnkit
@pytest.mark.parametrize("name", NAMES)
def test_keras3_stacked_archives_load_and_predict_what_keras_did(name):
    data = np.load(HERE / f"{name}.npz")
    model = load_model(HERE / f"{name}.keras")
    assert [type(cell) for cell in _stacked(model).cells] == CELLS[name]
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_rnnkit_writes_keras3s_weight_paths_for_stacked_cells(name, tmp_path):
    # Same datasets at the same paths (cells/<class>[_n]/vars/<i>), same arrays.
    model = load_model(HERE / f"{name}.keras")
    model.save(tmp_path / "again.keras")
    keras_made = _h5_arrays(_members(HERE / f"{name}.keras")["model.weights.h5"])
    ours = _h5_arrays(_members(tmp_path / "again.keras")["model.weights.h5"])
    assert sorted(ours) == sorted(keras_made)
    assert any("/cell/cells/" in path for path in ours)
    for path, array in keras_made.items():
        np.testing.assert_array_equal(ours[path], array)


def test_two_cells_of_one_class_get_keras3s_numbered_keys():
    arrays = _h5_arrays(_members(HERE / "simple_stack.keras")["model.weights.h5"])
    model = load_model(HERE / "simple_stack.keras")
    first, second = _stacked(model).cells
    base = "layers/rnn/cell/cells"
    np.testing.assert_array_equal(first.kernel.detach().numpy(),
                                  arrays[f"{base}/simple_rnn_cell/vars/0"])
    np.testing.assert_array_equal(second.kernel.detach().numpy(),
                                  arrays[f"{base}/simple_rnn_cell_1/vars/0"])


def test_missing_cell_weights_name_the_path(tmp_path):
    members = _members(HERE / "lstm_gru.keras")
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as f:
        del f["layers/rnn/cell/cells/gru_cell"]
    members["model.weights.h5"] = buffer.getvalue()
    path = tmp_path / "broken.keras"
    with zipfile.ZipFile(path, "w") as z:
        for member, data in members.items():
            z.writestr(member, data)
    with pytest.raises(FileFormatError, match=r"layer 'rnn'.*rnn/cell/cells/gru_cell/vars"):
        load_model(path)


# ---------------------------------------------------------------------- rnnkit -> Keras 3
@pytest.mark.parametrize("name", RNNKIT_MADE)
def test_real_keras3_loaded_rnnkit_stacked_archives_and_predicted_the_same(name):
    report = json.loads((HERE / "rnnkit_keras3_report.json").read_text())
    entry = report["files"][f"rnnkit_{name}.keras"]
    assert report["keras"] == "3.15.1"
    assert entry["cells"] == [cls.__name__ for cls in CELLS[name]]
    keras_y = np.load(HERE / f"rnnkit_{name}.keras3.npz")["y"]
    data = np.load(HERE / f"rnnkit_{name}.npz")
    np.testing.assert_allclose(keras_y, data["y"], atol=1e-6, rtol=0)
    # And rnnkit reads its own archive back to the same prediction.
    model = load_model(HERE / f"rnnkit_{name}.keras")
    assert model.count_params() == entry["params"]
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), keras_y, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", RNNKIT_MADE)
def test_rnnkit_still_writes_the_stacked_archives_keras_checked(name, tmp_path):
    # Keras's verdict holds for the files rnnkit writes today only if they are the same.
    make = _make_module()
    model, x = make.build(name, list(make.MODELS).index(name))  # main()'s seeds
    model.save(tmp_path / "again.keras")
    fixture, again = _members(HERE / f"rnnkit_{name}.keras"), _members(tmp_path / "again.keras")
    assert json.loads(again["config.json"]) == json.loads(fixture["config.json"])
    old, new = _h5_arrays(fixture["model.weights.h5"]), _h5_arrays(again["model.weights.h5"])
    assert sorted(old) == sorted(new)
    for key in old:
        np.testing.assert_array_equal(new[key], old[key])
    np.testing.assert_array_equal(x, np.load(HERE / f"rnnkit_{name}.npz")["x"])


def test_written_cells_carry_keras3s_module_and_registered_name():
    config = json.loads(_members(HERE / "rnnkit_lstm_gru.keras")["config.json"])
    cell = config["config"]["layers"][1]["config"]["cell"]
    assert (cell["module"], cell["class_name"], cell["registered_name"]) == \
        ("keras.layers", "StackedRNNCells", None)
    for entry, class_name in zip(cell["config"]["cells"], ["LSTMCell", "GRUCell"]):
        assert (entry["module"], entry["class_name"], entry["registered_name"]) == \
            ("keras.layers", class_name, None)
        assert "implementation" not in entry["config"]  # tf.keras 2 only, dropped as for layers
        assert entry["config"]["kernel_initializer"]["module"] == "keras.initializers"


def test_a_single_cell_is_written_in_keras3_form_too():
    # RNN(LSTMCell(...)): Keras 3 refused the {"class_name", "config"} cell ("Could not
    # locate class 'LSTMCell'") before its `cell` entry got `module` and `registered_name`.
    config = json.loads(_members(HERE / "rnnkit_single_cells.keras")["config.json"])
    cells = [layer["config"]["cell"] for layer in config["config"]["layers"]
             if layer["class_name"] == "RNN"]
    assert [(c["module"], c["class_name"], c["registered_name"]) for c in cells] == \
        [("keras.layers", "LSTMCell", None), ("keras.layers", "SimpleRNNCell", None)]
