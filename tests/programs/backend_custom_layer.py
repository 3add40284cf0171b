"""Keras 2 custom layers written with keras.backend (Sequential, no compute_output_shape):
an attention layer over LSTM outputs and a layer that changes the last axis, with an
InputSpec."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import backend as K
    from tensorflow.keras.layers import LSTM, Dense, Embedding, InputSpec, Layer
    from tensorflow.keras.models import Sequential
else:
    import rnnkit as keras
    from rnnkit import backend as K
    from rnnkit.layers import LSTM, Dense, Embedding, InputSpec, Layer
    from rnnkit.models import Sequential

keras.utils.set_random_seed(14)


class Attention(Layer):
    def __init__(self, **kwargs):
        super(Attention, self).__init__(**kwargs)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        self.W = self.add_weight(name="att_weight", shape=(input_shape[-1], 1),
                                 initializer="glorot_uniform")
        self.b = self.add_weight(name="att_bias", shape=(input_shape[1], 1),
                                 initializer="zeros")
        super(Attention, self).build(input_shape)

    def call(self, x):
        et = K.squeeze(K.tanh(K.dot(x, self.W) + self.b), axis=-1)
        at = K.softmax(et)
        at = K.expand_dims(at, axis=-1)
        output = x * at
        return K.sum(output, axis=1)


class Project(Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
        super().build(input_shape)

    def call(self, x):
        return K.relu(K.dot(x, self.kernel))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)


model = Sequential()
model.add(Embedding(60, 8, input_length=10))
model.add(LSTM(16, return_sequences=True))
model.add(Attention())
model.add(Project(12))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()
rng = np.random.default_rng(0)
x = rng.integers(0, 60, (48, 10))
y = (x.mean(axis=1) > 30).astype("float32")
h = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
print("LOSS fit", h.history["loss"][-1])
print("SHAPE predict", model.predict(x[:2], verbose=0).shape)
try:
    Attention()(np.zeros((2, 5), dtype="float32"))
except ValueError as e:
    print("InputSpec error:", str(e).splitlines()[0])
