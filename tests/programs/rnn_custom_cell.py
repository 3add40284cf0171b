"""The keras.layers.RNN documentation's custom cell (MinimalRNNCell): a cell with
state_size, build and call, in RNN(cell), a list of cells (stacked), and back from a
config with custom_objects."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import backend as K
    from tensorflow.keras.layers import RNN
else:
    import rnnkit as keras
    from rnnkit import backend as K
    from rnnkit.layers import RNN

keras.utils.set_random_seed(9)


class MinimalRNNCell(keras.layers.Layer):

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super(MinimalRNNCell, self).__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform",
                                                name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = K.dot(inputs, self.kernel)
        output = h + K.dot(prev_output, self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


cell = MinimalRNNCell(32)
x = keras.Input((None, 5))
layer = RNN(cell)
y = layer(x)
print("SHAPE y", tuple(y.shape))
cells = [MinimalRNNCell(32), MinimalRNNCell(64)]
x = keras.Input((None, 5))
layer = RNN(cells)
y = layer(x)
print("SHAPE stacked", tuple(y.shape))
model = keras.Model(x, keras.layers.Dense(1)(y))
model.summary()
model.compile("adam", "mse")
data = np.random.rand(32, 6, 5).astype("float32")
h = model.fit(data, data.sum(axis=(1, 2)) / 30.0, epochs=2, batch_size=8, verbose=0)
print("LOSS fit", h.history["loss"][-1])
seq = keras.Sequential([RNN(MinimalRNNCell(8), input_shape=(6, 5), return_sequences=True),
                        keras.layers.Dense(2)])
seq.summary()
clone = keras.models.model_from_json(seq.to_json(),
                                     custom_objects={"MinimalRNNCell": MinimalRNNCell})
clone.summary()
print("SHAPE clone predict", clone.predict(data[:3], verbose=0).shape)
