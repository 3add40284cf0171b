"""Keras 2 examples/babi_memnn.py style memory network on synthetic stories: Embedding,
dot, softmax attention, add, concatenate, LSTM (the Permute of the original is folded into
the dot's axes)."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras.layers import (LSTM, Activation, Dense, Dropout, Embedding, Input,
                                         add, concatenate, dot)
    from tensorflow.keras.models import Model, Sequential
else:
    import rnnkit as keras
    from rnnkit.layers import (LSTM, Activation, Dense, Dropout, Embedding, Input, add,
                               concatenate, dot)
    from rnnkit.models import Model, Sequential

keras.utils.set_random_seed(5)
vocab_size, story_maxlen, query_maxlen, n = 22, 14, 4, 128
rng = np.random.default_rng(0)
inputs_train = rng.integers(1, vocab_size, (n, story_maxlen))
queries_train = rng.integers(1, vocab_size, (n, query_maxlen))
answers_train = inputs_train[:, 0] % vocab_size
print("inputs_train shape:", inputs_train.shape)

input_sequence = Input((story_maxlen,))
question = Input((query_maxlen,))
input_encoder_m = Sequential()
input_encoder_m.add(Embedding(input_dim=vocab_size, output_dim=16))
input_encoder_m.add(Dropout(0.3))
input_encoder_c = Sequential()
input_encoder_c.add(Embedding(input_dim=vocab_size, output_dim=query_maxlen))
input_encoder_c.add(Dropout(0.3))
question_encoder = Sequential()
question_encoder.add(Embedding(input_dim=vocab_size, output_dim=16, input_length=query_maxlen))
question_encoder.add(Dropout(0.3))
input_encoded_m = input_encoder_m(input_sequence)
input_encoded_c = input_encoder_c(input_sequence)
question_encoded = question_encoder(question)
match = dot([input_encoded_m, question_encoded], axes=(2, 2))
match = Activation("softmax")(match)
response = add([match, input_encoded_c])
answer = concatenate([dot([response, input_encoded_m], axes=(1, 1)), question_encoded])
answer = LSTM(16)(answer)
answer = Dropout(0.3)(answer)
answer = Dense(vocab_size)(answer)
answer = Activation("softmax")(answer)
model = Model([input_sequence, question], answer)
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.summary()
h = model.fit([inputs_train, queries_train], answers_train, batch_size=32, epochs=2,
              validation_data=([inputs_train, queries_train], answers_train), verbose=0)
print("LOSS last", h.history["loss"][-1])
print("SHAPE predict", model.predict([inputs_train[:5], queries_train[:5]], verbose=0).shape)
