"""Saved models carry their compile config and optimizer state; training resumes exactly.

Fixtures (``tests/fixtures/keras{2,3}_optimizer_state/``, see their README lines): real
tf.keras 2.12 ``.h5`` and Keras 3.15.1 ``.keras`` files saved after two training steps, with
the weights Keras reached after a third step; and files rnnkit saved, with the weights each
Keras reached after loading them and taking that third step.
"""
import json
import shutil
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from rnnkit import losses, optimizers
from rnnkit.backend import clear_session
from rnnkit.layers import GRU, LSTM, Dense
from rnnkit.models import Sequential, load_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
K2 = FIXTURES / "keras2_optimizer_state"
K3 = FIXTURES / "keras3_optimizer_state"
KERAS_CASES = ["adam", "adam_amsgrad", "adamw", "rmsprop", "sgd_momentum", "nadam", "adamax",
               "adagrad", "adadelta"]
RNNKIT_CASES = KERAS_CASES + ["adam_schedule"]
ATOL = 1e-6


def _weights(data, tag):
    return [data[k] for k in sorted(data.files) if k.startswith(f"w_{tag}_")]


def _max_diff(a, b):
    assert len(a) == len(b)
    return max(float(np.abs(np.asarray(x) - np.asarray(y)).max()) for x, y in zip(a, b))


