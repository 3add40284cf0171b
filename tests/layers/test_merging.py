"""Merge, reshape and pooling layers: numbers against NumPy, masks, shapes, configs, errors."""
import numpy as np
import pytest
import torch

from rnnkit import layers as L

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.normal(size=shape).astype(np.float32)


def roundtrip(layer):
    clone = L.deserialize(L.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    return clone


@pytest.mark.parametrize("cls, fn", [
    (L.Add, lambda a, b, c: a + b + c), (L.Multiply, lambda a, b, c: a * b * c),
    (L.Average, lambda a, b, c: (a + b + c) / 3), (L.Maximum, lambda a, b, c: np.maximum(
        np.maximum(a, b), c)), (L.Minimum, lambda a, b, c: np.minimum(np.minimum(a, b), c))])
def test_elementwise_merges(cls, fn):
    a, b, c = arr(2, 3, 4), arr(2, 3, 4), arr(2, 3, 4)
    layer = cls()
    np.testing.assert_allclose(layer([a, b, c]).numpy(), fn(a, b, c), rtol=1e-6)
    assert layer.compute_output_shape([(None, 3, 4)] * 3) == (None, 3, 4)
    roundtrip(layer)


def test_subtract_and_broadcast():
    a, b = arr(2, 4), arr(2, 4)
    np.testing.assert_allclose(L.Subtract()([a, b]).numpy(), a - b)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        L.Subtract()([a, b, a])
    assert L.Add().compute_output_shape([(None, 1, 4), (None, 5, 4)]) == (None, 5, 4)
    with pytest.raises(ValueError, match="incompatible shapes"):
        L.Add()([arr(2, 3), arr(2, 4)])
    with pytest.raises(ValueError, match="list of at least 1 inputs|should be called on a list"):
        L.Add()(a)


def test_merge_masks_are_anded():
    a, b = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    a._keras_mask = torch.tensor([[1, 1, 0], [1, 0, 0]]).bool()
    b._keras_mask = torch.tensor([[1, 0, 1], [1, 1, 0]]).bool()
    assert L.Add()([a, b])._keras_mask.tolist() == [[True, False, False], [True, False, False]]
    c = torch.randn(2, 3, 4)  # no mask: all valid
    assert torch.equal(L.Concatenate()([a, c])._keras_mask, a._keras_mask)
    assert L.Dot(axes=2)([a, b])._keras_mask is None


def test_concatenate():
    a, b = arr(2, 3, 4), arr(2, 3, 1)
    layer = L.Concatenate()
    np.testing.assert_array_equal(layer([a, b]).numpy(), np.concatenate([a, b], -1))
    assert L.Concatenate(axis=1)([a, a]).shape == (2, 6, 4)
    assert layer.compute_output_shape([(None, 3, 4), (None, 3, 1)]) == (None, 3, 5)
    assert roundtrip(L.Concatenate(axis=1)).axis == 1
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        L.Concatenate()([arr(2, 3, 4), arr(2, 5, 4)])


def test_dot():
    a, b = arr(3, 5), arr(3, 5)
    np.testing.assert_allclose(L.Dot(axes=1)([a, b]).numpy(), (a * b).sum(1, keepdims=True),
                               rtol=1e-5)
    na, nb = (v / np.linalg.norm(v, axis=1, keepdims=True) for v in (a, b))
    np.testing.assert_allclose(L.Dot(axes=1, normalize=True)([a, b]).numpy(),
                               (na * nb).sum(1, keepdims=True), rtol=1e-5)
    x, y = arr(2, 4, 6), arr(2, 7, 6)
    np.testing.assert_allclose(L.Dot(axes=(2, 2))([x, y]).numpy(),
                               np.einsum("btd,bsd->bts", x, y), rtol=1e-5, atol=1e-6)
    assert L.Dot(axes=[2, 2]).compute_output_shape([(None, 4, 6), (None, 7, 6)]) == (None, 4, 7)
    assert roundtrip(L.Dot(axes=[1, 2], normalize=True)).axes == [1, 2]
    with pytest.raises(ValueError, match="incompatible input shapes"):
        L.Dot(axes=1)([arr(2, 3), arr(2, 4)])
    with pytest.raises(ValueError, match="invalid format for argument `axes`"):
        L.Dot(axes="x")


def test_repeat_reshape_flatten():
    v = arr(2, 3)
    out = L.RepeatVector(4)(v)
    assert out.shape == (2, 4, 3) and np.allclose(out[:, 2].numpy(), v)
    seq = arr(2, 6, 2)
    np.testing.assert_array_equal(L.Reshape((3, -1))(seq).numpy(), seq.reshape(2, 3, 4))
    assert L.Reshape((3, -1)).compute_output_shape((None, 6, 2)) == (None, 3, 4)
    assert L.Reshape((3, -1)).compute_output_shape((None, None, 2)) == (None, 3, None)
    assert roundtrip(L.Reshape((3, 4))).get_config()["target_shape"] == [3, 4]
    np.testing.assert_array_equal(L.Flatten()(seq).numpy(), seq.reshape(2, 12))
    assert L.Flatten().compute_output_shape((None, 6, 2)) == (None, 12)
    roundtrip(L.Flatten())
    roundtrip(L.RepeatVector(2))
    with pytest.raises(ValueError, match="total size of the new array must be unchanged"):
        L.Reshape((5,))(seq)
    with pytest.raises(TypeError, match="RepeatVector.*`n`"):
        L.RepeatVector(0)
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        L.RepeatVector(2)(seq)


def test_global_pooling_with_and_without_mask():
    x = torch.tensor(arr(2, 4, 3))
    np.testing.assert_allclose(L.GlobalAveragePooling1D()(x).numpy(), x.numpy().mean(1),
                               rtol=1e-6)
    np.testing.assert_allclose(L.GlobalMaxPooling1D()(x).numpy(), x.numpy().max(1))
    assert L.GlobalAveragePooling1D(keepdims=True)(x).shape == (2, 1, 3)
    x._keras_mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0]]).bool()
    avg, mx = L.GlobalAveragePooling1D()(x), L.GlobalMaxPooling1D()(x)
    np.testing.assert_allclose(avg[0].numpy(), x[0, :2].numpy().mean(0), rtol=1e-6)
    np.testing.assert_allclose(mx[1].numpy(), x[1, :3].numpy().max(0))
    assert avg._keras_mask is None
    assert roundtrip(L.GlobalMaxPooling1D(keepdims=True)).keepdims
    first = L.GlobalAveragePooling1D(data_format="channels_first")
    np.testing.assert_allclose(first(torch.ones(2, 3, 5)).numpy(), np.ones((2, 3)))
    with pytest.raises(ValueError, match="`data_format` must be"):
        L.GlobalMaxPooling1D(data_format="nhwc")


def test_lowercase_functional_helpers():
    a, b = arr(2, 3), arr(2, 3)
    np.testing.assert_array_equal(L.concatenate([a, b], axis=1).numpy(),
                                  np.concatenate([a, b], 1))
    np.testing.assert_allclose(L.add([a, b]).numpy(), a + b)
    np.testing.assert_allclose(L.subtract([a, b]).numpy(), a - b)
    np.testing.assert_allclose(L.multiply([a, b]).numpy(), a * b)
    np.testing.assert_allclose(L.average([a, b]).numpy(), (a + b) / 2)
    np.testing.assert_allclose(L.maximum([a, b]).numpy(), np.maximum(a, b))
    np.testing.assert_allclose(L.minimum([a, b]).numpy(), np.minimum(a, b))
    np.testing.assert_allclose(L.dot([a, b], axes=1).numpy(), (a * b).sum(1, keepdims=True),
                               rtol=1e-5)
    import rnnkit
    x = rnnkit.Input((3,))
    assert L.concatenate([x, x], name="joined").shape == (None, 6)
