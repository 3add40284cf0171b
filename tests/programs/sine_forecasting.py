"""A sine-wave forecasting tutorial: windows of a noisy sine, SimpleRNN and LSTM models fed
2-D windows (samples, timesteps) for an input of shape (timesteps, 1), as many blog
posts do; evaluate and predict."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
else:
    import rnnkit as keras

keras.utils.set_random_seed(11)
rng = np.random.default_rng(0)
series = np.sin(np.arange(400) * 0.1) + rng.normal(0, 0.05, 400)
window = 20
X = np.array([series[i: i + window] for i in range(len(series) - window)], dtype="float32")
y = series[window:].astype("float32")
X_train, y_train, X_test, y_test = X[:300], y[:300], X[300:], y[300:]
print("SHAPE X_train", X_train.shape)

model = keras.models.Sequential([
    keras.layers.SimpleRNN(16, input_shape=(window, 1)),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse",
              metrics=["mae"])
model.summary()
history = model.fit(X_train, y_train, epochs=5, batch_size=np.int64(32),
                    validation_data=(X_test, y_test), verbose=0)
print("LOSS train", history.history["loss"][-1])
print("KEYS", sorted(history.history))
mse, mae = model.evaluate(X_test, y_test)
print("LOSS test", mse)
print("SHAPE forecast", model.predict(X_test[:5]).shape)

deep = keras.models.Sequential([
    keras.layers.LSTM(16, return_sequences=True, input_shape=[None, 1]),
    keras.layers.LSTM(8),
    keras.layers.Dense(1),
])
deep.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.01))
deep.summary()
h = deep.fit(X_train[..., np.newaxis], y_train, epochs=2, verbose=2, batch_size=32)
print("LOSS deep", h.history["loss"][-1])
