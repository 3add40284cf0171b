"""Callbacks with Keras hooks and arguments."""
import csv
import math
import os

import numpy as np
import pytest
import torch

from rnnkit import callbacks, optimizers, utils
from rnnkit.layers import Dense
from rnnkit.models import Sequential


def _model(lr=0.1):
    utils.set_random_seed(0)
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(1)])
    model.compile(optimizers.SGD(lr), "mse")
    return model


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, x[:, :1] * 2.0


def test_hooks_fire_in_keras_order():
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None): events.append("train_begin")
        def on_epoch_begin(self, epoch, logs=None): events.append(f"epoch_begin{epoch}")
        def on_batch_begin(self, batch, logs=None): events.append(f"batch_begin{batch}")
        def on_batch_end(self, batch, logs=None): events.append(f"batch_end{batch}:{sorted(logs)}")
        def on_epoch_end(self, epoch, logs=None): events.append(f"epoch_end{epoch}:{sorted(logs)}")
        def on_train_end(self, logs=None): events.append("train_end")

    x, y = _data(8)
    _model().fit(x, y, batch_size=4, epochs=1, verbose=0, validation_data=(x, y),
                 callbacks=[Recorder()])
    assert events == ["train_begin", "epoch_begin0", "batch_begin0", "batch_end0:['loss']",
                      "batch_begin1", "batch_end1:['loss']", "epoch_end0:['loss', 'val_loss']",
                      "train_end"]


def test_early_stopping_patience_and_restore_best_weights():
    x, y = _data()
    model = _model()
    losses = iter([1.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0])
    snapshots = []

    class FakeVal(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(losses)
            snapshots.append(self.model.get_weights())

    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=7, verbose=0, callbacks=[FakeVal(), stop])
    assert h.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best_epoch == 1
    for got, best in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(got, best)


def test_early_stopping_start_from_epoch_and_mode_auto():
    stop = callbacks.EarlyStopping(monitor="val_accuracy", start_from_epoch=3)
    assert stop.monitor_op is np.greater
    x, y = _data()
    model = _model()

    class Acc(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_accuracy"] = 0.5  # never improves
    h = model.fit(x, y, epochs=10, verbose=0, callbacks=[Acc(), stop])
    assert h.epoch[-1] == 4  # first counted at epoch 3, stops one epoch later


def test_early_stopping_warns_on_missing_metric():
    x, y = _data()
    with pytest.warns(UserWarning, match="conditioned on metric `val_loss` which is not "
                                         "available"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.EarlyStopping()])


def test_model_checkpoint_templates_best_only_atomic(tmp_path):
    x, y = _data()
    path = str(tmp_path / "ckpt-{epoch:02d}-{loss:.2f}.weights.npz")
    ckpt = callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True,
                                     save_weights_only=True)
    h = _model().fit(x, y, epochs=3, verbose=0, callbacks=[ckpt])
    files = sorted(os.listdir(tmp_path))
    assert files[0] == f"ckpt-01-{h.history['loss'][0]:.2f}.weights.npz"
    assert len(files) == 3 and not any(f.startswith(".") for f in files)
    with np.load(tmp_path / files[-1]) as saved:
        assert len(saved.files) == 4


def test_model_checkpoint_bad_template_key(tmp_path):
    x, y = _data()
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "{val_acc:.2f}.npz"))
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[ckpt])


def test_reduce_lr_on_plateau_and_lr_logged():
    x, y = _data()
    model = _model(lr=0.1)

    class Flat(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = 1.0
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=0.02)
    h = model.fit(x, y, epochs=5, verbose=0, callbacks=[Flat(), cb])
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.02])
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_one_and_two_arguments():
    x, y = _data()
    model = _model()
    h = model.fit(x, y, epochs=3, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))])
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    h = model.fit(x, y, epochs=2, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda e, lr: lr * 0.5)])
    assert h.history["lr"] == pytest.approx([0.1 / 6, 0.1 / 12])


def test_csv_logger(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    _model().fit(x, y, epochs=2, verbose=0, validation_split=0.25,
                 callbacks=[callbacks.CSVLogger(str(path))])
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "loss", "val_loss"] and len(rows) == 3 and rows[2][0] == "1"


def test_terminate_on_nan():
    x, y = _data()
    y[0] = np.nan
    h = _model().fit(x, y, epochs=3, batch_size=8, verbose=0,
                     callbacks=[callbacks.TerminateOnNaN()])
    assert len(h.epoch) == 1 and math.isnan(h.history["loss"][0])


def test_lambda_callback():
    ends = []
    x, y = _data()
    _model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: ends.append(epoch),
        on_batch_end=lambda batch, logs: ends.append(("b", round(logs["loss"], 9) > 0)))])
    assert ends == [("b", True), ("b", True), 0, ("b", True), ("b", True), 1]


def test_callbacks_must_be_callback_instances():
    x, y = _data()
    with pytest.raises(TypeError, match="callbacks must be rnnkit.callbacks.Callback"):
        _model().fit(x, y, verbose=0, callbacks=[lambda: None])


def test_model_checkpoint_keras_formats_use_the_models_savers(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch}.h5"), save_weights_only=True),
        callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="loss",
                                  save_best_only=True)])
    assert sorted(os.listdir(tmp_path)) == ["best.keras", "w-1.h5", "w-2.h5"]
    clone = _model()
    clone.load_weights(str(tmp_path / "w-2.h5"))
    for a, b in zip(clone.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
