"""``keras.layers.AbstractRNNCell``: the class docstring's MinimalRNNCell (state_size as a
property, no output_size) runs in ``RNN``, saves and loads by name, as in tf.keras 2.12
(tests/fixtures/keras2_extension_api)."""
import numpy as np
import pytest
import torch

import rnnkit
from extension_scenarios import SCENARIOS, check


def test_minimal_rnn_cell_matches_tf_keras_2_12():
    check("abstract_rnn_cell")


def test_base_class_raises_not_implemented_as_keras():
    cell = rnnkit.layers.AbstractRNNCell()
    for what in ("state_size", "output_size"):
        with pytest.raises(NotImplementedError):
            getattr(cell, what)
    with pytest.raises(NotImplementedError, match="call"):
        cell.call(torch.zeros(1, 2), [torch.zeros(1, 2)])


def test_initial_state_nests_as_state_size():
    class TwoStates(rnnkit.layers.AbstractRNNCell):
        state_size = [3, 2]

    states = TwoStates().get_initial_state(batch_size=4, dtype="float32")
    assert [tuple(s.shape) for s in states] == [(4, 3), (4, 2)]
    assert all(s.dtype == torch.float32 and not s.any() for s in states)
    with pytest.raises(ValueError, match="batch_size and dtype"):
        TwoStates().get_initial_state()


def test_recurrence_is_computed():
    """The output of step t feeds step t + 1 through the recurrent kernel."""
    cell = SCENARIOS.minimal_rnn_cell_class(rnnkit)(2)
    layer = rnnkit.layers.RNN(cell)
    x = np.ones((1, 3, 1), "float32")
    layer(x)
    cell.set_weights([np.ones((1, 2), "float32"), np.eye(2, dtype="float32") * 2])
    # h1 = 1, h2 = 1 + 2, h3 = 1 + 6
    np.testing.assert_allclose(np.asarray(layer(x)), [[7.0, 7.0]])