def _load_quietly(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a skipped optimizer state warns: not here
        return load_model(path)


# ---------------------------------------------------------------------- Keras's files
def _keras_file(fmt, case):
    # tf.keras 2.12's traced Nadam multiplies its u_product several times a step (a Python
    # counter frozen by tracing); the eagerly trained file is the correct Nadam to compare.
    if fmt == "h5":
        return K2 / f"{'nadam_eager' if case == 'nadam' else case}.h5"
    return K3 / f"{case}.keras"


@pytest.mark.parametrize("fmt", ["h5", "keras"])
@pytest.mark.parametrize("case", KERAS_CASES)
def test_keras_file_resumes_as_keras_continues(fmt, case):
    path = _keras_file(fmt, case)
    data = np.load(path.with_suffix(".npz"))
    model = _load_quietly(path)
    assert _max_diff(model.get_weights(), _weights(data, "saved")) == 0
    assert model.optimizer.iterations == 2
    model.train_on_batch(data["x2"], data["y2"])
    assert model.optimizer.iterations == 3
    assert _max_diff(model.get_weights(), _weights(data, "continue")) < ATOL

    # The check can fail: fresh optimizer state lands far from Keras's third step.
    fresh = load_model(path)
    fresh.compile(optimizer=type(fresh.optimizer).from_config(fresh.optimizer.get_config()),
                  loss="mse")
    fresh.train_on_batch(data["x2"], data["y2"])
    assert _max_diff(fresh.get_weights(), _weights(data, "continue")) > 1e-4


def test_keras2_nadam_reload_diverges_and_rnnkit_continues_as_uninterrupted_keras():
    """tf.keras 2.12 does not save Nadam's running u_product; its own reload restarts it at
    1.0 and re-synchronises its step counter by multiplying once per variable, so Keras's
    reloaded step is not its uninterrupted one. rnnkit recomputes u_product from the step
    count and takes the uninterrupted step."""
    data = np.load(K2 / "nadam_eager.npz")
    assert _max_diff(_weights(data, "reload"), _weights(data, "continue")) > 1e-3
    model = _load_quietly(K2 / "nadam_eager.h5")
    model.train_on_batch(data["x2"], data["y2"])
    assert _max_diff(model.get_weights(), _weights(data, "continue")) < ATOL


@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_keras_file_state_values_are_restored_in_keras_order(fmt):
    """Adam's m and v for each weight, straight from the file's positional list."""
    path = _keras_file(fmt, "adam")
    model = _load_quietly(path)
    if fmt == "h5":
        with h5py.File(path, "r") as f:
            group = f["optimizer_weights"]
            names = [n.decode() if isinstance(n, bytes) else n
                     for n in group.attrs["weight_names"]]
            arrays = [group[n][()] for n in names]
        slots = arrays[1:]
    else:
        with zipfile.ZipFile(path) as archive, \
                h5py.File(__import__("io").BytesIO(archive.read("model.weights.h5")), "r") as f:
            arrays = [f[f"optimizer/vars/{i}"][()] for i in range(len(f["optimizer/vars"]))]
        slots = arrays[2:]
    assert int(arrays[0]) == 2
    for i, param in enumerate(model.trainable_weights):
        state = model.optimizer._slots[id(param)]
        np.testing.assert_array_equal(state["m"].numpy(), slots[2 * i])
        np.testing.assert_array_equal(state["v"].numpy(), slots[2 * i + 1])


@pytest.mark.parametrize("case", KERAS_CASES)
def test_slot_order_names_match_the_names_tf212_wrote(case):
    from rnnkit.optimizers.state import keras_names

    path = _keras_file("h5", case)
    optimizer = _load_quietly(path).optimizer
    clear_session()  # the names of Keras's first model: lstm/lstm_cell/kernel:0, ...
    names = _small_model().weight_names()
    with h5py.File(path, "r") as f:
        written = _names(f["optimizer_weights"])
    assert keras_names(optimizer, names, "keras2") == written


@pytest.mark.parametrize("case", KERAS_CASES)
def test_keras3_variable_count_matches_what_keras3_wrote(case):
    from rnnkit.optimizers.state import export_state

    report = json.loads((K3 / "report.json").read_text())["optimizers"][case]
    model = _load_quietly(K3 / f"{case}.keras")
    arrays = export_state(model.optimizer, model.trainable_weights, "keras3")
    assert [list(a.shape) for a in arrays] == [s for _, s in report["file_optimizer_vars"]]


# ---------------------------------------------------------------------- rnnkit's files in Keras
@pytest.mark.parametrize("fmt", ["h5", "keras"])
@pytest.mark.parametrize("case", RNNKIT_CASES)
def test_rnnkit_file_resumes_as_keras_resumed_it(fmt, case):
    from rnnkit.optimizers.state import export_state

    folder, tag = (K2, "keras2") if fmt == "h5" else (K3, "keras3")
    path = folder / "from_rnnkit" / f"{case}.{fmt}"
    batches = np.load(K2 / "from_rnnkit" / "batches.npz")
    keras_next = np.load(path.with_suffix(f".{tag}.npz"))
    model = _load_quietly(path)
    # What Keras held after loading rnnkit's file is rnnkit's state, entry for entry (Keras 2
    # lists no learning rate; Keras 3 stores Nadam's u_product in float32).
    keras_state = [keras_next[k] for k in sorted(keras_next.files) if k.startswith("opt")]
    ours = export_state(model.optimizer, model.trainable_weights,
                        "keras2" if fmt == "h5" else "keras3")
    assert len(keras_state) == len(ours)
    for theirs, mine in zip(keras_state, ours):
        np.testing.assert_allclose(theirs, mine, rtol=1e-7)
    model.train_on_batch(batches["x2"], batches["y2"])
    keras_weights = [keras_next[k] for k in sorted(keras_next.files) if k.startswith("w")]
    diff = _max_diff(model.get_weights(), keras_weights)
    if fmt == "h5" and case == "nadam":  # tf.keras 2.12 restarts u_product (test above)
        assert diff > 1e-3
    else:
        assert diff < ATOL


@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_keras_loaded_rnnkit_state_without_warnings(fmt):
    folder = K2 if fmt == "h5" else K3
    report = json.loads((folder / "from_rnnkit" / "resume_report.json").read_text())
    assert set(report["cases"]) == set(RNNKIT_CASES)
    for case in report["cases"].values():
        assert case["after_load"]["iterations"] == 2
        assert not [w for w in case["warnings"]
                    if "optimizer" in w.lower() and "retracing" not in w]


# ---------------------------------------------------------------------- the written layout
def _small_model():
    model = Sequential([LSTM(4, return_sequences=True, input_shape=(5, 3)), GRU(3), Dense(2)])
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def _trained(optimizer, steps=2, loss="mse", metrics=None):
    model = _small_model()
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    rng = np.random.default_rng(5)
    for _ in range(steps):
        model.train_on_batch(rng.normal(size=(6, 5, 3)).astype(np.float32),
                             rng.normal(size=(6, 2)).astype(np.float32))
    return model


def _archive(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json")), archive.read("model.weights.h5")


def _vars_layout(weights_h5):
    import io
    with h5py.File(io.BytesIO(weights_h5), "r") as f:
        group = f["optimizer/vars"]
        return [(tuple(group[str(i)].shape), group[str(i)].dtype.kind)
                for i in range(len(group))]


def test_keras_archive_has_keras3_compile_config_and_optimizer_vars(tmp_path):
    ours, theirs = tmp_path / "m.keras", K3 / "rmsprop.keras"
    _trained(optimizers.RMSprop(0.01, momentum=0.5, centered=True)).save(ours)
    config, weights = _archive(ours)
    keras_config, keras_weights = _archive(theirs)
    compile_config = config["compile_config"]
    expected = keras_config["compile_config"]
    assert set(compile_config) == set(expected)
    assert set(compile_config["optimizer"]) == set(expected["optimizer"])
    assert compile_config["optimizer"]["class_name"] == "RMSprop"
    assert set(compile_config["optimizer"]["config"]) == \
        set(expected["optimizer"]["config"])
    assert compile_config["loss"] == "mse"
    assert _vars_layout(weights) == [(s, "f" if k == "f" else "i")
                                     for s, k in _vars_layout(keras_weights)]


def _names(group):
    return [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs["weight_names"]]


def test_h5_has_tf212_training_config_and_optimizer_weights(tmp_path):
    ours, theirs = tmp_path / "m.h5", K2 / "adam_amsgrad.h5"
    clear_session()  # the names Keras's first model gets: lstm/lstm_cell, ...
    _trained(optimizers.Adam(0.01, amsgrad=True)).save(ours)
    with h5py.File(ours, "r") as mine, h5py.File(theirs, "r") as keras:
        config = json.loads(mine.attrs["training_config"])
        keras_config = json.loads(keras.attrs["training_config"])
        assert set(config) == set(keras_config)
        assert config["optimizer_config"]["class_name"] == "Custom>Adam"
        assert set(config["optimizer_config"]["config"]) == \
            set(keras_config["optimizer_config"]["config"])
        names = _names(mine["optimizer_weights"])
        assert names == _names(keras["optimizer_weights"])
        for name in names:
            assert mine["optimizer_weights"][name].shape == \
                keras["optimizer_weights"][name].shape


def test_loss_object_and_metrics_round_trip(tmp_path):
    model = _trained(optimizers.Adam(0.01), loss=losses.MeanSquaredError(), metrics=["mae"])
    for suffix in ("h5", "keras"):
        model.save(tmp_path / f"m.{suffix}")
        loaded = _load_quietly(tmp_path / f"m.{suffix}")
        assert isinstance(loaded.loss, losses.MeanSquaredError)
        logs = loaded.train_on_batch(np.zeros((2, 5, 3), np.float32), np.zeros((2, 2), np.float32),
                                     return_dict=True)
        assert set(logs) == {"loss", "mae"}


def test_per_output_loss_list_round_trips(tmp_path):
    model = _trained(optimizers.Adam(0.01), loss=[losses.Huber(delta=0.5)])
    for suffix in ("h5", "keras"):
        model.save(tmp_path / f"m.{suffix}")
        loaded = _load_quietly(tmp_path / f"m.{suffix}")
        assert isinstance(loaded.loss[0], losses.Huber)
        assert loaded.loss[0].get_config()["delta"] == 0.5


def test_loss_config_survives_a_keras3_file(tmp_path):
    model = _small_model()
    model.compile("adam", loss=losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1))
    model.save(tmp_path / "m.keras")
    loaded = _load_quietly(tmp_path / "m.keras")
    assert loaded.loss.get_config()["from_logits"] is True
    assert loaded.loss.get_config()["label_smoothing"] == pytest.approx(0.1)


def test_unstepped_optimizer_saves_and_loads_fresh_without_warning(tmp_path):
    model = _small_model()
    model.compile(optimizers.Adam(0.01), "mse")
    for suffix in ("h5", "keras"):
        model.save(tmp_path / f"m.{suffix}")
        loaded = _load_quietly(tmp_path / f"m.{suffix}")
        assert loaded.optimizer.iterations == 0


def test_include_optimizer_false_and_uncompiled_models_write_no_compile_info(tmp_path):
    model = _trained(optimizers.Adam(0.01))
    model.save(tmp_path / "m.h5", include_optimizer=False)
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f
    assert getattr(load_model(tmp_path / "m.h5"), "optimizer", None) is None
    _small_model().save(tmp_path / "u.keras")
    config, weights = _archive(tmp_path / "u.keras")
    assert "compile_config" not in config
    with pytest.raises(KeyError):
        _vars_layout(weights)


def test_torch_optimizer_is_saved_without_compile_info_with_a_warning(tmp_path):
    model = _small_model()
    model.compile(torch.optim.SGD(model.parameters(), lr=0.1), "mse")
    with pytest.warns(UserWarning, match=r"saved without its compile config and optimizer "
                                         r"state: its optimizer \(torch\.optim\.sgd\.SGD\) has "
                                         r"no Keras equivalent"):
        model.save(tmp_path / "m.keras")
    assert "compile_config" not in _archive(tmp_path / "m.keras")[0]


# ---------------------------------------------------------------------- rnnkit's round trip
ALL_OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.05),
    "sgd_momentum": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adam": lambda: optimizers.Adam(0.01),
    "adam_amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True),
    "adam_schedule": lambda: optimizers.Adam(optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)),
    "adamw": lambda: optimizers.AdamW(0.01),
    "nadam": lambda: optimizers.Nadam(0.01),
    "adamax": lambda: optimizers.Adamax(0.01),
    "adagrad": lambda: optimizers.Adagrad(0.05),
    "adadelta": lambda: optimizers.Adadelta(1.0),
}


