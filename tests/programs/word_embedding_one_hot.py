"""The word-embedding tutorial many learn Keras from: short reviews encoded with
preprocessing.text.one_hot (a hashing encoder), padded with pad_sequences, an Embedding
learned with Flatten and Dense; then the same data through Embedding(mask_zero=True) and
an LSTM, and a new review encoded and scored."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras.layers import LSTM, Dense, Embedding, Flatten
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.preprocessing.sequence import pad_sequences
    from tensorflow.keras.preprocessing.text import hashing_trick, one_hot
else:
    import rnnkit as keras
    from rnnkit.layers import LSTM, Dense, Embedding, Flatten
    from rnnkit.models import Sequential
    from rnnkit.preprocessing.sequence import pad_sequences
    from rnnkit.preprocessing.text import hashing_trick, one_hot

keras.utils.set_random_seed(3)
docs = ["Well done!", "Good work", "Great effort", "nice work", "Excellent!", "Weak",
        "Poor effort!", "not good", "poor work", "Could have done better."]
labels = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
vocab_size = 50
encoded_docs = [one_hot(d, vocab_size) for d in docs]
print(encoded_docs)
print([hashing_trick(d, vocab_size, hash_function="md5") for d in docs[:3]])
max_length = 4
padded_docs = pad_sequences(encoded_docs, maxlen=max_length, padding="post")
print(padded_docs)

model = Sequential()
model.add(Embedding(vocab_size, 8, input_length=max_length))
model.add(Flatten())
model.add(Dense(1, activation="sigmoid"))
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.summary()
model.fit(padded_docs, labels, epochs=50, verbose=0)
loss, accuracy = model.evaluate(padded_docs, labels, verbose=0)
print("LOSS flatten", loss)

lstm_model = Sequential([Embedding(vocab_size, 8, input_length=max_length, mask_zero=True),
                         LSTM(8), Dense(1, activation="sigmoid")])
lstm_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
lstm_model.summary()
history = lstm_model.fit(padded_docs, labels, epochs=30, verbose=0)
print("history keys:", sorted(history.history))
print("LOSS lstm", history.history["loss"][-1])
review = pad_sequences([one_hot("good effort, well done", vocab_size)], maxlen=max_length,
                       padding="post")
print("review:", review.tolist())
score = lstm_model.predict(review, verbose=0)
print("score shape:", score.shape, "in (0, 1):", bool(0.0 < float(score[0, 0]) < 1.0))
