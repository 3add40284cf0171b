"""The Keras ``lstm_seq2seq`` tutorial, character level, end to end: a training model
whose decoder starts from the encoder's ``[h, c]`` (teacher forcing), then separate encoder
and decoder inference models built from the trained layers, decoding one character at a
time with the states fed back. The task (reverse a short word) is generated here."""
import numpy as np
import pytest

import rnnkit
from rnnkit import layers as L
from rnnkit.io.saving import read_config
from rnnkit.models import Model

LETTERS = "abcdef"
START, END = "\t", "\n"


def make_pairs(n, rng):
    words = {"".join(rng.choice(list(LETTERS), size=rng.integers(3, 6))) for _ in range(n)}
    words = sorted(words)
    return words, [START + w[::-1] + END for w in words]


def one_hot(texts, index, steps):
    data = np.zeros((len(texts), steps, len(index)), dtype=np.float32)
    for i, text in enumerate(texts):
        for t, ch in enumerate(text):
            data[i, t, index[ch]] = 1.0
    return data


def test_char_seq2seq_trains_and_decodes_step_by_step(tmp_path):
    rnnkit.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    inputs, targets = make_pairs(260, rng)
    in_chars, out_chars = sorted(set("".join(inputs))), sorted(set("".join(targets)))
    in_index = {c: i for i, c in enumerate(in_chars)}
    out_index = {c: i for i, c in enumerate(out_chars)}
    max_in, max_out = max(map(len, inputs)), max(map(len, targets))
    enc_x = one_hot(inputs, in_index, max_in)
    dec_x = one_hot(targets, out_index, max_out)
    dec_y = np.zeros_like(dec_x)
    dec_y[:, :-1] = dec_x[:, 1:]  # the target is the decoder input one step ahead
    latent = 64

    # Training model (as the tutorial writes it).
    encoder_inputs = rnnkit.Input(shape=(None, len(in_chars)))
    encoder = L.LSTM(latent, return_state=True)
    _, state_h, state_c = encoder(encoder_inputs)
    decoder_inputs = rnnkit.Input(shape=(None, len(out_chars)))
    decoder_lstm = L.LSTM(latent, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    decoder_dense = L.Dense(len(out_chars), activation="softmax")
    model = Model([encoder_inputs, decoder_inputs], decoder_dense(decoder_outputs))
    model.compile(optimizer=rnnkit.optimizers.Adam(learning_rate=0.01),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit([enc_x, dec_x], dec_y, batch_size=32, epochs=25, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] * 0.3

    # Inference models from the trained layers.
    encoder_model = Model(encoder_inputs, [state_h, state_c])
    h_in, c_in = rnnkit.Input(shape=(latent,)), rnnkit.Input(shape=(latent,))
    out, h, c = decoder_lstm(decoder_inputs, initial_state=[h_in, c_in])
    decoder_model = Model([decoder_inputs, h_in, c_in], [decoder_dense(out), h, c])
    assert decoder_model.count_params() == decoder_lstm.count_params() + \
        decoder_dense.count_params()  # shared layers, no new weights

    def decode(sample, encoder_model=encoder_model, decoder_model=decoder_model):
        h_val, c_val = encoder_model.predict(sample, verbose=0)
        token = np.zeros((1, 1, len(out_chars)), dtype=np.float32)
        token[0, 0, out_index[START]] = 1.0
        decoded = ""
        while len(decoded) <= max_out:
            probs, h_val, c_val = decoder_model.predict([token, h_val, c_val], verbose=0)
            char = out_chars[int(np.argmax(probs[0, -1]))]
            if char == END:
                break
            decoded += char
            token = np.zeros_like(token)
            token[0, 0, out_index[char]] = 1.0
        return decoded

    checked = range(0, len(inputs), 3)
    decoded = {i: decode(enc_x[i:i + 1]) for i in checked}
    correct = sum(decoded[i] == inputs[i][::-1] for i in checked)
    assert correct / len(checked) > 0.6, f"{correct}/{len(checked)} decoded correctly"

    # The tutorial's other route: a model restored from its file, its layers looked up by
    # position (`model.layers[2].output`, `model.input[1]`), decodes the same strings.
    path = str(tmp_path / "s2s.h5")
    model.save(path)
    restored = rnnkit.layers.deserialize(read_config(path))
    restored.load_weights(path)
    _, state_h_enc, state_c_enc = restored.layers[2].output
    encoder_model = Model(restored.input[0], [state_h_enc, state_c_enc])
    h_in, c_in = rnnkit.Input(shape=(latent,)), rnnkit.Input(shape=(latent,))
    out, h, c = restored.layers[3](restored.input[1], initial_state=[h_in, c_in])
    decoder_model = Model([restored.input[1], h_in, c_in], [restored.layers[4](out), h, c])
    for i in list(checked)[:12]:
        assert decode(enc_x[i:i + 1], encoder_model, decoder_model) == decoded[i]
