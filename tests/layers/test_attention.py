"""Attention and AdditiveAttention against NumPy formulas (tf.keras 2.12 semantics)."""
import numpy as np
import pytest
import torch

from rnnkit import layers as L

rng = np.random.default_rng(1)


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_dot_attention_matches_formula_with_masks_and_scores():
    q, v, k = (rng.normal(size=s).astype("f") for s in ((2, 3, 4), (2, 5, 4), (2, 5, 4)))
    layer = L.Attention(use_scale=True)
    qt, vt = torch.tensor(q), torch.tensor(v)
    qt._keras_mask = torch.tensor([[1, 1, 0], [1, 1, 1]]).bool()
    vt._keras_mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]).bool()
    out, weights = layer([qt, vt, torch.tensor(k)], return_attention_scores=True)
    assert float(layer.scale.detach()) == 1.0  # Keras initialises the scale to one
    scores = np.einsum("bqd,bkd->bqk", q, k)
    scores -= 1e9 * (~vt._keras_mask.numpy())[:, None, :]
    expected_w = softmax(scores)
    expected = np.einsum("bqk,bkd->bqd", expected_w, v) * qt._keras_mask.numpy()[..., None]
    np.testing.assert_allclose(weights.detach().numpy(), expected_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert torch.equal(out._keras_mask, qt._keras_mask)
    assert [w.shape for w in layer.weights] == [()]
    clone = L.deserialize(L.serialize(layer))
    assert clone.get_config() == layer.get_config() and clone.use_scale


def test_causal_and_concat_modes():
    q = rng.normal(size=(1, 4, 3)).astype("f")
    layer = L.Attention(score_mode="concat")
    _, weights = layer([q, q], return_attention_scores=True, use_causal_mask=True)
    assert np.allclose(np.triu(weights[0].detach().numpy(), 1), 0)
    summed = np.tanh(q[:, :, None, :] + q[:, None, :, :]).sum(-1)
    summed = summed - 1e9 * (1 - np.tril(np.ones((4, 4))))
    np.testing.assert_allclose(weights.detach().numpy(), softmax(summed), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="score_mode"):
        L.Attention(score_mode="general")


def test_additive_attention_matches_formula():
    q, v = rng.normal(size=(2, 3, 4)).astype("f"), rng.normal(size=(2, 6, 4)).astype("f")
    layer = L.AdditiveAttention()
    out = layer([q, v]).detach().numpy()
    scale = layer.scale.detach().numpy()
    assert scale.shape == (4,)
    scores = (scale * np.tanh(q[:, :, None, :] + v[:, None, :, :])).sum(-1)
    np.testing.assert_allclose(out, np.einsum("bqk,bkd->bqd", softmax(scores), v), rtol=1e-5,
                               atol=1e-6)
    assert layer.compute_output_shape([(None, 3, 4), (None, 6, 4)]) == (None, 3, 4)
    with pytest.raises(ValueError, match=r"namely \[query, value\] or \[query, value, key\]"):
        L.AdditiveAttention().build([(None, 3, 4)] * 4)
