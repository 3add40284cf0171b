"""keras.io's "Working with RNNs" BatchNormalization between LSTMs, a SpatialDropout1D after
the Embedding (the text-classification tutorials' pattern), and a functional LSTM with
MultiHeadAttention over its sequence."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(9)
rng = np.random.default_rng(9)
tokens = rng.integers(1, 100, size=(64, 12))
labels = (tokens[:, 0] > 50).astype("int64")

model = keras.Sequential([
    layers.Embedding(100, 16, input_length=12),
    layers.SpatialDropout1D(0.2),
    layers.LSTM(16, return_sequences=True),
    layers.BatchNormalization(),
    layers.LSTM(8),
    layers.Dense(2, activation="softmax"),
])
model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()
h = model.fit(tokens, labels, batch_size=16, epochs=2, verbose=0)
print("LOSS train", h.history["loss"][-1])
print("SHAPE predict", model.predict(tokens[:3], verbose=0).shape)

inputs = keras.Input(shape=(12,))
x = layers.Embedding(100, 16)(inputs)
seq = layers.LSTM(16, return_sequences=True)(x)
attended = layers.MultiHeadAttention(num_heads=2, key_dim=8)(seq, seq)
x = layers.LayerNormalization()(attended + seq)
x = layers.GlobalAveragePooling1D()(x)
outputs = layers.Dense(2, activation="softmax")(x)
attention_model = keras.Model(inputs, outputs)
attention_model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
attention_model.summary()
h = attention_model.fit(tokens, labels, batch_size=16, epochs=2, verbose=0)
print("LOSS train", h.history["loss"][-1])
print("SHAPE predict", attention_model.predict(tokens[:3], verbose=0).shape)
