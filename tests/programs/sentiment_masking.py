"""Sentiment classification with a tokenizer, padded sequences, Embedding(mask_zero=True)
and masked GRU/LSTM layers (the text-classification tutorials' pattern)."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
    from tensorflow.keras.preprocessing.sequence import pad_sequences
    from tensorflow.keras.preprocessing.text import Tokenizer
else:
    import rnnkit as keras
    from rnnkit import layers
    from rnnkit.preprocessing.sequence import pad_sequences
    from rnnkit.preprocessing.text import Tokenizer

keras.utils.set_random_seed(12)
good = ["a great movie", "really good fun", "loved the acting", "great plot and good cast"]
bad = ["a terrible movie", "really bad and boring", "hated the acting", "boring plot"]
texts = (good + bad) * 8
labels = np.array(([1] * len(good) + [0] * len(bad)) * 8)
tokenizer = Tokenizer(num_words=50, oov_token="<OOV>")
tokenizer.fit_on_texts(texts)
print("vocabulary", len(tokenizer.word_index))
sequences = tokenizer.texts_to_sequences(texts)
padded = pad_sequences(sequences, maxlen=6, padding="post", truncating="post")
print("SHAPE padded", padded.shape)

model = keras.Sequential([
    layers.Embedding(50, 8, input_length=6, mask_zero=True),
    layers.Bidirectional(layers.GRU(8, return_sequences=True)),
    layers.LSTM(8),
    layers.Dense(6, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()
h = model.fit(padded, labels, epochs=3, validation_split=0.25, verbose=0)
print("LOSS train", h.history["loss"][-1])
print("KEYS", sorted(h.history))
test = pad_sequences(tokenizer.texts_to_sequences(["good fun", "bad movie"]), maxlen=6,
                     padding="post")
print("SHAPE predict", model.predict(test, verbose=0).shape)
