"""A stateful character-level RNN (the "char-rnn" tutorials in Keras 2): Embedding and two
GRU(stateful=True) layers with batch_input_shape, trained on consecutive batches with
shuffle=False and reset_states between epochs (a LambdaCallback), then copied into a
batch-size-1 model with set_weights and sampled one character at a time, states carried
between predict_on_batch calls and cleared with reset_states."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras.layers import GRU, Dense, Embedding
    from tensorflow.keras.models import Sequential
else:
    import rnnkit as keras
    from rnnkit.layers import GRU, Dense, Embedding
    from rnnkit.models import Sequential

keras.utils.set_random_seed(41)
text = "the quick brown fox jumps over the lazy dog. " * 12
chars = sorted(set(text))
char_to_idx = {c: i for i, c in enumerate(chars)}
idx_to_char = {i: c for c, i in char_to_idx.items()}
vocab = len(chars)
print("vocab size", vocab)
BATCH_SIZE, SEQ_LEN = 8, 16
encoded = np.array([char_to_idx[c] for c in text], dtype="int32")
steps = (len(encoded) - 1) // (BATCH_SIZE * SEQ_LEN)
usable = steps * BATCH_SIZE * SEQ_LEN
# batch b, row r continues row r of batch b - 1 (what stateful training needs)
X = encoded[:usable].reshape(BATCH_SIZE, steps, SEQ_LEN).transpose(1, 0, 2).reshape(-1, SEQ_LEN)
Y = encoded[1:usable + 1].reshape(BATCH_SIZE, steps, SEQ_LEN).transpose(1, 0, 2).reshape(
    -1, SEQ_LEN)
print("SHAPE X", X.shape, "SHAPE Y", Y.shape)


def build_model(batch_size, seq_len):
    model = Sequential()
    model.add(Embedding(vocab, 16, batch_input_shape=(batch_size, seq_len)))
    model.add(GRU(32, return_sequences=True, stateful=True))
    model.add(GRU(32, return_sequences=True, stateful=True))
    model.add(Dense(vocab, activation="softmax"))
    return model


model = build_model(BATCH_SIZE, SEQ_LEN)
model.summary()
model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
              metrics=["sparse_categorical_accuracy"])
reset = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: model.reset_states())
history = model.fit(X, Y[..., None], batch_size=BATCH_SIZE, epochs=3, shuffle=False,
                    callbacks=[reset], verbose=0)
print("history keys:", sorted(history.history))
print("LOSS fit", history.history["loss"][-1])
states = model.layers[1].states
print("stateful states after fit:", len(states), tuple(states[0].shape))

sampler = build_model(1, 1)
sampler.set_weights(model.get_weights())
sampler.reset_states()
generated = "the "
for c in generated[:-1]:
    sampler.predict_on_batch(np.array([[char_to_idx[c]]]))
current = char_to_idx[generated[-1]]
for _ in range(20):
    probs = sampler.predict_on_batch(np.array([[current]]))
    current = int(np.argmax(probs[0, -1]))
    generated += idx_to_char[current]
print("generated", len(generated), "characters")
print("SHAPE probs", probs.shape)
sampler.reset_states()
print("states cleared:", bool(np.all(np.asarray(sampler.layers[1].states[0]) == 0)))
