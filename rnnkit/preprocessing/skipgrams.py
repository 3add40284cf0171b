"""``keras.preprocessing.sequence.skipgrams`` and ``make_sampling_table``: the word2vec
training pairs of Keras 2 tutorials.

tf.keras 2.12's results draw on Python's global ``random`` (as Keras's do, in the same
order: the sampling test per word, the shuffle of the negative samples' first words, their
random partners, then the shuffle reseeded with ``seed``), so after the same
``random.seed`` / ``keras.utils.set_random_seed`` the pairs are Keras's pairs.
"""
from __future__ import annotations

import random
from typing import Any, Sequence

import numpy as np

__all__ = ["make_sampling_table", "skipgrams"]


def make_sampling_table(size: int, sampling_factor: float = 1e-5) -> np.ndarray:
    """The probability of keeping a word of frequency rank ``i`` (word2vec's subsampling,
    with Zipf's law standing in for the counts): ``min(1, sqrt(factor * inv_fq(rank)))``,
    ``inv_fq(r) = r (ln r + gamma) + 1/2 - 1/(12 r)``, rank 0 counted as 1."""
    rank = np.arange(size)
    rank[0] = 1
    inv_fq = rank * (np.log(rank) + 0.577) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_fq
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence: Sequence[int], vocabulary_size: int, window_size: int = 4,
              negative_samples: float = 1.0, shuffle: bool = True, categorical: bool = False,
              sampling_table: Any = None, seed: int | None = None) -> tuple[list, list]:
    """``(couples, labels)``: every ``[word, neighbour]`` within ``window_size`` (index 0
    skipped) labelled 1, then ``negative_samples`` times as many ``[word, random word]``
    labelled 0 (``[0, 1]`` / ``[1, 0]`` with ``categorical``), shuffled together."""
    couples: list = []
    labels: list = []
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    for i, word in enumerate(sequence):
        if not word:
            continue
        if sampling_table is not None and sampling_table[word] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([word, sequence[j]])
                labels.append(positive)
    if negative_samples > 0:
        count = int(len(labels) * negative_samples)
        words = [couple[0] for couple in couples]
        random.shuffle(words)
        couples += [[words[k % len(words)], random.randint(1, vocabulary_size - 1)]
                    for k in range(count)]
        labels += [negative] * count
    if shuffle:   # the same permutation for both lists: reseeded before each shuffle
        if seed is None:   # Keras writes randint(0, 10e6): the same draw, without the float
            seed = random.randint(0, 10_000_000)
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels
