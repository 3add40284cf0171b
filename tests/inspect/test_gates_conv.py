"""gates() on ConvLSTM layers: the recorded outputs and states are the layer's own (masks,
go_backwards, channels_first included) and the gates satisfy the cell's equations."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit import layers
from rnnkit.inspect import gates

rng = np.random.default_rng(3)


def rand(*shape):
    return torch.tensor(rng.uniform(-1, 1, shape), dtype=torch.float32)


@pytest.mark.parametrize("kwargs, shape", [
    (dict(padding="same"), (2, 4, 5, 5, 2)),
    (dict(go_backwards=True, strides=2), (2, 3, 6, 6, 1)),
    (dict(data_format="channels_first", padding="same"), (2, 3, 2, 4, 4)),
])
def test_conv_lstm_trace_is_the_layer_computation(kwargs, shape):
    layer = layers.ConvLSTM2D(3, 3, return_sequences=True, return_state=True, **kwargs)
    x = rand(*shape)
    out, h, c = layer(x)
    trace = gates(layer, x)
    torch.testing.assert_close(trace.outputs, out)
    torch.testing.assert_close(trace["h"][:, -1], h)
    torch.testing.assert_close(trace["c"][:, -1], c)
    c_prev = torch.cat([torch.zeros_like(trace["c"][:, :1]), trace["c"][:, :-1]], 1)
    torch.testing.assert_close(trace["c"], trace["f"] * c_prev + trace["i"] * trace["c_tilde"])
    assert "ConvLSTMCell" in repr(trace)


def test_conv_lstm_trace_with_mask_marks_discarded_steps():
    layer = layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True)
    x = rand(2, 4, 6, 2)
    mask = torch.tensor([[True, True, False, True], [True, True, True, True]])
    trace = gates(layer, x, mask=mask)
    torch.testing.assert_close(trace.outputs, layer(x, mask=mask))
    assert bool(torch.isnan(trace["i"][0, 2]).all()) and not bool(torch.isnan(trace["i"][1]).any())