@pytest.mark.parametrize("name", sorted(ALL_OPTIMIZERS))
def test_save_load_continue_equals_uninterrupted_training(tmp_path, name):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 5, 3)).astype(np.float32)
    y = rng.normal(size=(8, 2)).astype(np.float32)
    make = ALL_OPTIMIZERS[name]
    straight = _small_model()
    straight.compile(make(), "mse")
    straight.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    first = _small_model()
    first.compile(make(), "mse")
    first.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for suffix in ("h5", "keras"):
        first.save(tmp_path / f"m.{suffix}")
        resumed = _load_quietly(tmp_path / f"m.{suffix}")
        assert type(resumed.optimizer) is type(straight.optimizer)
        resumed.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        assert resumed.optimizer.iterations == straight.optimizer.iterations == 4
        for a, b in zip(resumed.get_weights(), straight.get_weights()):
            np.testing.assert_array_equal(a, b, err_msg=f"{name}, .{suffix}")


@pytest.mark.parametrize("source,target", [("keras", "h5"), ("h5", "keras")])
def test_state_survives_converting_between_formats(tmp_path, source, target):
    """Keras 3 archive -> tf.keras 2 .h5 and back (``rnnkit convert``): the other format's
    slot order, the same third step as the Keras that wrote the source."""
    path = _keras_file(source, "rmsprop")
    data = np.load(path.with_suffix(".npz"))
    _load_quietly(path).save(tmp_path / f"m.{target}")
    model = _load_quietly(tmp_path / f"m.{target}")
    model.train_on_batch(data["x2"], data["y2"])
    assert _max_diff(model.get_weights(), _weights(data, "continue")) < ATOL


