"""A CNN-LSTM multi-step forecaster (the machinelearningmastery style "how to develop
LSTM models for time series forecasting"): each window is split into subsequences read
by TimeDistributed Conv1D / MaxPooling1D / Flatten, an LSTM runs over the subsequences
and a Dense head predicts several steps; then the encoder-decoder variant with
RepeatVector and TimeDistributed Dense heads."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.layers import (LSTM, Conv1D, Dense, Flatten, MaxPooling1D,
                                         RepeatVector, TimeDistributed)
    from tensorflow.keras.utils import set_random_seed
else:
    from rnnkit.models import Sequential
    from rnnkit.layers import (LSTM, Conv1D, Dense, Flatten, MaxPooling1D,
                               RepeatVector, TimeDistributed)
    from rnnkit.utils import set_random_seed

set_random_seed(17)


def split_sequence(sequence, n_steps_in, n_steps_out):
    X, y = list(), list()
    for i in range(len(sequence)):
        end_ix = i + n_steps_in
        out_end_ix = end_ix + n_steps_out
        if out_end_ix > len(sequence):
            break
        seq_x, seq_y = sequence[i:end_ix], sequence[end_ix:out_end_ix]
        X.append(seq_x)
        y.append(seq_y)
    return np.array(X), np.array(y)


raw_seq = np.sin(np.arange(200) * 0.15) * 0.5 + 0.5
n_steps_in, n_steps_out = 8, 3
X, y = split_sequence(raw_seq, n_steps_in, n_steps_out)
n_features, n_seq, n_steps = 1, 2, 4
X = X.reshape((X.shape[0], n_seq, n_steps, n_features)).astype("float32")
print("SHAPE X", X.shape, "SHAPE y", y.shape)

model = Sequential()
model.add(TimeDistributed(Conv1D(filters=16, kernel_size=2, activation="relu"),
                          input_shape=(None, n_steps, n_features)))
model.add(TimeDistributed(MaxPooling1D(pool_size=2)))
model.add(TimeDistributed(Flatten()))
model.add(LSTM(20, activation="relu"))
model.add(Dense(n_steps_out))
model.compile(optimizer="adam", loss="mse")
model.summary()
history = model.fit(X, y, epochs=5, batch_size=16, verbose=0)
print("LOSS cnn-lstm", history.history["loss"][-1])
x_input = raw_seq[-n_steps_in:].reshape((1, n_seq, n_steps, n_features))
yhat = model.predict(x_input, verbose=0)
print("SHAPE yhat", yhat.shape)

# encoder-decoder: the output is a sequence of n_steps_out steps, one feature each
X2 = X.reshape((X.shape[0], n_steps_in, n_features))
y2 = y.reshape((y.shape[0], y.shape[1], n_features)).astype("float32")
model = Sequential()
model.add(Conv1D(filters=16, kernel_size=2, activation="relu",
                 input_shape=(n_steps_in, n_features)))
model.add(MaxPooling1D(pool_size=2))
model.add(Flatten())
model.add(RepeatVector(n_steps_out))
model.add(LSTM(20, activation="relu", return_sequences=True))
model.add(TimeDistributed(Dense(10, activation="relu")))
model.add(TimeDistributed(Dense(1)))
model.compile(optimizer="adam", loss="mse")
model.summary()
history = model.fit(X2, y2, epochs=5, batch_size=16, verbose=0)
print("LOSS encoder-decoder", history.history["loss"][-1])
print("SHAPE yhat", model.predict(X2[:2], verbose=0).shape)
