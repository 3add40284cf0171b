"""Variable-length float sequences with Masking, TimeDistributed(Dense) per step, an
LSTM returning sequences, sample weights and predict/evaluate with verbose output."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(16)
rng = np.random.default_rng(0)
lengths = rng.integers(3, 9, 60)
x = np.zeros((60, 8, 2), dtype="float32")
for i, n in enumerate(lengths):
    x[i, :n] = rng.normal(size=(n, 2))
y = np.cumsum(x[..., :1], axis=1)

model = keras.Sequential([
    layers.Masking(mask_value=0.0, input_shape=(8, 2)),
    layers.LSTM(12, return_sequences=True),
    layers.TimeDistributed(layers.Dense(1)),
])
model.compile(optimizer="adam", loss="mse")
model.summary()
h = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
print("LOSS train", h.history["loss"][-1])
print("LOSS evaluate", model.evaluate(x, y))
print("SHAPE predict", model.predict(x[:3]).shape)
weights = np.ones(60)
weights[:30] = 0.5
h = model.fit(x, y, sample_weight=weights, epochs=1, batch_size=20, verbose=0)
print("LOSS weighted", h.history["loss"][-1])
