"""A character-level seq2seq with attention (the lstm_seq2seq example plus the Luong /
Bahdanau attention of many NMT tutorials): an encoder LSTM returning sequences and states,
a decoder LSTM started from them, keras.layers.Attention (dot, Luong) and
AdditiveAttention (Bahdanau, with return_attention_scores) over the encoder outputs,
Concatenate, TimeDistributed softmax; then the inference encoder and decoder models that
share the trained layers, and a greedy decoding loop."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras.layers import (LSTM, AdditiveAttention, Attention, Concatenate,
                                         Dense, Input, TimeDistributed)
    from tensorflow.keras.models import Model
else:
    import rnnkit as keras
    from rnnkit.layers import (LSTM, AdditiveAttention, Attention, Concatenate, Dense, Input,
                               TimeDistributed)
    from rnnkit.models import Model

keras.utils.set_random_seed(31)
rng = np.random.default_rng(31)
num_encoder_tokens, num_decoder_tokens, latent_dim = 7, 9, 16
max_encoder_seq_length, max_decoder_seq_length, num_samples = 6, 7, 64
encoder_input_data = np.zeros((num_samples, max_encoder_seq_length, num_encoder_tokens),
                              dtype="float32")
decoder_input_data = np.zeros((num_samples, max_decoder_seq_length, num_decoder_tokens),
                              dtype="float32")
decoder_target_data = np.zeros((num_samples, max_decoder_seq_length, num_decoder_tokens),
                               dtype="float32")
for i in range(num_samples):
    source = rng.integers(0, num_encoder_tokens, max_encoder_seq_length)
    target = np.concatenate([[0], (source + 1) % (num_decoder_tokens - 1) + 1])
    encoder_input_data[i, np.arange(max_encoder_seq_length), source] = 1.0
    decoder_input_data[i, np.arange(max_decoder_seq_length), target] = 1.0
    decoder_target_data[i, np.arange(max_decoder_seq_length - 1), target[1:]] = 1.0
    decoder_target_data[i, -1, 0] = 1.0

# Luong (dot-product) attention
encoder_inputs = Input(shape=(None, num_encoder_tokens))
encoder = LSTM(latent_dim, return_sequences=True, return_state=True)
encoder_outputs, state_h, state_c = encoder(encoder_inputs)
encoder_states = [state_h, state_c]
decoder_inputs = Input(shape=(None, num_decoder_tokens))
decoder_lstm = LSTM(latent_dim, return_sequences=True, return_state=True)
decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
attention = Attention()
context = attention([decoder_outputs, encoder_outputs])
decoder_concat = Concatenate(axis=-1)
decoder_dense = TimeDistributed(Dense(num_decoder_tokens, activation="softmax"))
outputs = decoder_dense(decoder_concat([decoder_outputs, context]))
model = Model([encoder_inputs, decoder_inputs], outputs)
model.summary()
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit([encoder_input_data, decoder_input_data], decoder_target_data,
                    batch_size=16, epochs=3, validation_split=0.25, verbose=0)
print("history keys:", sorted(history.history))
print("LOSS luong", history.history["loss"][-1])

# inference: the encoder gives its outputs and states, the decoder runs one step at a time
encoder_model = Model(encoder_inputs, [encoder_outputs] + encoder_states)
encoder_seq_input = Input(shape=(None, latent_dim))
decoder_state_input_h = Input(shape=(latent_dim,))
decoder_state_input_c = Input(shape=(latent_dim,))
decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
dec_out, state_h, state_c = decoder_lstm(decoder_inputs, initial_state=decoder_states_inputs)
dec_context = attention([dec_out, encoder_seq_input])
dec_out = decoder_dense(decoder_concat([dec_out, dec_context]))
decoder_model = Model([decoder_inputs, encoder_seq_input] + decoder_states_inputs,
                      [dec_out, state_h, state_c])
decoder_model.summary()
enc_seq, h, c = encoder_model.predict(encoder_input_data[:1], verbose=0)
target_seq = np.zeros((1, 1, num_decoder_tokens), dtype="float32")
target_seq[0, 0, 0] = 1.0
decoded = []
for _ in range(max_decoder_seq_length):
    output_tokens, h, c = decoder_model.predict([target_seq, enc_seq, h, c], verbose=0)
    sampled = int(np.argmax(output_tokens[0, -1, :]))
    decoded.append(sampled)
    target_seq = np.zeros((1, 1, num_decoder_tokens), dtype="float32")
    target_seq[0, 0, sampled] = 1.0
print("decoded", len(decoded), "tokens; SHAPE states", h.shape, c.shape)

# Bahdanau (additive) attention, with the scores returned
encoder_inputs = Input(shape=(max_encoder_seq_length, num_encoder_tokens))
encoder_outputs, state_h, state_c = LSTM(latent_dim, return_sequences=True,
                                         return_state=True)(encoder_inputs)
decoder_inputs = Input(shape=(max_decoder_seq_length, num_decoder_tokens))
decoder_outputs = LSTM(latent_dim, return_sequences=True)(
    decoder_inputs, initial_state=[state_h, state_c])
context, scores = AdditiveAttention()([decoder_outputs, encoder_outputs],
                                      return_attention_scores=True)
print("SHAPE context", tuple(context.shape), "SHAPE scores", tuple(scores.shape))
outputs = Dense(num_decoder_tokens, activation="softmax")(
    Concatenate()([decoder_outputs, context]))
bahdanau = Model([encoder_inputs, decoder_inputs], outputs)
bahdanau.summary()
bahdanau.compile(optimizer="adam", loss="categorical_crossentropy")
history = bahdanau.fit([encoder_input_data, decoder_input_data], decoder_target_data,
                       batch_size=16, epochs=3, verbose=0)
print("LOSS bahdanau", history.history["loss"][-1])
scores_model = Model(bahdanau.inputs, scores)
weights = scores_model.predict([encoder_input_data[:2], decoder_input_data[:2]], verbose=0)
print("SHAPE attention weights", weights.shape,
      "rows sum to 1:", bool(np.allclose(weights.sum(-1), 1.0, atol=1e-5)))
