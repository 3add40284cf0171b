"""pad_sequences, to_categorical, Sequence (the Keras docstring examples and edge cases)."""
import numpy as np
import pytest

from rnnkit.preprocessing.sequence import pad_sequences as legacy_pad
from rnnkit.utils import Sequence, pad_sequences, set_random_seed, to_categorical


def test_pad_sequences_keras_defaults_pre():
    seqs = [[1], [2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(pad_sequences(seqs), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, padding="post"),
                                  [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2, truncating="post"),
                                  [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(pad_sequences(seqs, value=-1), [[-1, -1, 1], [-1, 2, 3],
                                                                  [4, 5, 6]])
    assert pad_sequences(seqs).dtype == np.int32 and legacy_pad is pad_sequences


def test_pad_sequences_float_vectors_and_empty():
    out = pad_sequences([np.ones((2, 3)), []], maxlen=3, dtype="float32")
    assert out.shape == (2, 3, 3) and out[0, 0].sum() == 0 and out[0, 1:].sum() == 6
    assert pad_sequences([]).shape == (0, 0)


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="must be a list of iterables"):
        pad_sequences([1, 2])


def test_to_categorical():
    np.testing.assert_array_equal(to_categorical([0, 2, 1]), np.eye(3)[[0, 2, 1]])
    assert to_categorical([[1], [0]], num_classes=4).shape == (2, 4)
    assert to_categorical(np.zeros((2, 5)), 3).shape == (2, 5, 3)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        to_categorical([0, 3], num_classes=2)


def test_sequence_is_iterable_by_index():
    class S(Sequence):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i * 10
    assert list(S()) == [0, 10, 20]


def test_set_random_seed_still_works_and_checks():
    set_random_seed(3)
    a = np.random.rand()
    set_random_seed(3)
    assert np.random.rand() == a
    with pytest.raises(ValueError, match="expected an int seed"):
        set_random_seed(1.5)
