"""The Keras docs' AbstractRNNCell example (MinimalRNNCell: state_size as a property, no
output_size) in RNN, in Bidirectional and back from JSON with custom_objects, and a
user-written Wrapper layer (the "write your own wrapper" pattern: subclass
keras.layers.Wrapper, use self.layer) around a Dense and a recurrent layer."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import backend
else:
    import rnnkit as keras
    from rnnkit import backend

keras.utils.set_random_seed(29)


class MinimalRNNCell(keras.layers.AbstractRNNCell):

    def __init__(self, units, **kwargs):
        self.units = units
        super(MinimalRNNCell, self).__init__(**kwargs)

    @property
    def state_size(self):
        return self.units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform",
                                      name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units),
            initializer="uniform",
            name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = backend.dot(inputs, self.kernel)
        output = h + backend.dot(prev_output, self.recurrent_kernel)
        return output, output

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


class ResidualWrapper(keras.layers.Wrapper):
    """Adds the wrapped layer's output to its input (the layer keeps the feature size)."""

    def call(self, inputs, **kwargs):
        return inputs + self.layer(inputs, **kwargs)


print("TimeDistributed is a Wrapper:",
      isinstance(keras.layers.TimeDistributed(keras.layers.Dense(1)), keras.layers.Wrapper))
print("Bidirectional is a Wrapper:",
      isinstance(keras.layers.Bidirectional(keras.layers.LSTM(1)), keras.layers.Wrapper))

inputs = keras.Input((None, 5))
x = keras.layers.RNN(MinimalRNNCell(8), return_sequences=True)(inputs)
x = ResidualWrapper(keras.layers.LSTM(8, return_sequences=True))(x)
x = keras.layers.Bidirectional(keras.layers.RNN(MinimalRNNCell(4)))(x)
x = ResidualWrapper(keras.layers.Dense(8, activation="tanh"))(x)
outputs = keras.layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
model.summary()
model.compile(optimizer="adam", loss="mse")
data = np.random.rand(48, 6, 5).astype("float32")
target = data.mean(axis=(1, 2))[:, None]
history = model.fit(data, target, epochs=3, batch_size=16, verbose=0)
print("LOSS fit", history.history["loss"][-1])
wrapper = model.layers[2]
print("wrapper.layer:", type(wrapper.layer).__name__)
print("wrapper config keys:", sorted(wrapper.get_config()))
clone = keras.models.model_from_json(
    model.to_json(), custom_objects={"MinimalRNNCell": MinimalRNNCell,
                                     "ResidualWrapper": ResidualWrapper})
clone.set_weights(model.get_weights())
print("clone predicts the same:",
      bool(np.allclose(clone.predict(data[:4], verbose=0), model.predict(data[:4], verbose=0),
                       atol=1e-5)))
print("SHAPE predict", model.predict(data[:4], verbose=0).shape)
