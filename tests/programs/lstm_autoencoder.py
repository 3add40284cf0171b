"""An LSTM autoencoder for time-series anomaly detection (the many "LSTM autoencoder"
tutorials): encoder LSTM, RepeatVector, decoder LSTM, TimeDistributed(Dense); trained on
normal windows with EarlyStopping on a validation split; the reconstruction error sets a
threshold that flags anomalous windows."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(5)
rng = np.random.default_rng(5)
TIME_STEPS = 12
t = np.arange(600)
normal = np.sin(t * 0.2) + rng.normal(0, 0.05, t.size)


def create_sequences(values, time_steps=TIME_STEPS):
    output = []
    for i in range(len(values) - time_steps + 1):
        output.append(values[i: (i + time_steps)])
    return np.stack(output)


mean, std = normal.mean(), normal.std()
x_train = create_sequences((normal - mean) / std)[::3, :, None].astype("float32")
print("Training input shape: ", x_train.shape)

model = keras.Sequential([
    layers.LSTM(16, input_shape=(x_train.shape[1], x_train.shape[2])),
    layers.Dropout(rate=0.2),
    layers.RepeatVector(x_train.shape[1]),
    layers.LSTM(16, return_sequences=True),
    layers.Dropout(rate=0.2),
    layers.TimeDistributed(layers.Dense(x_train.shape[2])),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mae")
model.summary()
history = model.fit(
    x_train, x_train, epochs=4, batch_size=32, validation_split=0.1, verbose=0,
    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, mode="min")],
)
print("history keys:", sorted(history.history))
print("LOSS fit", history.history["loss"][-1])

x_train_pred = model.predict(x_train, verbose=0)
train_mae_loss = np.mean(np.abs(x_train_pred - x_train), axis=1)
threshold = np.max(train_mae_loss)
print("SHAPE train_mae_loss", train_mae_loss.shape)
print("LOSS reconstruction threshold", float(threshold))

anomalous = normal.copy()
anomalous[300:320] += 4.0
x_test = create_sequences((anomalous - mean) / std)[:, :, None].astype("float32")
x_test_pred = model.predict(x_test, verbose=0)
test_mae_loss = np.mean(np.abs(x_test_pred - x_test), axis=1).reshape((-1))
anomalies = test_mae_loss > threshold
print("SHAPE test_mae_loss", test_mae_loss.shape)
print("anomalies found near the spike:", bool(anomalies[290:320].any()))
