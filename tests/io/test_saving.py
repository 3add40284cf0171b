"""save / save_weights / load_weights / load_model round trips, recorded Keras checks, atomicity."""
import json
import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from rnnkit import backend
from rnnkit.io import keras_h5, weight_maps
from rnnkit.layers import GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN
from rnnkit.models import Sequential, load_model

SAVED = Path(__file__).resolve().parents[1] / "fixtures" / "rnnkit_saved"
NAMES = sorted(p.name[:-len(".keras")] for p in SAVED.glob("*.keras"))


def _model(seed=0):
    backend.clear_session()
    model = Sequential([Embedding(12, 3, mask_zero=True, input_length=6),
                        Bidirectional(GRU(4, return_sequences=True)), LSTM(3),
                        Dense(2, activation="softmax")])
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        layer.set_weights([rng.normal(scale=0.5, size=w.shape) for w in layer.get_weights()])
    return model


X_IDS = np.array([[1, 4, 7, 0, 0, 0], [3, 3, 11, 2, 5, 9], [8, 0, 0, 0, 0, 0]])


# ---------------------------------------------------------------------- recorded with real Keras
def test_recorded_round_trips_are_all_there():
    assert NAMES == ["bidir", "embed_gru", "gru_seq", "lstm_dense", "masked", "simple_rnn_td"]
    report = json.loads((SAVED / "keras3_report.json").read_text())
    assert report["keras"] == "3.15.1" and len(report["files"]) == len(NAMES)
    assert json.loads((SAVED / "tf2_report.json").read_text())["tensorflow"] == "2.12.0"


@pytest.mark.parametrize("name", NAMES)
def test_keras3_loaded_rnnkit_keras_files_and_predicted_the_same(name):
    """Keras 3.15.1 loaded <name>.keras (and both weights files) that rnnkit wrote."""
    x = np.load(SAVED / f"{name}.npz")["x"]
    keras3 = np.load(SAVED / f"{name}.keras3.npz")
    model = load_model(SAVED / f"{name}.keras")
    y = model.predict(x, verbose=0)
    for key in ("y", "y_weights", "y_legacy_weights"):
        np.testing.assert_allclose(y, keras3[key], atol=2e-5, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_tf_keras_2_loaded_rnnkit_h5_files_and_predicted_the_same(name):
    x = np.load(SAVED / f"{name}.npz")["x"]
    tf2 = np.load(SAVED / f"{name}.tf2.npz")
    model = load_model(SAVED / f"{name}.h5")
    y = model.predict(x, verbose=0)
    np.testing.assert_allclose(y, tf2["y"], atol=2e-5, rtol=0)
    np.testing.assert_allclose(y, tf2["y_weights"], atol=2e-5, rtol=0)
    for weights in ("weights.h5", "w.h5"):
        other = load_model(SAVED / f"{name}.keras")
        for layer in other.layers:  # scramble, then load the weights-only file
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
        other.load_weights(SAVED / f"{name}.{weights}")
        np.testing.assert_allclose(other.predict(x, verbose=0), y, atol=1e-6, rtol=0)


def test_live_keras3_loads_an_rnnkit_keras_file(tmp_path):
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3."):
        pytest.skip("needs Keras 3")
    model = _model()
    model.save(tmp_path / "m.keras")
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(X_IDS, verbose=0)),
                               model.predict(X_IDS, verbose=0), atol=2e-5)


# ---------------------------------------------------------------------- round trips in rnnkit
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_save_and_load_model_round_trip(tmp_path, suffix):
    model = _model()
    path = tmp_path / f"model{suffix}"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(X_IDS, verbose=0), model.predict(X_IDS, verbose=0))
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    assert [type(l) for l in loaded.layers] == [type(l) for l in model.layers]
    lines_a, lines_b = [], []
    model.summary(print_fn=lines_a.append)
    loaded.summary(print_fn=lines_b.append)
    assert lines_a == lines_b


