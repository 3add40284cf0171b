"""compile / fit / evaluate / predict on small models: Keras semantics, inputs, errors."""
import numpy as np
import pytest
import torch

from rnnkit import callbacks, constraints, optimizers, utils
from rnnkit.layers import LSTM, Dense, Dropout, Embedding, SimpleRNN
from rnnkit.models import Sequential


def _regression(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5, 2)).astype("float32")
    y = x[:, -1, :1] * 0.5 + 0.1
    return x, y


def _model(units=4, **kwargs):
    utils.set_random_seed(0)
    model = Sequential([SimpleRNN(units, input_shape=(5, 2)), Dense(1, **kwargs)])
    model.compile(optimizer=optimizers.Adam(0.05), loss="mse")
    return model


def test_fit_returns_history_with_keras_keys_and_loss_falls():
    x, y = _regression()
    model = _model()
    model.compile(optimizer=optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=8, batch_size=16, validation_split=0.25, verbose=0)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert history.epoch == list(range(8)) and model.history is history
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    x, y = _regression(n=10)
    model = _model()
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")  # no change: fixed weights
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    expected = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert model.evaluate(x, y, batch_size=3, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_evaluate_returns_list_or_dict_with_metrics():
    x, y = _regression()
    model = _model()
    model.compile("adam", "mse", metrics=["mae", "rmse"])
    values = model.evaluate(x, y, verbose=0)
    assert len(values) == 3 and values[2] == pytest.approx(np.sqrt(values[0]), rel=1e-5)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mae", "root_mean_squared_error"]


def test_regularizer_penalties_are_added_to_the_loss():
    x, y = _regression(n=8)
    utils.set_random_seed(0)
    model = Sequential([SimpleRNN(3, input_shape=(5, 2)),
                        Dense(1, kernel_regularizer="l2")])
    model.compile(optimizers.SGD(0.0), "mse")
    plain = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    penalty = 0.01 * float((model.layers[1].kernel.detach() ** 2).sum())
    assert model.evaluate(x, y, verbose=0) == pytest.approx(plain + penalty, rel=1e-5)


def test_constraints_are_applied_after_each_step():
    x, y = _regression(n=16)
    utils.set_random_seed(0)
    model = Sequential([SimpleRNN(3, input_shape=(5, 2)),
                        Dense(1, kernel_constraint=constraints.NonNeg())])
    model.compile(optimizers.SGD(1.0), "mse")
    with torch.no_grad():
        model.layers[1].kernel.fill_(-1.0)
    model.train_on_batch(x, y)
    assert float(model.layers[1].kernel.detach().min()) >= 0.0


def test_dropout_active_in_fit_only_and_eval_mode_restored():
    utils.set_random_seed(0)
    model = Sequential([Dense(50, input_shape=(4,)), Dropout(0.99), Dense(1)])
    seen = []

    class Probe(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(self.model.training)

    model.compile(optimizers.SGD(0.0), "mse")
    x = np.ones((8, 4), "float32")
    model.fit(x, np.zeros((8, 1)), epochs=1, verbose=0, callbacks=[Probe()])
    assert seen == [True] and not model.training
    a, b = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(a, b)  # no dropout at inference


def test_sample_weight_zero_removes_samples():
    x, y = _regression(n=8)
    model = _model()
    weights = np.array([1, 1, 1, 1, 0, 0, 0, 0], "float32")
    y_bad = y.copy()
    y_bad[4:] = 1000.0
    a = model.evaluate(x, y, sample_weight=weights, verbose=0)
    b = model.evaluate(x, y_bad, sample_weight=weights, verbose=0)
    assert a == pytest.approx(b)


def test_class_weight_scales_per_class():
    utils.set_random_seed(0)
    x = np.random.randn(16, 3).astype("float32")
    y = np.array([0, 1] * 8)
    model = Sequential([Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    base = model.train_on_batch(x, y)
    doubled = model.train_on_batch(x, y, class_weight={0: 2.0, 1: 2.0})
    assert doubled == pytest.approx(2 * base, rel=1e-5)


def test_inputs_torch_tensors_dataloader_generator_sequence_and_timeseries():
    x, y = _regression(n=32)
    model = _model()
    model.fit(torch.from_numpy(x), torch.from_numpy(y), epochs=1, verbose=0)
    ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    model.fit(ds, epochs=1, batch_size=8, verbose=0)
    model.fit(torch.utils.data.DataLoader(ds, batch_size=8), epochs=2, verbose=0)

    def gen():
        while True:
            yield x[:8], y[:8]
    h = model.fit(gen(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2

    class Batches(utils.Sequence):
        def __init__(self):
            self.ends = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]

        def on_epoch_end(self):
            self.ends += 1
    seq = Batches()
    model.fit(seq, epochs=2, verbose=0, validation_data=seq)
    assert seq.ends >= 2
    series = np.sin(np.arange(100) / 5).astype("float32")[:, None].repeat(2, axis=1)
    windows = utils.timeseries_dataset_from_array(series, series[5:, :1], 5, batch_size=16)
    history = model.fit(windows, epochs=2, verbose=0, validation_data=windows)
    assert "val_loss" in history.history
    assert model.predict(windows, verbose=0).shape == (95, 1)


def test_validation_split_needs_arrays():
    model = _model()

    def gen():
        yield np.zeros((2, 5, 2)), np.zeros((2, 1))
    with pytest.raises(ValueError, match="`validation_split` is only supported for Tensors"):
        model.fit(gen(), validation_split=0.2, verbose=0)


def test_fit_before_compile_and_without_loss():
    model = Sequential([Dense(1, input_shape=(2,))])
    with pytest.raises(RuntimeError, match="You must compile your model before training"):
        model.fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)
    model.compile("sgd")
    with pytest.raises(ValueError, match="No loss found"):
        model.fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)


def test_mismatched_sample_counts():
    model = _model()
    with pytest.raises(ValueError, match="Data cardinality is ambiguous: x sizes: 4, y sizes: 3"):
        model.fit(np.zeros((4, 5, 2)), np.zeros((3, 1)), verbose=0)


def test_compile_rejects_unknown_keyword():
    with pytest.raises(TypeError, match=r"Invalid keyword argument\(s\) in `compile\(\)`"):
        _model().compile("adam", "mse", metric=["mae"])


def test_torch_optimizer_and_torch_loss_interoperate():
    x, y = _regression()
    model = _model()
    model.compile(optimizer=torch.optim.Adam(model.parameters(), lr=0.05),
                  loss=torch.nn.MSELoss())
    h = model.fit(x, y, epochs=5, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_masked_sequence_classification_with_embedding():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 8, 128)
    seqs = [rng.integers(1, 10, n) for n in lengths]
    x = utils.pad_sequences(seqs, maxlen=8)
    y = (np.array([s[0] for s in seqs]) > 5).astype("float32")
    model = Sequential([Embedding(10, 8, mask_zero=True), LSTM(8), Dense(1, activation="sigmoid")])
    model.compile(optimizers.Adam(0.02), "binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert h.history["accuracy"][-1] > 0.9


def test_train_test_predict_on_batch():
    x, y = _regression(n=8)
    model = _model()
    model.compile("adam", "mse", metrics=["mae"])
    loss, mae = model.train_on_batch(x, y)
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "mae"}
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, verbose=0), atol=1e-6)


def test_stop_training_from_a_callback():
    x, y = _regression()
    model = _model()

    class Stop(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True
    h = model.fit(x, y, epochs=10, verbose=0, callbacks=[Stop()])
    assert h.epoch == [0, 1]


def test_float64_model_trains():
    x, y = _regression()
    model = _model().double()
    h = model.fit(x.astype("float64"), y.astype("float64"), epochs=2, verbose=0)
    assert model.layers[0].cell.kernel.dtype == torch.float64 and len(h.epoch) == 2


def test_one_shot_generator_runs_out_with_a_warning_and_unknown_step_count(capsys):
    x, y = _regression(n=16)
    model = _model()

    def gen():
        for i in range(0, 16, 8):
            yield x[i:i + 8], y[i:i + 8]
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        h = model.fit(gen(), epochs=3, verbose=2)
    assert h.epoch == [0]
    assert capsys.readouterr().out.splitlines()[1].startswith("2/2 - ")


def test_initial_epoch_and_validation_freq(capsys):
    x, y = _regression(n=16)
    model = _model()
    h = model.fit(x, y, epochs=5, initial_epoch=2, validation_data=(x, y), validation_freq=2,
                  verbose=2)
    assert h.epoch == [2, 3, 4] and len(h.history["loss"]) == 3
    assert len(h.history["val_loss"]) == 1  # only after epoch 4 (1-based), as Keras does
    assert capsys.readouterr().out.splitlines()[0] == "Epoch 3/5"


def test_validation_data_needs_two_or_three_items():
    x, y = _regression(n=8)
    with pytest.raises(ValueError, match="must contain either 2 items"):
        _model().fit(x, y, validation_data=(x,), verbose=0)


def test_predict_returns_a_dict_for_a_model_with_named_outputs():
    from rnnkit.layers import GRU, Dense, Input
    from rnnkit.models import Model

    inputs = Input((5, 3), name="a")
    hidden = GRU(4)(inputs)
    model = Model({"a": inputs}, {"y": Dense(2)(hidden), "z": Dense(1)(hidden)})
    x = np.random.rand(7, 5, 3).astype("float32")
    predicted = model.predict({"a": x}, batch_size=3, verbose=0)
    assert set(predicted) == {"y", "z"}
    assert predicted["y"].shape == (7, 2) and predicted["z"].shape == (7, 1)
    direct = model({"a": x})
    # predict (no autograd, small batches) runs the one-call C inference path, the direct
    # call the training loop: float32 sums in another order, equal to rounding
    np.testing.assert_allclose(predicted["z"], direct["z"].detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert set(model.predict_on_batch({"a": x[:2]})) == {"y", "z"}
