"""``keras.layers.Wrapper``: TimeDistributed and Bidirectional are Wrappers (``.layer``);
a user's wrapper subclasses it (config with ``layer``, weights under the wrapper's name),
as in tf.keras 2.12 (tests/fixtures/keras2_extension_api)."""
import pytest

import rnnkit
from extension_scenarios import SCENARIOS, check


def test_wrappers_match_tf_keras_2_12():
    check("wrapper")


def test_wrapper_refuses_a_non_layer():
    Scale = SCENARIOS.user_wrapper_class(rnnkit)
    with pytest.raises(ValueError, match="ScaleOutputs.*rnnkit layer"):
        Scale("dense")


def test_wrapped_layer_is_built_and_trained():
    L = rnnkit.layers
    Scale = SCENARIOS.user_wrapper_class(rnnkit)
    model = rnnkit.Sequential([Scale(L.Dense(2), input_shape=(3,)), L.Dense(1)])
    assert len(model.trainable_weights) == 4
    model.compile("sgd", "mse")
    before = model.get_weights()[0].copy()
    import numpy as np
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    assert not np.allclose(before, model.get_weights()[0])
