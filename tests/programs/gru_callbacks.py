"""A classifier trained with callbacks (EarlyStopping with restore_best_weights,
ReduceLROnPlateau, a LambdaCallback) and validation_split; history keys and the
learning rate after training."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(17)
rng = np.random.default_rng(0)
x = rng.normal(size=(120, 10, 4)).astype("float32")
y = keras.utils.to_categorical((x[:, :, 0].sum(axis=1) > 0).astype(int) +
                               (x[:, :, 1].sum(axis=1) > 0).astype(int), 3)
print("SHAPE y", y.shape)
model = keras.models.Sequential()
model.add(layers.GRU(16, input_shape=(10, 4), dropout=0.1, recurrent_dropout=0.1))
model.add(layers.Dense(3, activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-2),
              metrics=["accuracy"])
model.summary()
seen = []
callbacks = [
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
    keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
    keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch)),
]
h = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.2, callbacks=callbacks,
              verbose=0)
print("KEYS", sorted(h.history))
print("epochs seen", seen)
print("LOSS val", h.history["val_loss"][-1])
probs = model.predict(x[:4], verbose=0)
print("SHAPE probs", probs.shape, "rows sum to 1", bool(np.allclose(probs.sum(axis=1), 1,
                                                                     atol=1e-5)))
