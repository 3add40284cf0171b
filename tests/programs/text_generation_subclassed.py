"""TensorFlow's "Text generation with an RNN" tutorial: a subclassed model (the tutorial's
`super().__init__(self)`), GRU with states, from_logits loss, ModelCheckpoint weights to
./training_checkpoints/ckpt_{epoch}, then generation one character at a time."""
import os
import tempfile

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(8)
text = "First Citizen: Before we proceed any further, hear me speak. " * 6
vocab = sorted(set(text))
print(f"{len(vocab)} unique characters")
ids_from_chars = {c: i + 1 for i, c in enumerate(vocab)}
all_ids = np.array([ids_from_chars[c] for c in text])
seq_length = 20
sequences = np.stack([all_ids[i: i + seq_length + 1]
                      for i in range(0, len(all_ids) - seq_length - 1, seq_length // 2)])
input_text, target_text = sequences[:, :-1], sequences[:, 1:]
print("SHAPE input", input_text.shape)
vocab_size = len(vocab) + 1
embedding_dim, rnn_units = 16, 32


class MyModel(keras.Model):
    def __init__(self, vocab_size, embedding_dim, rnn_units):
        super().__init__(self)
        self.embedding = layers.Embedding(vocab_size, embedding_dim)
        self.gru = layers.GRU(rnn_units, return_sequences=True, return_state=True)
        self.dense = layers.Dense(vocab_size)

    def call(self, inputs, states=None, return_state=False, training=False):
        x = inputs
        x = self.embedding(x, training=training)
        if states is None:
            states = self.gru.get_initial_state(x)
        x, states = self.gru(x, initial_state=states, training=training)
        x = self.dense(x, training=training)
        if return_state:
            return x, states
        else:
            return x


model = MyModel(vocab_size=vocab_size, embedding_dim=embedding_dim, rnn_units=rnn_units)
example_batch_predictions = model(input_text[:4])
print("SHAPE example_batch_predictions", tuple(example_batch_predictions.shape))
model.summary()
loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
example_batch_mean_loss = loss(target_text[:4], example_batch_predictions)
print("LOSS untrained mean", float(example_batch_mean_loss))
model.compile(optimizer="adam", loss=loss)
checkpoint_dir = os.path.join(tempfile.mkdtemp(), "training_checkpoints")
checkpoint_prefix = os.path.join(checkpoint_dir, "ckpt_{epoch}")
checkpoint_callback = keras.callbacks.ModelCheckpoint(filepath=checkpoint_prefix,
                                                      save_weights_only=True)
history = model.fit(input_text, target_text, batch_size=8, epochs=2,
                    callbacks=[checkpoint_callback], verbose=0)
print("LOSS epoch2", history.history["loss"][-1])
model.load_weights(os.path.join(checkpoint_dir, "ckpt_2"))
states = None
next_char = input_text[:1, :5]
for n in range(5):
    predicted_logits, states = model(next_char, states=states, return_state=True)
    predicted_ids = np.argmax(np.asarray(predicted_logits)[:, -1, :], axis=-1)
    next_char = predicted_ids[:, None]
print("SHAPE states", tuple(states.shape))