@pytest.mark.parametrize("filename", ["w.weights.h5", "w.h5"])
def test_save_weights_and_load_weights_round_trip(tmp_path, filename):
    model = _model(seed=0)
    model.save_weights(tmp_path / filename)
    with h5py.File(tmp_path / filename) as f:  # the layout the suffix promises
        assert ("layers" in f) == filename.endswith(".weights.h5")
        assert ("layer_names" in f.attrs) == (not filename.endswith(".weights.h5"))
    other = _model(seed=1)
    assert not np.allclose(other.predict(X_IDS, verbose=0), model.predict(X_IDS, verbose=0))
    other.load_weights(tmp_path / filename)
    np.testing.assert_array_equal(other.predict(X_IDS, verbose=0), model.predict(X_IDS, verbose=0))


def test_float64_model_round_trips_in_float64(tmp_path):
    backend.clear_session()
    model = Sequential([SimpleRNN(3, input_shape=(4, 2), dtype="float64")])
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.layers[0].cell.kernel.dtype.is_floating_point
    np.testing.assert_array_equal(loaded.layers[0].get_weights()[0], model.layers[0].get_weights()[0])


def test_writes_are_atomic(tmp_path, monkeypatch):
    model = _model()
    path = tmp_path / "m.h5"
    model.save(path)
    before = path.read_bytes()

    def broken(handle, *args):
        handle.attrs["half"] = b"written"
        raise KeyboardInterrupt("interrupted mid-save")

    monkeypatch.setattr(keras_h5, "write_model", broken)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == before  # the previous file is untouched
    assert os.listdir(tmp_path) == ["m.h5"]  # and no temporary file is left behind


def test_save_refuses_unknown_suffixes_and_overwrite_false(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"Invalid filepath extension for saving: .*model.txt"):
        model.save(tmp_path / "model.txt")
    # tf.keras 2 writes a TensorFlow checkpoint at other paths; rnnkit its own .npz
    model.save_weights(tmp_path / "ckpt_1")
    other = _model(seed=1)
    assert not np.array_equal(other.get_weights()[0], model.get_weights()[0])
    other.load_weights(tmp_path / "ckpt_1")
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "m.keras", overwrite=False)


def test_unbuilt_model_cannot_be_saved(tmp_path):
    backend.clear_session()
    with pytest.raises(ValueError, match="has not been built yet"):
        Sequential([LSTM(2)]).save(tmp_path / "m.keras")


def test_hard_sigmoid_warns_when_saving_for_keras3(tmp_path):
    backend.clear_session()
    model = Sequential([LSTM(2, recurrent_activation="hard_sigmoid", input_shape=(3, 2))])
    with pytest.warns(UserWarning, match="Keras 3 computes differently"):
        model.save(tmp_path / "m.keras")


# ---------------------------------------------------------------------- legacy conversions
def _rewrite_layer(path, layer_name, convert):
    with h5py.File(path, "r+") as f:
        group = f[layer_name]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        arrays = convert([group[n][()] for n in names])
        for n in names:
            del group[n]
        new_names = [f"{layer_name}/w{i}:0" for i in range(len(arrays))]
        for n, a in zip(new_names, arrays):
            group.create_dataset(n, data=a)
        group.attrs["weight_names"] = np.array([n.encode() for n in new_names])


