"""A GRU regressor compiled with the user's own loss and metric functions written with
backend ops (the blog-post rmse / custom MAE), a callback that stops training through
self.model.stop_training, saved to .h5 and loaded back with custom_objects: the reloaded model
evaluates with the same loss and metrics; loaded with compile=False it has no optimizer."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import backend as K
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import backend as K
    from rnnkit import layers

keras.utils.set_random_seed(5)


def rmse(y_true, y_pred):
    return K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1))


def my_loss(y_true, y_pred):
    return K.mean(K.abs(y_pred - y_true), axis=-1)


class StopAfterTwo(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print("EPOCH", epoch, sorted(logs or {}))
        if epoch >= 1:
            self.model.stop_training = True


rng = np.random.default_rng(1)
x = rng.random((30, 6, 2)).astype("float32")
x[:, 4:] = 0
y = x[:, :4, 0].mean(axis=1, keepdims=True)
model = keras.Sequential([layers.Masking(mask_value=0.0, input_shape=(6, 2)), layers.GRU(5),
                          layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=my_loss,
              metrics=[rmse, "mse"])
h = model.fit(x, y, epochs=5, verbose=0, callbacks=[StopAfterTwo()], validation_split=0.2)
print("HISTORY", h.epoch, sorted(h.history), model.metrics_names)
model.save("custom_loss_metric.h5")
keras.backend.clear_session()
loaded = keras.models.load_model("custom_loss_metric.h5",
                                 custom_objects={"rmse": rmse, "my_loss": my_loss})
print("SAME", np.allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0), atol=1e-6))
ours, theirs = model.evaluate(x, y, verbose=0), loaded.evaluate(x, y, verbose=0)
print("EVALUATE", len(theirs), np.allclose(ours, theirs, atol=1e-5), loaded.metrics_names)
print("OPTIMIZER", loaded.optimizer.get_config()["name"],
      round(float(K.get_value(loaded.optimizer.lr)), 6))
print("UNCOMPILED", keras.models.load_model("custom_loss_metric.h5", compile=False).optimizer)
