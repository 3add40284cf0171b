"""Deep Learning with Python's (2nd ed., ch. 10) Jena temperature forecasting, small: a
normalised multivariate series windowed by timeseries_dataset_from_array (sampling_rate,
sequence_length, targets shifted by a delay), a naive baseline, an LSTM with
recurrent_dropout and Dropout, stacked GRUs and a Bidirectional LSTM, each trained on the
datasets and evaluated."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(43)
rng = np.random.default_rng(43)
n = 1200
t = np.arange(n)
temperature = 10 + 8 * np.sin(2 * np.pi * t / 144) + rng.normal(0, 0.5, n)
raw_data = np.stack([temperature, np.cos(2 * np.pi * t / 144) + rng.normal(0, 0.1, n),
                     rng.normal(0, 1, n)], axis=1).astype("float32")
num_train_samples = int(0.5 * len(raw_data))
num_val_samples = int(0.25 * len(raw_data))
num_test_samples = len(raw_data) - num_train_samples - num_val_samples
print("num_train_samples:", num_train_samples)
mean = raw_data[:num_train_samples].mean(axis=0)
raw_data -= mean
std = raw_data[:num_train_samples].std(axis=0)
raw_data /= std

sampling_rate = 3
sequence_length = 40
delay = sampling_rate * (sequence_length + 6 - 1)
batch_size = 64

train_dataset = keras.utils.timeseries_dataset_from_array(
    raw_data[:-delay], targets=temperature[delay:], sampling_rate=sampling_rate,
    sequence_length=sequence_length, shuffle=True, batch_size=batch_size, start_index=0,
    end_index=num_train_samples)
val_dataset = keras.utils.timeseries_dataset_from_array(
    raw_data[:-delay], targets=temperature[delay:], sampling_rate=sampling_rate,
    sequence_length=sequence_length, shuffle=True, batch_size=batch_size,
    start_index=num_train_samples, end_index=num_train_samples + num_val_samples)
test_dataset = keras.utils.timeseries_dataset_from_array(
    raw_data[:-delay], targets=temperature[delay:], sampling_rate=sampling_rate,
    sequence_length=sequence_length, shuffle=True, batch_size=batch_size,
    start_index=num_train_samples + num_val_samples)
for samples, targets in train_dataset:
    print("samples shape:", tuple(samples.shape))
    print("targets shape:", tuple(targets.shape))
    break


def evaluate_naive_method(dataset):
    total_abs_err = 0.
    samples_seen = 0
    for samples, targets in dataset:
        preds = np.asarray(samples)[:, -1, 0] * std[0] + mean[0]
        total_abs_err += np.sum(np.abs(preds - np.asarray(targets)))
        samples_seen += samples.shape[0]
    return total_abs_err / samples_seen


print("LOSS naive validation MAE", evaluate_naive_method(val_dataset))

inputs = keras.Input(shape=(sequence_length, raw_data.shape[-1]))
x = layers.LSTM(16, recurrent_dropout=0.25)(inputs)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
model.summary()
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="mse",
              metrics=["mae"])
history = model.fit(train_dataset, epochs=2, validation_data=val_dataset, verbose=0)
print("history keys:", sorted(history.history))
print("LOSS lstm test MAE", model.evaluate(test_dataset, verbose=0)[1])

inputs = keras.Input(shape=(sequence_length, raw_data.shape[-1]))
x = layers.GRU(16, recurrent_dropout=0.5, return_sequences=True)(inputs)
x = layers.GRU(16, recurrent_dropout=0.5)(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
model.summary()

inputs = keras.Input(shape=(sequence_length, raw_data.shape[-1]))
x = layers.Bidirectional(layers.LSTM(16))(inputs)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
model.summary()
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="mse",
              metrics=["mae"])
history = model.fit(train_dataset, epochs=2, validation_data=val_dataset, verbose=0)
print("LOSS bidirectional test MAE", model.evaluate(test_dataset, verbose=0)[1])
