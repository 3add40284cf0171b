"""An LSTM classifier read from the inside, as Keras 2 tutorials and FAQ answers do: the
intermediate activations with ``K.function`` ("How can I obtain the output of an
intermediate layer?"), a feature extractor ``Model(inputs=model.input,
outputs=model.layers[-2].output)``, every layer's output at once, and a user's learning
rate schedule callback written with ``K.get_value``/``K.set_value`` on
``model.optimizer.lr``; the weights' names and values read as variables."""
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

keras.utils.set_random_seed(3)
rng = np.random.default_rng(0)
x = rng.normal(size=(96, 12, 3)).astype("float32")
labels = (x[:, :, 0].mean(axis=1) > 0).astype(int) + (x[:, -3:, 1].sum(axis=1) > 0)
y = keras.utils.to_categorical(labels, 3)

model = keras.Sequential([
    layers.LSTM(16, return_sequences=True, input_shape=(12, 3), name="encoder"),
    layers.Dropout(0.2),
    layers.LSTM(8, name="summary_lstm"),
    layers.Dense(3, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy",
              metrics=["accuracy"])
model.summary()
print("INPUT", model.input.shape, "OUTPUT", model.output.shape)
print("WEIGHTS", [w.name for w in model.weights])
print("KERNEL", model.layers[0].weights[0].numpy().shape)


class StepDecay(keras.callbacks.Callback):
    """Halve the learning rate every second epoch, the LR-finder way: K.get_value/set_value."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(K.get_value(self.model.optimizer.lr))
        if epoch and epoch % 2 == 0:
            K.set_value(self.model.optimizer.lr, lr * 0.5)
        self.rates.append(round(float(K.get_value(self.model.optimizer.lr)), 6))


decay = StepDecay()
history = model.fit(x, y, epochs=5, batch_size=16, callbacks=[decay], verbose=0)
print("RATES", decay.rates)
print("LOSS fit", history.history["loss"][-1])
print("ITERATIONS", int(model.optimizer.iterations))
model.optimizer.learning_rate.assign(0.004)
print("LR after assign", round(float(model.optimizer.learning_rate), 6))

# The Keras FAQ's way to an intermediate layer's output
get_encoder_output = K.function([model.layers[0].input], [model.layers[0].output])
encoded = get_encoder_output([x[:5]])
print("K.function", type(encoded).__name__, len(encoded), encoded[0].shape)
get_summary = K.function(model.input, model.get_layer("summary_lstm").output)
print("K.function one tensor", get_summary(x[:5]).shape)

# A feature extractor that shares the trained layers
features = keras.Model(inputs=model.input, outputs=model.layers[-2].output)
features.summary()
vectors = features.predict(x[:7], verbose=0)
print("FEATURES", vectors.shape,
      "match K.function", bool(np.allclose(vectors, get_summary(x[:7]), atol=1e-5)))
every = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
print("EVERY LAYER", [a.shape for a in every.predict(x[:2], verbose=0)])
probs = model.predict(x[:4], verbose=0)
print("SHAPE probs", probs.shape, "rows sum to 1",
      bool(np.allclose(probs.sum(axis=1), 1, atol=1e-5)))
