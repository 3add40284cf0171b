"""Machine Learning Mastery's "How to Develop LSTM Models for Time Series Forecasting" style:
split_sequence on an integer series fed as-is (NumPy int64) to a CNN-LSTM built with
TimeDistributed(Conv1D), an encoder-decoder with RepeatVector, and a multi-input multi-output
functional model fitted with one 1-D target array per output."""
import os

import numpy as np
from numpy import array

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(3)


def split_sequence(sequence, n_steps):
    X, y = list(), list()
    for i in range(len(sequence)):
        end_ix = i + n_steps
        if end_ix > len(sequence) - 1:
            break
        X.append(sequence[i:end_ix])
        y.append(sequence[end_ix])
    return array(X), array(y)


raw_seq = [10, 20, 30, 40, 50, 60, 70, 80, 90]
X, y = split_sequence(raw_seq, 4)
print("DTYPE", X.dtype.kind, X.shape, y.shape)
n_features = 1
X = X.reshape((X.shape[0], 2, 2, n_features))
model = keras.models.Sequential()
model.add(layers.TimeDistributed(layers.Conv1D(filters=16, kernel_size=1, activation="relu"),
                                 input_shape=(None, 2, n_features)))
model.add(layers.TimeDistributed(layers.MaxPooling1D(pool_size=2)))
model.add(layers.TimeDistributed(layers.Flatten()))
model.add(layers.LSTM(20, activation="relu"))
model.add(layers.Dense(1))
model.compile(optimizer="adam", loss="mse")
model.summary()
history = model.fit(X, y, epochs=3, verbose=0)
print("HISTORY", sorted(history.history), len(history.history["loss"]))
x_input = array([60, 70, 80, 90]).reshape((1, 2, 2, n_features))
print("PREDICT", model.predict(x_input, verbose=0).shape)

rng = np.random.default_rng(0)
X2, y2 = rng.random((10, 3, 2)), rng.random((10, 2, 1))
m = keras.models.Sequential()
m.add(layers.LSTM(20, activation="relu", input_shape=(3, 2)))
m.add(layers.RepeatVector(2))
m.add(layers.LSTM(20, activation="relu", return_sequences=True))
m.add(layers.TimeDistributed(layers.Dense(1)))
m.compile(optimizer="adam", loss="mse")
m.summary()
m.fit(X2, y2, epochs=2, verbose=0)
print("PREDICT", m.predict(X2[:1], verbose=0).shape)

visible1 = keras.Input(shape=(3, 1))
visible2 = keras.Input(shape=(3, 1))
merge = layers.concatenate([layers.LSTM(10)(visible1), layers.LSTM(10)(visible2)])
dense = layers.Dense(16, activation="relu")(merge)
mm = keras.Model(inputs=[visible1, visible2], outputs=[layers.Dense(1)(dense),
                                                       layers.Dense(1)(dense)])
mm.compile(optimizer="adam", loss="mse")
mm.summary()
xa, xb = rng.random((8, 3, 1)), rng.random((8, 3, 1))
ya, yb = xa.sum(axis=(1, 2)), xb.mean(axis=(1, 2))
h = mm.fit([xa, xb], [ya, yb], epochs=1, verbose=0)
print("HISTORY", sorted(h.history), mm.metrics_names)
print("EVALUATE", len(mm.evaluate([xa, xb], [ya, yb], verbose=0)))
pr = mm.predict([xa, xb], verbose=0)
print("PREDICT", type(pr).__name__, len(pr), pr[0].shape, pr[1].shape)
