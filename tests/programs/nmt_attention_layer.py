"""A GRU encoder-decoder with the custom Bahdanau AttentionLayer that many Keras 2 NMT
tutorials copy (the attention_keras layer): its call loops over the decoder steps twice
with keras.backend.rnn, once for the attention energies over the encoder steps and once
for the context vectors, and returns both; its compute_output_shape names the two
shapes. Functional training model, then the inference encoder and decoder that share the
trained layers, and a greedy decode."""
import os

import numpy as np

if os.environ.get("KERAS_IMPL") == "tf":
    from tensorflow import keras
    from tensorflow.keras import backend as K
    from tensorflow.keras.layers import GRU, Concatenate, Dense, Input, Layer, TimeDistributed
    from tensorflow.keras.models import Model
else:
    import rnnkit as keras
    from rnnkit import backend as K
    from rnnkit.layers import GRU, Concatenate, Dense, Input, Layer, TimeDistributed
    from rnnkit.models import Model

keras.utils.set_random_seed(8)


class AttentionLayer(Layer):
    """Bahdanau attention: e_ij = V tanh(W s_j + U h_i), softmax over the encoder steps j."""

    def __init__(self, **kwargs):
        super(AttentionLayer, self).__init__(**kwargs)

    def build(self, input_shape):
        assert isinstance(input_shape, list)
        self.W_a = self.add_weight(name="W_a", shape=(input_shape[0][2], input_shape[0][2]),
                                   initializer="uniform", trainable=True)
        self.U_a = self.add_weight(name="U_a", shape=(input_shape[1][2], input_shape[0][2]),
                                   initializer="uniform", trainable=True)
        self.V_a = self.add_weight(name="V_a", shape=(input_shape[0][2], 1),
                                   initializer="uniform", trainable=True)
        super(AttentionLayer, self).build(input_shape)

    def call(self, inputs):
        encoder_out_seq, decoder_out_seq = inputs

        def energy_step(inputs, states):
            en_seq_len, en_hidden = encoder_out_seq.shape[1], encoder_out_seq.shape[2]
            reshaped_enc_outputs = K.reshape(encoder_out_seq, (-1, en_hidden))
            W_a_dot_s = K.reshape(K.dot(reshaped_enc_outputs, self.W_a),
                                  (-1, en_seq_len, en_hidden))
            U_a_dot_h = K.expand_dims(K.dot(inputs, self.U_a), 1)
            Ws_plus_Uh = K.tanh(K.reshape(W_a_dot_s + U_a_dot_h, (-1, en_hidden)))
            e_i = K.reshape(K.dot(Ws_plus_Uh, self.V_a), (-1, en_seq_len))
            e_i = K.softmax(e_i)
            return e_i, [e_i]

        def context_step(inputs, states):
            c_i = K.sum(encoder_out_seq * K.expand_dims(inputs, -1), axis=1)
            return c_i, [c_i]

        def create_initial_state(inputs, hidden_size):
            fake_state = K.zeros_like(inputs)
            fake_state = K.sum(fake_state, axis=[1, 2])
            fake_state = K.expand_dims(fake_state)
            return K.tile(fake_state, [1, hidden_size])

        fake_state_c = create_initial_state(encoder_out_seq, encoder_out_seq.shape[-1])
        fake_state_e = create_initial_state(encoder_out_seq, encoder_out_seq.shape[1])
        last_out, e_outputs, _ = K.rnn(energy_step, decoder_out_seq, [fake_state_e])
        last_out, c_outputs, _ = K.rnn(context_step, e_outputs, [fake_state_c])
        return c_outputs, e_outputs

    def compute_output_shape(self, input_shape):
        return [(input_shape[1][0], input_shape[1][1], input_shape[1][2]),
                (input_shape[1][0], input_shape[1][1], input_shape[0][1])]


rng = np.random.default_rng(8)
src_vocab, tgt_vocab, src_len, tgt_len, hidden, samples = 8, 9, 6, 5, 16, 96
source = rng.integers(1, src_vocab, (samples, src_len))
target = np.concatenate([np.zeros((samples, 1), int), (source[:, :tgt_len - 1] % (tgt_vocab - 1)) + 1],
                        axis=1)
