"""keras.io guide "Working with RNNs": built-in layers, return_sequences, states,
encoder-decoder with initial_state, Bidirectional, cross-batch statefulness, RNN(cell)."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(6)
model = keras.Sequential()
model.add(layers.Embedding(input_dim=1000, output_dim=64))
model.add(layers.LSTM(128))
model.add(layers.Dense(10))
model.build((None, None))
model.summary()

model = keras.Sequential()
model.add(layers.Embedding(input_dim=1000, output_dim=64))
model.add(layers.GRU(256, return_sequences=True))
model.add(layers.SimpleRNN(128))
model.add(layers.Dense(10))
model.build((None, 7))
model.summary()

encoder_vocab, decoder_vocab = 1000, 2000
encoder_input = layers.Input(shape=(None,))
encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(encoder_input)
output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(encoder_embedded)
encoder_state = [state_h, state_c]
decoder_input = layers.Input(shape=(None,))
decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(decoder_input)
decoder_output = layers.LSTM(64, name="decoder")(decoder_embedded, initial_state=encoder_state)
output = layers.Dense(10)(decoder_output)
model = keras.Model([encoder_input, decoder_input], output)
model.summary()

paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
lstm_layer = layers.LSTM(64, stateful=True)
output = lstm_layer(paragraph1)
output = lstm_layer(paragraph2)
existing_state = lstm_layer.states
print("SHAPE states", [tuple(s.shape) for s in existing_state])
new_lstm_layer = layers.LSTM(64)
new_output = new_lstm_layer(paragraph2, initial_state=existing_state)
print("SHAPE new_output", tuple(new_output.shape))
lstm_layer.reset_states()

model = keras.Sequential()
model.add(layers.Bidirectional(layers.LSTM(64, return_sequences=True), input_shape=(5, 10)))
model.add(layers.Bidirectional(layers.LSTM(32)))
model.add(layers.Dense(10))
model.summary()

batch_size, units, output_size = 64, 64, 10
lstm_layer = keras.layers.RNN(keras.layers.LSTMCell(units), input_shape=(None, 28))
model = keras.models.Sequential([lstm_layer, keras.layers.Dense(32),
                                keras.layers.Dense(output_size)])
model.summary()
x_train = np.random.random((128, 28, 28)).astype("float32")
y_train = np.random.randint(0, 10, (128,))
model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer="sgd", metrics=["accuracy"])
h = model.fit(x_train, y_train, validation_data=(x_train[:32], y_train[:32]),
              batch_size=batch_size, epochs=1, verbose=0)
print("LOSS fit", h.history["loss"][0])
print("SHAPE predict", model.predict(x_train[:3], verbose=0).shape)
