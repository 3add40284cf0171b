"""The Keras 2 examples' conv_lstm (next-frame prediction): stacked ConvLSTM2D layers with
BatchNormalization, closed by a Conv3D (small synthetic moving squares)."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras.layers import BatchNormalization, Conv3D, ConvLSTM2D
    from tensorflow.keras.models import Sequential
else:
    import rnnkit as keras
    from rnnkit.layers import BatchNormalization, Conv3D, ConvLSTM2D
    from rnnkit.models import Sequential

keras.utils.set_random_seed(5)
frames, size = 6, 12


def moving_squares(n):
    movies = np.zeros((n, frames + 1, size, size, 1), dtype="float32")
    rng = np.random.default_rng(5)
    for i in range(n):
        x, y = rng.integers(2, size - 4, size=2)
        dx, dy = rng.integers(-1, 2, size=2)
        for t in range(frames + 1):
            px, py = np.clip(x + dx * t, 0, size - 3), np.clip(y + dy * t, 0, size - 3)
            movies[i, t, px:px + 3, py:py + 3, 0] = 1.0
    return movies[:, :-1], movies[:, 1:]


noisy, shifted = moving_squares(16)
seq = Sequential()
seq.add(ConvLSTM2D(filters=6, kernel_size=(3, 3), input_shape=(None, size, size, 1),
                   padding="same", return_sequences=True))
seq.add(BatchNormalization())
seq.add(ConvLSTM2D(filters=6, kernel_size=(3, 3), padding="same", return_sequences=True))
seq.add(BatchNormalization())
seq.add(Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same",
               data_format="channels_last"))
seq.compile(loss="binary_crossentropy", optimizer="adadelta")
seq.summary()
print("PARAMS", seq.count_params(), "trainable", sum(int(np.prod(w.shape)) for w in seq.trainable_weights))
h = seq.fit(noisy, shifted, batch_size=4, epochs=2, verbose=0)
print("LOSS train", h.history["loss"][-1])
print("SHAPE predict", seq.predict(noisy[:2], verbose=0).shape)
