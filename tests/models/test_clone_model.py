"""``clone_model(model, input_tensors=..., clone_function=...)`` for functional and
Sequential models, as tf.keras 2.12 (tests/fixtures/keras2_extension_api)."""
import numpy as np
import pytest

import rnnkit
from extension_scenarios import check


def test_clone_model_matches_tf_keras_2_12():
    check("clone_model_inputs")


def test_shared_layers_stay_shared_in_the_clone():
    L = rnnkit.layers
    a, b = rnnkit.Input((3,)), rnnkit.Input((3,))
    shared = L.Dense(2)
    model = rnnkit.Model([a, b], L.Add()([shared(a), shared(b)]))
    clone = rnnkit.models.clone_model(model)
    assert len(clone.weights) == 2
    x = [np.ones((1, 3)), np.ones((1, 3))]
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_input_tensors_must_be_inputs():
    inp = rnnkit.Input((3,))
    model = rnnkit.Model(inp, rnnkit.layers.Dense(1)(inp))
    with pytest.raises(ValueError, match="rnnkit.Input"):
        rnnkit.models.clone_model(model, input_tensors=np.ones((1, 3)))
    with pytest.raises(ValueError, match="1 input"):
        rnnkit.models.clone_model(model, input_tensors=[rnnkit.Input((3,)), rnnkit.Input((3,))])
