"""Recurrent-layer API that tutorials use: layer.cell, StackedRNNCells via RNN([cells]),
return_state with stacked cells, get_initial_state, states passed between layers, and a
cell that returns (output, state) without a list."""
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

keras.utils.set_random_seed(18)
lstm = layers.LSTM(6)
print("cell class", type(lstm.cell).__name__, lstm.cell.units, list(lstm.cell.state_size))
x = np.random.rand(3, 4, 5).astype("float32")
init = lstm.get_initial_state(x)
print("SHAPE initial", [tuple(s.shape) for s in init])
cells = [layers.LSTMCell(8), layers.GRUCell(4)]
rnn = layers.RNN(cells, return_state=True, return_sequences=True)
inp = keras.Input((4, 5))
outputs = rnn(inp)
print("n outputs", len(outputs))
model = keras.Model(inp, outputs)
model.summary()
results = model.predict(x, verbose=0)
print("SHAPE stacked results", results[0].shape, [np.shape(r) for r in results[1]],
      np.shape(results[2]))


class ScaledCell(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer="glorot_uniform")
        self.built = True

    def call(self, inputs, states):
        h = K.tanh(K.dot(inputs, self.kernel) + 0.5 * states[0])
        return h, h


seq = keras.Sequential([layers.RNN(ScaledCell(7), input_shape=(4, 5)), layers.Dense(1)])
seq.summary()
seq.compile("sgd", "mse")
h = seq.fit(x, np.ones((3, 1)), epochs=2, verbose=0)
print("LOSS scaled", h.history["loss"][-1])
print("SHAPE scaled predict", seq.predict(x, verbose=0).shape)
