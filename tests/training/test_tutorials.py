"""The three tutorials a learner runs after the seed notebook, end to end on bundled data,
plus the adding problem. Each must *learn*, not just run. Kept short for CI (single-threaded
torch: tiny models are fastest that way and the CI machine's 2 cores are shared)."""
import numpy as np
import pytest
import torch

from rnnkit import callbacks, datasets, optimizers, utils
from rnnkit.layers import LSTM, Dense, Embedding, SimpleRNN
from rnnkit.models import Sequential
from rnnkit.preprocessing.text import Tokenizer


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_forecasting_tutorial_beats_the_naive_forecast_on_airline():
    utils.set_random_seed(0)
    passengers = datasets.airline_passengers().values
    log_change = np.diff(np.log(passengers))           # month-on-month change of log(passengers)
    window, test_months = 12, 24
    train_end = len(log_change) - test_months
    mean, std = log_change[:train_end].mean(), log_change[:train_end].std()
    z = ((log_change - mean) / std).astype("float32")[:, None]
    # windows of 12 months; target = the change in the month after each window
    windows = utils.timeseries_dataset_from_array(z[:-1], z[window:], sequence_length=window,
                                                  batch_size=1000)
    x, y = next(iter(windows))
    x_train, y_train = x[:-test_months], y[:-test_months]
    x_test = x[-test_months:]

    model = Sequential([LSTM(32, input_shape=(window, 1)), Dense(1)])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    history = model.fit(x_train, y_train, epochs=150, batch_size=16, validation_split=0.2,
                        verbose=0, callbacks=[callbacks.EarlyStopping(
                            patience=15, restore_best_weights=True)])
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert len(history.epoch) < 150  # early stopping ended it

    predicted_change = model.predict(x_test, verbose=0)[:, 0] * std + mean
    last_month = np.log(passengers[-test_months - 1:-1])
    actual = passengers[-test_months:]
    forecast = np.exp(last_month + predicted_change)
    naive = passengers[-test_months - 1:-1]
    rmse = lambda f: float(np.sqrt(np.mean((f - actual) ** 2)))  # noqa: E731
    # measured: forecast RMSE ~21 thousand passengers against ~52 for the naive forecast
    assert rmse(forecast) < 0.7 * rmse(naive), (rmse(forecast), rmse(naive))


def _reviews(n, rng):
    good = ["good", "great", "excellent", "wonderful", "loved"]
    bad = ["bad", "awful", "terrible", "boring", "hated"]
    filler = ["the", "film", "was", "and", "plot", "actors", "a", "story", "it", "really",
              "music", "ending", "very", "quite", "this"]
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(filler, rng.integers(3, 14)))
        label = int(rng.integers(0, 2))
        words.insert(int(rng.integers(0, len(words) + 1)), rng.choice(good if label else bad))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, np.array(labels, "float32")


def test_classification_tutorial_masked_embedding_lstm():
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    texts, labels = _reviews(600, rng)
    test_texts, test_labels = _reviews(200, rng)
    tokenizer = Tokenizer(num_words=100, oov_token="<OOV>")
    tokenizer.fit_on_texts(texts)
    x = utils.pad_sequences(tokenizer.texts_to_sequences(texts), maxlen=16)
    x_test = utils.pad_sequences(tokenizer.texts_to_sequences(test_texts), maxlen=16)

    model = Sequential([Embedding(100, 16, mask_zero=True), LSTM(16),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, labels, epochs=12, batch_size=32, validation_split=0.2, verbose=0)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    loss, accuracy = model.evaluate(x_test, test_labels, verbose=0)
    assert accuracy > 0.9, history.history


def test_char_level_text_generator_learns():
    utils.set_random_seed(0)
    text = datasets.text_corpus()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    encoded = np.array([index[c] for c in text])
    seq_len = 30
    windows = utils.timeseries_dataset_from_array(encoded[:-1], encoded[seq_len:], seq_len,
                                                  sequence_stride=2, batch_size=64,
                                                  shuffle=True, seed=0)
    model = Sequential([Embedding(len(chars), 24), LSTM(96),
                        Dense(len(chars), activation="softmax")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(windows, epochs=8, verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    # uniform guessing is ln(vocab) ~ 3.9; the letter frequencies alone give about 3.0
    assert last < 2.3 and last < 0.7 * first, history.history["loss"]

    # generate: sample the next character repeatedly from the model's distribution
    seed_text = text[:seq_len]
    context = [index[c] for c in seed_text]
    rng = np.random.default_rng(0)
    generated = []
    for _ in range(40):
        probs = model.predict(np.array([context[-seq_len:]]), verbose=0)[0].astype("float64")
        nxt = int(rng.choice(len(chars), p=probs / probs.sum()))
        generated.append(chars[nxt])
        context.append(nxt)
    assert len(generated) == 40 and all(c in chars for c in generated)


def test_adding_problem_simple_rnn_fails_where_lstm_succeeds():
    """Length 50: predicting the mean scores MSE ~0.167. Measured (seed 0, 16 epochs):
    SimpleRNN(32) test MSE 0.161 (nothing learned), LSTM(32) 0.003."""
    length = 50
    x, y = datasets.adding_problem(3000, length, seed=0)
    x_test, y_test = datasets.adding_problem(500, length, seed=1)
    results = {}
    for layer in (SimpleRNN, LSTM):
        utils.set_random_seed(0)
        model = Sequential([layer(32, input_shape=(length, 2)), Dense(1)])
        model.compile(optimizer=optimizers.Adam(0.005), loss="mse")
        model.fit(x, y, epochs=16, batch_size=50, verbose=0)
        results[layer.__name__] = model.evaluate(x_test, y_test, verbose=0)
    baseline = float(np.mean((y_test - 1.0) ** 2))
    assert results["SimpleRNN"] > 0.8 * baseline, results
    assert results["LSTM"] < 0.1 * baseline, results
