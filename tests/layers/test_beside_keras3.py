"""Keras 3.15.1 .keras archives with the layers beside the RNNs (tests/fixtures/keras3_beside,
written by Keras 3 on torch): rnnkit loads them with Keras 3's predictions, and the archive
rnnkit writes back names, for every layer, only arguments Keras 3 itself wrote for it (so
Keras 3 accepts them: checked by hand with keras 3.15.1, see the fixtures' record.py), with
its weights under Keras 3's paths."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import rnnkit
from rnnkit.models import load_model

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras3_beside"
NAMES = ["attention", "conv_lstm", "conv_text"]


def _layers(path):
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    return {entry["config"]["name"]: entry for entry in config["config"]["layers"]}


def _weight_paths(path):
    import io

    import h5py
    found = []
    with h5py.File(io.BytesIO(zipfile.ZipFile(path).read("model.weights.h5"))) as handle:
        handle.visititems(lambda name, obj: found.append(name)
                          if isinstance(obj, h5py.Dataset) else None)
    return sorted(found)


@pytest.mark.parametrize("name", NAMES)
def test_keras3_archive_loads_with_its_predictions(name):
    rnnkit.backend.clear_session()
    model = load_model(HERE / f"{name}.keras")
    data = np.load(HERE / f"{name}.npz")
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=2e-5)


@pytest.mark.parametrize("name", NAMES)
def test_rnnkit_archive_speaks_keras3(name, tmp_path):
    rnnkit.backend.clear_session()
    model = load_model(HERE / f"{name}.keras")
    path = tmp_path / "again.keras"
    model.save(path)
    original, written = _layers(HERE / f"{name}.keras"), _layers(path)
    assert set(written) == set(original)
    for layer_name, entry in written.items():
        # (every Keras 3 layer takes activity_regularizer, though not all write it)
        extra = set(entry["config"]) - set(original[layer_name]["config"]) - {
            "activity_regularizer"}
        assert not extra, f"{layer_name}: Keras 3 has no argument(s) {sorted(extra)}"
        if entry["class_name"] == "MultiHeadAttention":
            assert entry["build_config"] == original[layer_name]["build_config"]
    assert set(_weight_paths(path)) == set(_weight_paths(HERE / f"{name}.keras"))
    rnnkit.backend.clear_session()
    again = load_model(path)
    data = np.load(HERE / f"{name}.npz")
    np.testing.assert_allclose(again.predict(data["x"], verbose=0), data["y"], atol=2e-5)
