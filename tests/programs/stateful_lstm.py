"""Keras 2 examples/stateful_lstm.py: a stateful LSTM with batch_input_shape, trained
epoch by epoch with shuffle=False and reset_states() in between."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras.layers import LSTM, Dense
    from tensorflow.keras.models import Sequential
else:
    import rnnkit as keras
    from rnnkit.layers import LSTM, Dense
    from rnnkit.models import Sequential

keras.utils.set_random_seed(10)
input_len, tsteps, lahead, batch_size, epochs = 200, 2, 1, 10, 2
to_drop = max(tsteps - 1, lahead - 1)
rng = np.random.default_rng(0)
data_input = rng.uniform(-0.1, 0.1, (input_len + to_drop, 1))
expected_output = np.convolve(data_input[:, 0], np.ones(tsteps) / tsteps, "valid")[:, None]
data_input = np.stack([data_input[i: i + tsteps, 0] for i in range(input_len)])[:, :, None]
expected_output = expected_output[:input_len]
print("Input shape:", data_input.shape)
print("Output shape:", expected_output.shape)


def create_model(stateful):
    model = Sequential()
    model.add(LSTM(20, input_shape=(tsteps, 1), batch_size=batch_size, stateful=stateful))
    model.add(Dense(1))
    model.compile(loss="mse", optimizer="adam")
    return model


model_stateful = create_model(stateful=True)
model_stateful.summary()
for i in range(epochs):
    h = model_stateful.fit(data_input[:160], expected_output[:160], batch_size=batch_size,
                           epochs=1, verbose=0, validation_data=(data_input[160:],
                                                                 expected_output[160:]),
                           shuffle=False)
    print("LOSS stateful epoch", i, h.history["loss"][0])
    model_stateful.reset_states()
predicted_stateful = model_stateful.predict(data_input[160:], batch_size=batch_size, verbose=0)
print("SHAPE stateful predict", predicted_stateful.shape)
lstm = model_stateful.layers[0]
lstm.reset_states(states=[np.ones((batch_size, 20)), np.zeros((batch_size, 20))])
print("states set", [float(np.asarray(keras.backend.get_value(s)).sum()) for s in lstm.states])
model_stateless = create_model(stateful=False)
model_stateless.summary()
h = model_stateless.fit(data_input[:160], expected_output[:160], batch_size=batch_size,
                        epochs=epochs, verbose=0, shuffle=False)
print("LOSS stateless", h.history["loss"][-1])