def test_changed_learning_rate_is_restored(tmp_path):
    model = _trained(optimizers.Adam(0.01))
    model.optimizer.learning_rate = 0.003  # e.g. ReduceLROnPlateau
    for suffix in ("h5", "keras"):
        model.save(tmp_path / f"m.{suffix}")
        assert _load_quietly(tmp_path / f"m.{suffix}").optimizer.learning_rate == 0.003


# ---------------------------------------------------------------------- bad state in a file
def _fresh_and_intact(model, reference):
    assert model.optimizer.iterations == 0 and not model.optimizer._slots
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_h5_with_a_missing_optimizer_weight_warns_and_loads_fresh(tmp_path):
    model = _trained(optimizers.Adam(0.01))
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:
        names = list(f["optimizer_weights"].attrs["weight_names"])
        f["optimizer_weights"].attrs["weight_names"] = names[:-1]
    with pytest.warns(UserWarning, match=r"'.*m\.h5': the optimizer state in the file "
                                         r"\(optimizer_weights\) was not restored: Adam with these "
                                         r"settings over 8 trainable weights has 17 state "
                                         r"variables, the file has 16\. Training resumes with "
                                         r"fresh Adam state\."):
        loaded = load_model(path)
    _fresh_and_intact(loaded, model)
    loaded.train_on_batch(np.zeros((2, 5, 3), np.float32), np.zeros((2, 2), np.float32))