encoder_data = np.eye(src_vocab, dtype="float32")[source]
decoder_data = np.eye(tgt_vocab, dtype="float32")[target]
target_data = np.eye(tgt_vocab, dtype="float32")[np.concatenate([target[:, 1:], np.zeros((samples, 1), int)], axis=1)]

encoder_inputs = Input(batch_shape=(None, src_len, src_vocab), name="encoder_inputs")
decoder_inputs = Input(batch_shape=(None, tgt_len - 1 + 1, tgt_vocab), name="decoder_inputs")
encoder_gru = GRU(hidden, return_sequences=True, return_state=True, name="encoder_gru")
encoder_out, encoder_state = encoder_gru(encoder_inputs)
decoder_gru = GRU(hidden, return_sequences=True, return_state=True, name="decoder_gru")
decoder_out, decoder_state = decoder_gru(decoder_inputs, initial_state=encoder_state)
attn_layer = AttentionLayer(name="attention_layer")
attn_out, attn_states = attn_layer([encoder_out, decoder_out])
decoder_concat_input = Concatenate(axis=-1, name="concat_layer")([decoder_out, attn_out])
dense = Dense(tgt_vocab, activation="softmax", name="softmax_layer")
dense_time = TimeDistributed(dense, name="time_distributed_layer")
decoder_pred = dense_time(decoder_concat_input)
full_model = Model(inputs=[encoder_inputs, decoder_inputs], outputs=decoder_pred)
full_model.compile(optimizer="adam", loss="categorical_crossentropy")
full_model.summary()
print("attention weights:", [tuple(w.shape) for w in attn_layer.get_weights()])
history = full_model.fit([encoder_data, decoder_data], target_data, batch_size=32, epochs=4,
                         verbose=0)
print("history keys:", sorted(history.history))
print("LOSS train", history.history["loss"][-1])

# inference: the encoder once, then the decoder one step at a time with the attention
encoder_model = Model(encoder_inputs, [encoder_out, encoder_state])
batch_size = 1
encoder_inf_states = Input(batch_shape=(batch_size, src_len, hidden), name="encoder_inf_states")
decoder_init_state = Input(batch_shape=(batch_size, hidden), name="decoder_init")
decoder_inf_inputs = Input(batch_shape=(batch_size, 1, tgt_vocab), name="decoder_word_inputs")
decoder_inf_out, decoder_inf_state = decoder_gru(decoder_inf_inputs,
                                                 initial_state=decoder_init_state)
attn_inf_out, attn_inf_states = attn_layer([encoder_inf_states, decoder_inf_out])
decoder_inf_concat = Concatenate(axis=-1, name="concat")([decoder_inf_out, attn_inf_out])
decoder_inf_pred = TimeDistributed(dense)(decoder_inf_concat)
decoder_model = Model(inputs=[encoder_inf_states, decoder_init_state, decoder_inf_inputs],
                      outputs=[decoder_inf_pred, attn_inf_states, decoder_inf_state])
decoder_model.summary()

enc_outs, enc_last_state = encoder_model.predict(encoder_data[:1], verbose=0)
print("encoder outputs:", enc_outs.shape, enc_last_state.shape)
dec_state, word, decoded, attention_rows = enc_last_state, np.eye(tgt_vocab, dtype="float32")[[[0]]], [], []
for _ in range(tgt_len):
    dec_out, attention, dec_state = decoder_model.predict([enc_outs, dec_state, word], verbose=0)
    token = int(np.argmax(dec_out, axis=-1)[0, 0])
    decoded.append(token)
    attention_rows.append(attention[0, 0])
    word = np.eye(tgt_vocab, dtype="float32")[[[token]]]
print("decoded tokens:", len(decoded), "in range:", all(0 <= t < tgt_vocab for t in decoded))
attention_rows = np.array(attention_rows)
print("attention rows:", attention_rows.shape, "sum to one:",
      bool(np.allclose(attention_rows.sum(axis=1), 1.0, atol=1e-5)))