@pytest.mark.parametrize("kind", ["cudnn_lstm", "cudnn_gru", "keras1_lstm", "keras1_gru"])
def test_legacy_rnn_arrays_are_converted(tmp_path, kind):
    backend.clear_session()
    cls = LSTM if "lstm" in kind else GRU
    model = Sequential([cls(3, input_shape=(5, 2), name="rnn")])
    rng = np.random.default_rng(3)
    model.layers[0].set_weights([rng.normal(size=w.shape) for w in model.layers[0].get_weights()])
    x = rng.normal(size=(2, 5, 2)).astype("float32")
    path = tmp_path / "w.h5"
    model.save_weights(path)
    gates = 4 if cls is LSTM else 3
    if kind == "cudnn_lstm":
        convert = lambda w: weight_maps.keras_to_cudnn_lstm(*w)  # noqa: E731
    elif kind == "cudnn_gru":
        convert = lambda w: weight_maps.keras_to_cudnn_gru(*w)  # noqa: E731
    else:  # Keras 1: one array per gate and kind; LSTM gates stored i, c, f, o
        order = [0, 2, 1, 3] if cls is LSTM else [0, 1, 2]

        def convert(w):
            blocks = [np.split(a, gates, axis=-1) for a in w]
            return [blocks[k][g] for g in order for k in range(3)]
        if cls is GRU:
            model = Sequential([GRU(3, input_shape=(5, 2), name="rnn", reset_after=False)])
            model.layers[0].set_weights([rng.normal(size=w.shape) for w in model.layers[0].get_weights()])
            model.save_weights(path)
    _rewrite_layer(path, "rnn", convert)
    expected = model.predict(x, verbose=0)
    for layer in model.layers:
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)


def test_gru_reset_after_mismatch_is_a_clear_error(tmp_path):
    backend.clear_session()
    Sequential([GRU(3, input_shape=(5, 2), name="rnn", reset_after=False)]).save_weights(tmp_path / "w.h5")
    backend.clear_session()
    model = Sequential([GRU(3, input_shape=(5, 2), name="rnn")])
    with pytest.raises(ValueError, match=r"GRU\(reset_after=False\) is not compatible with "
                                         r"GRU\(reset_after=True\)"):
        model.load_weights(tmp_path / "w.h5")


def test_chunked_layer_names_are_joined(tmp_path):
    model = _model()
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        names = f.attrs["layer_names"]
        del f.attrs["layer_names"]
        f.attrs["layer_names0"] = names[:2]
        f.attrs["layer_names1"] = names[2:]
    other = _model(seed=5)
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(X_IDS, verbose=0), model.predict(X_IDS, verbose=0))


def test_large_name_lists_are_written_in_chunks(tmp_path):
    backend.clear_session()
    model = Sequential([Dense(1, input_shape=(2,), name="d" * 300 + str(i)) if i == 0 else
                        Dense(1, name="d" * 300 + str(i)) for i in range(300)])
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5") as f:
        assert "layer_names" not in f.attrs and "layer_names1" in f.attrs
    model.load_weights(tmp_path / "w.h5")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_regularisers_and_constraints_survive_a_round_trip(tmp_path, suffix):
    """The size check builds weights on the meta device; constructors must still run on CPU."""
    backend.clear_session()
    model = Sequential([
        Embedding(10, 3, embeddings_regularizer="l2", input_length=5),
        Bidirectional(LSTM(3, kernel_regularizer="l2", recurrent_constraint="max_norm",
                           return_sequences=True)),
        GRU(2, bias_regularizer={"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}),
        Dense(1, kernel_constraint="non_neg")])
    rng = np.random.default_rng(4)
    for layer in model.layers:
        layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    model.save(tmp_path / f"m{suffix}")
    loaded = load_model(tmp_path / f"m{suffix}")
    assert all(p.device.type == "cpu" for p in loaded.weights)
    expected = [float(loss.detach()) for loss in model.losses]
    assert len(expected) == 4 and min(expected) > 0
    np.testing.assert_allclose([float(loss.detach()) for loss in loaded.losses], expected, rtol=1e-6)


def test_saved_files_get_the_permissions_of_an_ordinary_new_file(tmp_path):
    # the temporary file (mkstemp: 0600) is renamed into place; the result must not stay private
    import os

    from rnnkit.io.saving import atomic_write

    umask = os.umask(0o022)
    try:
        target = tmp_path / "weights.h5"
        atomic_write(target, lambda temp: open(temp, "wb").write(b"data"))
    finally:
        os.umask(umask)
    assert target.read_bytes() == b"data"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["weights.h5"]  # no temporary left