def test_keras_archive_with_a_wrong_shape_warns_and_loads_fresh(tmp_path):
    model = _trained(optimizers.SGD(0.05, momentum=0.9))
    path = tmp_path / "m.keras"
    model.save(path)
    config, weights = _archive(path)
    import io
    buffer = io.BytesIO(weights)
    with h5py.File(buffer, "r+") as f:
        del f["optimizer/vars/3"]
        f["optimizer/vars"].create_dataset("3", data=np.zeros((5, 5), np.float32))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", buffer.getvalue())
    with pytest.warns(UserWarning, match=r"m\.keras': the optimizer state in the file "
                                         r"\(optimizer/vars\) was not restored: variable 3 \('m' "
                                         r"of trainable weight 1\) has shape \(5, 5\), the weight "
                                         r"has \(4, 16\)\."):
        loaded = load_model(path)
    _fresh_and_intact(loaded, model)


def test_legacy_optimizer_file_resumes_as_tf212_resumed_it():
    """tf.keras's legacy optimizers (TF <= 2.10) store ``Adam/iter:0``, every m, then every v
    (``Adam/<var>/m:0``): read by name, rnnkit's step equals tf.keras 2.12's legacy Adam's."""
    data = np.load(K2 / "legacy_adam.npz")
    report = json.loads((K2 / "legacy_adam.json").read_text())
    model = _load_quietly(K2 / "legacy_adam.h5")
    assert model.optimizer.iterations == report["keras_load"]["iterations"] == 1
    model.train_on_batch(data["x"], data["y"])
    assert _max_diff(model.get_weights(), _weights(data, "reload")) < ATOL


def test_legacy_state_for_an_optimizer_without_a_legacy_reading_warns(tmp_path):
    path = tmp_path / "m.h5"
    shutil.copy(K2 / "legacy_adam.h5", path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["training_config"])
        config["optimizer_config"] = {"class_name": "Nadam", "config": {"learning_rate": 0.01}}
        f.attrs["training_config"] = json.dumps(config).encode()
    with pytest.warns(UserWarning, match=r"m\.h5': the optimizer state in the "
                                         r"file \(optimizer_weights\) was not restored: the file "
                                         r"holds a tf\.keras legacy optimizer's state \(first "
                                         r"entry 'Adam/iter:0'\), which rnnkit reads only for "
                                         r"Adam, .* not Nadam\."):
        loaded = load_model(path)
    assert type(loaded.optimizer).__name__ == "Nadam" and loaded.optimizer.iterations == 0


