"""TensorFlow's "Time series forecasting" tutorial, autoregressive part: the FeedBack
model, a subclassed Model with an LSTMCell wrapped in RNN(return_state=True) for the warmup
and called step by step on its own predictions; MeanSquaredError / MeanAbsoluteError
objects, EarlyStopping, evaluate. (tf.stack/tf.transpose read keras.backend.stack and
permute_dimensions, so only the imports differ.)"""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    import tensorflow.keras as keras
    from tensorflow.keras import backend as K
else:
    import rnnkit as keras
    from rnnkit import backend as K

keras.utils.set_random_seed(23)
rng = np.random.default_rng(23)
num_features = 3
OUT_STEPS = 4
IN_STEPS = 12
t = np.arange(500, dtype="float32")
df = np.stack([np.sin(t * 0.1), np.cos(t * 0.05), rng.normal(0, 0.1, t.size)], axis=1)
df = ((df - df.mean(0)) / df.std(0)).astype("float32")
starts = np.arange(0, len(df) - IN_STEPS - OUT_STEPS, 4)
inputs = np.stack([df[s: s + IN_STEPS] for s in starts])
labels = np.stack([df[s + IN_STEPS: s + IN_STEPS + OUT_STEPS] for s in starts])
train_x, train_y, val_x, val_y = inputs[:96], labels[:96], inputs[96:], labels[96:]
print("SHAPE inputs", train_x.shape, "SHAPE labels", train_y.shape)


class FeedBack(keras.Model):
    def __init__(self, units, out_steps):
        super().__init__()
        self.out_steps = out_steps
        self.units = units
        self.lstm_cell = keras.layers.LSTMCell(units)
        # Also wrap the LSTMCell in an RNN to simplify the `warmup` method.
        self.lstm_rnn = keras.layers.RNN(self.lstm_cell, return_state=True)
        self.dense = keras.layers.Dense(num_features)

    def warmup(self, inputs):
        # inputs.shape => (batch, time, features); x.shape => (batch, lstm_units)
        x, *state = self.lstm_rnn(inputs)
        # predictions.shape => (batch, features)
        prediction = self.dense(x)
        return prediction, state

    def call(self, inputs, training=None):
        predictions = []
        prediction, state = self.warmup(inputs)
        predictions.append(prediction)
        for n in range(1, self.out_steps):
            x = prediction
            x, state = self.lstm_cell(x, states=state, training=training)
            prediction = self.dense(x)
            predictions.append(prediction)
        # predictions.shape => (time, batch, features)
        predictions = K.stack(predictions)
        # predictions.shape => (batch, time, features)
        predictions = K.permute_dimensions(predictions, [1, 0, 2])
        return predictions


feedback_model = FeedBack(units=16, out_steps=OUT_STEPS)
prediction, state = feedback_model.warmup(train_x[:8])
print("SHAPE warmup prediction", tuple(prediction.shape))
print("states", len(state), [tuple(s.shape) for s in state])
print("Output shape (batch, time, features): ", tuple(feedback_model(train_x[:8]).shape))

MAX_EPOCHS = 3


def compile_and_fit(model, patience=2):
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                                   mode="min")
    model.compile(loss=keras.losses.MeanSquaredError(),
                  optimizer=keras.optimizers.Adam(),
                  metrics=[keras.metrics.MeanAbsoluteError()])
    history = model.fit(train_x, train_y, epochs=MAX_EPOCHS, batch_size=16,
                        validation_data=(val_x, val_y), callbacks=[early_stopping], verbose=0)
    return history


history = compile_and_fit(feedback_model)
print("history keys:", sorted(history.history))
print("LOSS fit", history.history["loss"][-1])
feedback_model.summary()
val_performance = feedback_model.evaluate(val_x, val_y, verbose=0)
print("LOSS val", val_performance[0])
print("LOSS val mae", val_performance[1])
print("SHAPE predict", feedback_model.predict(val_x, verbose=0).shape)
