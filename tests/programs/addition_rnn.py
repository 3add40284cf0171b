"""Keras 2 examples/addition_rnn.py: learn to add numbers given as strings (seq2seq with
RepeatVector), one-hot inputs built as dtype=bool."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import layers
else:
    import rnnkit as keras
    from rnnkit import layers

keras.utils.set_random_seed(1)
DIGITS, TRAINING_SIZE = 2, 400
MAXLEN = DIGITS + 1 + DIGITS
chars = "0123456789+ "


class CharacterTable:
    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.char_indices = dict((c, i) for i, c in enumerate(self.chars))
        self.indices_char = dict((i, c) for i, c in enumerate(self.chars))

    def encode(self, C, num_rows):
        x = np.zeros((num_rows, len(self.chars)))
        for i, c in enumerate(C):
            x[i, self.char_indices[c]] = 1
        return x

    def decode(self, x, calc_argmax=True):
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.indices_char[x] for x in x)


ctable = CharacterTable(chars)
rng = np.random.default_rng(0)
questions, expected = [], []
while len(questions) < TRAINING_SIZE:
    a, b = (int(rng.integers(0, 10 ** DIGITS)) for _ in range(2))
    q = "{}+{}".format(a, b)
    questions.append(q + " " * (MAXLEN - len(q)))
    ans = str(a + b)
    expected.append(ans + " " * (DIGITS + 1 - len(ans)))

x = np.zeros((len(questions), MAXLEN, len(chars)), dtype=bool)
y = np.zeros((len(questions), DIGITS + 1, len(chars)), dtype=bool)
for i, sentence in enumerate(questions):
    x[i] = ctable.encode(sentence, MAXLEN)
for i, sentence in enumerate(expected):
    y[i] = ctable.encode(sentence, DIGITS + 1)
split_at = len(x) - len(x) // 10
(x_train, x_val), (y_train, y_val) = (x[:split_at], x[split_at:]), (y[:split_at], y[split_at:])
print("Training Data:", x_train.shape, y_train.shape)

model = keras.Sequential()
model.add(layers.LSTM(32, input_shape=(MAXLEN, len(chars))))
model.add(layers.RepeatVector(DIGITS + 1))
for _ in range(1):
    model.add(layers.LSTM(32, return_sequences=True))
model.add(layers.Dense(len(chars), activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()

for epoch in range(1, 3):
    history = model.fit(x_train, y_train, batch_size=32, epochs=1, verbose=0,
                        validation_data=(x_val, y_val))
    print("LOSS epoch", epoch, history.history["loss"][0])
    print("KEYS", sorted(history.history))
preds = np.argmax(model.predict(x_val[:3], verbose=0), axis=-1)
print("SHAPE predictions", preds.shape)
print("decoded length", len(ctable.decode(preds[0], calc_argmax=False)))
