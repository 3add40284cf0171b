"""Keras 2 examples/imdb_bidirectional_lstm.py with synthetic reviews (ids in place of the
IMDB download)."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
    from tensorflow.keras.preprocessing import sequence
else:
    import rnnkit as keras
    from rnnkit import layers
    from rnnkit.preprocessing import sequence

keras.utils.set_random_seed(2)
max_features, maxlen, batch_size = 200, 20, 16
rng = np.random.default_rng(0)
x_train = [list(rng.integers(1, max_features, rng.integers(5, 30))) for _ in range(96)]
y_train = np.array([int(sum(s) % 2) for s in x_train])
x_test = x_train[:32]
y_test = y_train[:32]
print(len(x_train), "train sequences")
x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = sequence.pad_sequences(x_test, maxlen=maxlen)
print("x_train shape:", x_train.shape)

model = keras.Sequential()
model.add(layers.Embedding(max_features, 16, input_length=maxlen))
model.add(layers.Bidirectional(layers.LSTM(16)))
model.add(layers.Dropout(0.5))
model.add(layers.Dense(1, activation="sigmoid"))
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
model.summary()
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=2,
                    validation_data=[x_test, y_test], verbose=0)
print("LOSS final", history.history["loss"][-1])
print("KEYS", sorted(history.history))
score, acc = model.evaluate(x_test, y_test, batch_size=batch_size)
print("LOSS test", score)
print("SHAPE predict", model.predict(x_test).shape)
