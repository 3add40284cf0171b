"""The Keras 2 examples' imdb_cnn_lstm: Embedding, Dropout, Conv1D, MaxPooling1D, then an
LSTM (synthetic token ids in place of the IMDB download)."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras.layers import (LSTM, Activation, Conv1D, Dense, Dropout, Embedding,
                                         MaxPooling1D)
    from tensorflow.keras.models import Sequential
else:
    import rnnkit as keras
    from rnnkit.layers import (LSTM, Activation, Conv1D, Dense, Dropout, Embedding,
                               MaxPooling1D)
    from rnnkit.models import Sequential

keras.utils.set_random_seed(3)
max_features, maxlen, embedding_size = 200, 40, 16
kernel_size, filters, pool_size, lstm_output_size = 5, 8, 4, 7
rng = np.random.default_rng(3)
x = rng.integers(1, max_features, size=(96, maxlen))
y = (x[:, :5].mean(axis=1) > max_features / 2).astype("float32")  # a learnable label

model = Sequential()
model.add(Embedding(max_features, embedding_size, input_length=maxlen))
model.add(Dropout(0.25))
model.add(Conv1D(filters, kernel_size, padding="valid", activation="relu", strides=1))
model.add(MaxPooling1D(pool_size=pool_size))
model.add(LSTM(lstm_output_size))
model.add(Dense(1))
model.add(Activation("sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()
print("PARAMS", model.count_params())
h = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, verbose=0)
print("LOSS train", h.history["loss"][-1])
print("KEYS", sorted(h.history))
score, acc = model.evaluate(x[:32], y[:32], batch_size=16, verbose=0)
print("SHAPE predict", model.predict(x[:5], verbose=0).shape)