def test_misnamed_state_is_refused_not_misread(tmp_path):
    """Same count and shapes, but the names say another order: refused with the entry."""
    model = _trained(optimizers.Adam(0.01))
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:
        group = f["optimizer_weights"]
        names = _names(group)
        names[1], names[2] = names[2], names[1]  # v before m for the first weight
        group.attrs["weight_names"] = [n.encode() for n in names]
    with pytest.warns(UserWarning, match=r"entry 'Adam/v/lstm.*/kernel:0' should be the 'm' "
                                         r"slot of trainable weight 0 \(tf\.keras 2\.11\+ "
                                         r"order\)"):
        loaded = load_model(path)
    _fresh_and_intact(loaded, model)


def test_damaged_optimizer_group_warns_and_the_model_still_loads(tmp_path):
    model = _trained(optimizers.Adam(0.01))
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:
        name = f["optimizer_weights"].attrs["weight_names"][1]
        del f["optimizer_weights"][name]
        f["optimizer_weights"].create_group(name)
    with pytest.warns(UserWarning, match=r"m\.h5': the optimizer state in the file was not "
                                         r"restored: .*should be an array"):
        loaded = load_model(path)
    _fresh_and_intact(loaded, model)


def test_keras_archive_with_a_gap_in_optimizer_vars_warns_and_loads_fresh(tmp_path):
    import io
    model = _trained(optimizers.Adam(0.01))
    path = tmp_path / "m.keras"
    model.save(path)
    config, weights = _archive(path)
    buffer = io.BytesIO(weights)
    with h5py.File(buffer, "r+") as f:
        f["optimizer/vars"].move("5", "50")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", buffer.getvalue())
    with pytest.warns(UserWarning, match=r"m\.keras': the optimizer state in the file was not "
                                         r"restored: .*'optimizer/vars' should hold entries "
                                         r"0\.\.17"):
        loaded = load_model(path)
    _fresh_and_intact(loaded, model)


def test_keras2_file_compiled_with_other_settings_warns(tmp_path):
    """The training config says RMSprop with momentum; a file whose state has no momentum
    slots (edited config) does not fit and is skipped with the reason."""
    path = tmp_path / "m.h5"
    shutil.copy(K2 / "adagrad.h5", path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["training_config"])
        config["optimizer_config"] = {"class_name": "Custom>Adam",
                                      "config": {"learning_rate": 0.01}}
        f.attrs["training_config"] = json.dumps(config).encode()
    with pytest.warns(UserWarning, match=r"Adam with these settings over 8 trainable weights has "
                                         r"17 state variables, the file has 9"):
        loaded = load_model(path)
    assert type(loaded.optimizer).__name__ == "Adam" and loaded.optimizer.iterations == 0


@pytest.mark.parametrize("suffix", ["h5", "keras"])
def test_functional_models_honour_include_optimizer(tmp_path, suffix):
    from rnnkit import Input
    from rnnkit.models import Model
    inputs = Input(shape=(5, 3))
    model = Model(inputs, Dense(2)(GRU(3)(inputs)))
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    rng = np.random.default_rng(5)
    model.train_on_batch(rng.normal(size=(6, 5, 3)).astype(np.float32),
                         rng.normal(size=(6, 2)).astype(np.float32))
    model.save(tmp_path / f"with.{suffix}")
    model.save(tmp_path / f"without.{suffix}", include_optimizer=False)
    assert _load_quietly(tmp_path / f"with.{suffix}").optimizer.iterations == 1
    assert getattr(load_model(tmp_path / f"without.{suffix}"), "optimizer", None) is None
