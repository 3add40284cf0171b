"""callbacks.TensorBoard: epoch (and batch) scalars through torch.utils.tensorboard's
SummaryWriter, in tf.keras 2.12's layout (train/ and validation/, epoch_<metric>); without
the tensorboard package, one warning and training goes on."""
import sys
import types
import warnings

import numpy as np
import pytest

import rnnkit as keras


def small_model():
    keras.backend.clear_session()
    model = keras.Sequential([keras.layers.GRU(3, input_shape=(4, 2)), keras.layers.Dense(1)])
    model.compile("adam", "mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    return model, rng.normal(size=(16, 4, 2)).astype("float32"), rng.normal(size=(16, 1))


class FakeWriter:
    written: list = []

    def __init__(self, log_dir):
        self.log_dir = log_dir

    def add_scalar(self, tag, value, step):
        FakeWriter.written.append((self.log_dir, tag, round(value, 6), step))

    def flush(self):
        pass

    def close(self):
        FakeWriter.written.append((self.log_dir, "closed", None, None))


def test_scalars_are_written_as_tf_keras_names_them(monkeypatch, tmp_path):
    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    FakeWriter.written = []
    model, x, y = small_model()
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
                        callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    train, val = str(tmp_path / "train"), str(tmp_path / "validation")
    tags = {(d, tag, step) for d, tag, _, step in FakeWriter.written}
    for step in (0, 1):
        assert {(train, "epoch_loss", step), (train, "epoch_mae", step),
                (val, "epoch_loss", step), (val, "epoch_mae", step)} <= tags
    loss_1 = [v for d, tag, v, step in FakeWriter.written
              if (d, tag, step) == (train, "epoch_loss", 1)]
    assert loss_1 == [round(history.history["loss"][1], 6)]
    assert (train, "closed", None, None) in FakeWriter.written


def test_batch_scalars_with_update_freq(monkeypatch, tmp_path):
    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    FakeWriter.written = []
    model, x, y = small_model()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, update_freq="batch")])
    steps = [step for _, tag, _, step in FakeWriter.written if tag == "batch_loss"]
    assert steps == [1, 2, 3, 4]


def test_without_tensorboard_one_warning_and_training_goes_on(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    model, x, y = small_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                            callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    messages = [str(w.message) for w in caught if "TensorBoard" in str(w.message)]
    assert len(messages) == 1 and "no logs are written" in messages[0]
    assert len(history.history["loss"]) == 3
    assert not (tmp_path / "train").exists()


@pytest.mark.parametrize("name", ["TensorBoard"])
def test_callbacks_module_lists_it(name):
    assert name in keras.callbacks.__all__
