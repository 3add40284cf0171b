"""The legacy keras_preprocessing Tokenizer."""
import numpy as np
import pytest

from rnnkit.preprocessing.text import Tokenizer, text_to_word_sequence, tokenizer_from_json

TEXTS = ["The cat sat on the mat.", "The dog ate my homework!"]


def test_word_index_by_count_then_first_appearance():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    assert list(tok.word_index.items())[:4] == [("the", 1), ("cat", 2), ("sat", 3), ("on", 4)]
    assert tok.word_counts["the"] == 3 and tok.document_count == 2
    assert tok.texts_to_sequences(["the cat ate a fish"]) == [[1, 2, 7]]


def test_oov_token_and_num_words():
    tok = Tokenizer(num_words=4, oov_token="<OOV>")
    tok.fit_on_texts(TEXTS)
    assert tok.word_index["<OOV>"] == 1 and tok.word_index["the"] == 2
    # indices >= num_words become the OOV index; word_index keeps every word
    assert tok.texts_to_sequences(["the cat mat unknown"]) == [[2, 3, 1, 1]]
    assert len(tok.word_index) == 10
    assert tok.sequences_to_texts([[2, 3, 9]]) == ["the cat <OOV>"]


def test_char_level_and_filters():
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["abba"])
    assert tok.word_index == {"a": 1, "b": 2}
    assert text_to_word_sequence("Hello, World!") == ["hello", "world"]


def test_matrix_modes_and_json_round_trip():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    m = tok.texts_to_matrix(["the the cat"], mode="count")
    assert m.shape == (1, 10) and m[0, 1] == 2 and m[0, 2] == 1
    assert tok.texts_to_matrix(["the the cat"], mode="freq")[0, 1] == pytest.approx(2 / 3)
    tfidf = tok.texts_to_matrix(["the"], mode="tfidf")[0, 1]
    assert tfidf == pytest.approx(np.log(1 + 2 / 3))
    clone = tokenizer_from_json(tok.to_json())
    assert clone.word_index == tok.word_index
    assert clone.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)
    with pytest.raises(ValueError, match="Unknown vectorization mode: bad"):
        tok.texts_to_matrix(TEXTS, mode="bad")


def test_fit_on_a_single_string_is_an_error():
    with pytest.raises(ValueError, match="expects a list of texts"):
        Tokenizer().fit_on_texts("just one string")
