"""A loss object called on a model's outputs for NumPy data (TensorFlow's text-generation
tutorial: ``loss(target, model(x))``, then ``print`` and ``float``) prints and reads as
tf.keras 2.12's eager value, without torch's requires-grad warning; in training (plain
tensors) it stays a plain tensor."""
import warnings

import numpy as np
import torch

import rnnkit as keras
from rnnkit.eager import EagerTensor


def _model_and_outputs():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(3)])
    return model, model(np.ones((2, 4), "float32"))


def test_a_loss_on_eager_outputs_prints_like_tensorflow_and_reads_quietly():
    _, predictions = _model_and_outputs()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    value = loss(np.array([0, 1]), predictions)
    assert type(value) is EagerTensor and value.requires_grad
    assert str(value).startswith("tensor(") and str(value).endswith(", shape=(), dtype=float32)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert abs(float(value) - value.numpy()) < 1e-6
        assert value.item() == float(value) and int(value) == int(float(value))
    value.backward()  # still on the autograd graph


def test_a_loss_on_plain_tensors_stays_plain():
    loss = keras.losses.MeanSquaredError()
    assert type(loss(torch.zeros(2, 1), torch.ones(2, 1))) is torch.Tensor
