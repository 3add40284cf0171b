"""The optimizer's learning rate and step count as Keras variables: K.set_value/get_value,
assign, float, numpy, attribute assignment, as tf.keras 2.12 (program_api.json), and the
new value drives the next update."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit as keras
from rnnkit import backend as K
from rnnkit import optimizers

RECORD = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras2_program_api"
                     / "program_api.json").read_text())["learning_rate"]


def compiled():
    keras.backend.clear_session()
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    model.compile(optimizers.Adam(), "mse")
    return model


def test_learning_rate_variable_matches_tf_keras():
    model = compiled()
    opt = model.optimizer
    assert repr(opt.lr) == RECORD["repr_lr"]
    assert repr(opt.learning_rate) == RECORD["repr_learning_rate"]
    assert repr(opt.iterations) == RECORD["repr_iterations"]
    K.set_value(opt.lr, 0.01)
    value = K.get_value(opt.lr)
    assert type(value).__name__ == RECORD["get_value"]["type"]
    assert float(value) == RECORD["get_value"]["value"]
    assert float(opt.lr) == RECORD["float_after_set"]
    opt.learning_rate.assign(0.004)
    assert float(opt.learning_rate) == RECORD["float_after_assign"]
    assert type(opt.lr.numpy()).__name__ == RECORD["numpy_type"]
    opt.lr = 0.02
    assert repr(opt.lr) == RECORD["repr_after_attribute"]
    assert float(opt.lr * 0.5) == RECORD["times_half"]
    assert f"{float(opt.lr):.4f}" == RECORD["format"] == f"{opt.lr:.4f}"
    with pytest.raises(ValueError) as caught:
        K.set_value(opt.lr, "x")
    assert str(caught.value) == RECORD["set_string_error"]["message"]
    model.fit(np.zeros((8, 3)), np.zeros((8, 2)), batch_size=4, epochs=1, verbose=0)
    assert repr(opt.iterations) == RECORD["iterations_after_fit"]["repr"]
    assert int(opt.iterations) == RECORD["iterations_after_fit"]["int"]


def test_a_schedule_is_read_not_set():
    scheduled = optimizers.Adam(optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    assert repr(scheduled.learning_rate) == RECORD["schedule_repr"]
    with pytest.raises(TypeError) as caught:
        scheduled.learning_rate = 0.1
    assert str(caught.value) == RECORD["schedule_set_error"]["message"]
    with pytest.raises(TypeError):
        K.set_value(scheduled.lr, 0.1)


def test_legacy_names_of_the_variables():
    legacy = optimizers.legacy.Adam(0.01)
    assert repr(legacy.lr) == RECORD["legacy_repr_lr"]
    assert repr(legacy.iterations) == RECORD["legacy_repr_iterations"]


def test_the_new_rate_drives_the_next_step():
    """SGD without momentum moves a weight by exactly lr * grad: set the rate each way and
    the step follows."""
    weight = torch.nn.Parameter(torch.zeros(3))
    opt = optimizers.SGD(0.1)
    for setter, rate in ((lambda v: K.set_value(opt.lr, v), 0.5),
                         (lambda v: opt.learning_rate.assign(v), 0.25),
                         (lambda v: setattr(opt, "lr", v), 0.125)):
        setter(rate)
        before = weight.detach().clone()
        opt.apply_gradients([(torch.ones(3), weight)])
        np.testing.assert_allclose((before - weight.detach()).numpy(), rate, rtol=1e-6)
    assert int(opt.iterations) == 3
    opt.iterations.assign(10)
    assert opt._iterations == 10 and opt.iterations == 10


def test_fit_follows_a_rate_set_by_a_callback():
    """A user's schedule callback sets lr to 0 from the second epoch: the weights stop."""
    model = compiled()
    model.compile(optimizers.SGD(0.1), "mse")
    snapshots = []

    class Freeze(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                K.set_value(self.model.optimizer.lr, 0.0)

        def on_epoch_end(self, epoch, logs=None):
            snapshots.append([w.copy() for w in self.model.get_weights()])

    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    model.fit(x, np.ones((16, 2), "float32"), epochs=3, verbose=0, callbacks=[Freeze()])
    for a, b in zip(snapshots[0], snapshots[2]):
        np.testing.assert_array_equal(a, b)
    assert float(K.get_value(model.optimizer.lr)) == 0.0
