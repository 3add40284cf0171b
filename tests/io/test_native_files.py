"""rnnkit's pickle-free weight files (.npz, .safetensors)."""
import os

import numpy as np
import pytest

from rnnkit import backend, utils
from rnnkit.layers import LSTM, Dense
from rnnkit.models import Sequential
from rnnkit.io import native as saving


def _model():
    backend.clear_session()  # names start at lstm / lstm_cell whatever ran before
    utils.set_random_seed(0)
    return Sequential([LSTM(3, input_shape=(4, 2)), Dense(1)], name="m")


def test_npz_round_trip_with_config_and_atomic_write(tmp_path):
    model = _model()
    path = tmp_path / "m.npz"
    saving.save_weights(model, str(path), include_config=True)
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary file left behind
    backend.clear_session()
    clone = saving.load_model(str(path))
    x = np.random.rand(2, 4, 2).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    with np.load(path, allow_pickle=False) as f:
        assert "lstm/lstm_cell/kernel:0" in f.files


def test_weights_only_file_has_no_config(tmp_path):
    path = tmp_path / "w.npz"
    saving.save_weights(_model(), str(path))
    with pytest.raises(ValueError, match="holds weights only"):
        saving.read_config(str(path))


def test_wrong_model_is_a_clear_error(tmp_path):
    path = tmp_path / "w.npz"
    saving.save_weights(_model(), str(path))
    other = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="has no weights for"):
        saving.load_weights(other, str(path))


def test_safetensors_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    model = _model()
    path = tmp_path / "m.safetensors"
    saving.save_weights(model, str(path), include_config=True)
    clone = _model()
    saving.load_weights(clone, str(path))
    for a, b in zip(clone.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert saving.read_config(str(path))["name"] == "m"
