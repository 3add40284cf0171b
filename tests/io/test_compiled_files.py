"""Compiled, trained models saved by real Keras (optimizer state in the file) load and compile."""
import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from rnnkit.models import load_model

COMPILED = Path(__file__).resolve().parents[1] / "fixtures" / "rnnkit_saved" / "compiled"
FILES = ["tf2_compiled.h5", "k3_compiled.keras"]


@pytest.mark.parametrize("name", FILES)
def test_compiled_keras_files_load_predict_and_train(name):
    data = np.load(COMPILED / f"{name.split('.')[0]}.npz")
    model = load_model(COMPILED / name)  # compiled, optimizer state restored
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=2e-5)
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    history = model.fit(data["x"], data["y"], epochs=1, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "mae"}


@pytest.mark.parametrize("name", FILES)
def test_compile_false_loads_uncompiled(name):
    model = load_model(COMPILED / name, compile=False)
    assert getattr(model, "optimizer", None) is None


def test_unusable_training_config_warns_and_loads_uncompiled(tmp_path):
    path = tmp_path / "m.h5"
    shutil.copy(COMPILED / "tf2_compiled.h5", path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["training_config"])
        config["loss"] = {"module": "__main__", "class_name": "function", "config": "my_loss"}
        f.attrs["training_config"] = json.dumps(config).encode()
    with pytest.warns(UserWarning, match=r"loaded uncompiled; its training config could not be "
                                         r"applied \(UnsafeConfigError: .*my_loss"):
        model = load_model(path)
    assert getattr(model, "optimizer", None) is None
