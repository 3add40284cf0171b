"""Dropout in ``RNN([cell, ...])``: one mask per sequence for every cell of the stack.

tf.keras 2.12's ``RNN.call`` resets the dropout masks of each cell of a ``StackedRNNCells``
at the start of a call; each cell then draws its masks at the first step and keeps them for
the whole sequence. The cells below are linear with identity / zero weights, so the masks
show in the outputs: every step of a call must show the same mask, and a new call a new one.
"""
import numpy as np
import pytest
import torch

import rnnkit.layers as L

UNITS, STEPS, BATCH = 16, 6, 4


def _linear_cell(dropout=0.0, recurrent_dropout=0.0, kernel="identity"):
    cell = L.SimpleRNNCell(UNITS, activation="linear", dropout=dropout,
                           recurrent_dropout=recurrent_dropout)
    cell.build((None, UNITS))
    eye, zeros = np.eye(UNITS, dtype="float32"), np.zeros((UNITS, UNITS), "float32")
    # kernel "identity": h_t = x_t (masked); "recurrent": h_t = h_{t-1} (masked).
    cell.set_weights([eye, zeros, np.zeros(UNITS, "float32")] if kernel == "identity"
                     else [zeros, eye, np.zeros(UNITS, "float32")])
    return cell


@pytest.mark.parametrize("position", [0, 1, 2])
def test_each_cells_input_mask_is_drawn_once_per_sequence(position):
    torch.manual_seed(position)
    cells = [_linear_cell(dropout=0.5 if k == position else 0.0) for k in range(3)]
    layer = L.RNN(cells, return_sequences=True)
    x = torch.ones(BATCH, STEPS, UNITS)
    first = layer(x, training=True)
    # Ones through identity kernels: every step shows the position's mask, 0 or 1 / 0.5.
    assert set(first.unique().tolist()) == {0.0, 2.0}
    for t in range(1, STEPS):
        torch.testing.assert_close(first[:, t], first[:, 0])
    second = layer(x, training=True)
    torch.testing.assert_close(second[:, -1], second[:, 0])
    assert not torch.equal(second, first)  # a new call, new masks
    torch.testing.assert_close(layer(x, training=False), x)


def test_an_inner_cells_recurrent_mask_is_drawn_once_per_sequence():
    torch.manual_seed(3)
    layer = L.RNN([_linear_cell(dropout=0.5),
                   _linear_cell(recurrent_dropout=0.5, kernel="recurrent")],
                  return_sequences=True)
    x = torch.randn(BATCH, STEPS, UNITS)
    h0 = [torch.zeros(BATCH, UNITS), torch.ones(BATCH, UNITS)]
    out = layer(x, training=True, initial_state=h0)
    # h_t = h_{t-1} * m with one m in {0, 2}: 2^t where the mask keeps a unit, 0 elsewhere.
    kept = out[:, 0] != 0
    assert kept.any() and not kept.all()
    for t in range(STEPS):
        expected = torch.where(kept, torch.tensor(2.0 ** (t + 1)), torch.tensor(0.0))
        torch.testing.assert_close(out[:, t], expected)


@pytest.mark.parametrize("make_cell", [
    lambda: L.LSTMCell(5, dropout=0.3, recurrent_dropout=0.4),
    lambda: L.GRUCell(5, dropout=0.3, recurrent_dropout=0.4, reset_after=False),
    lambda: L.GRUCell(5, dropout=0.3, recurrent_dropout=0.4),
    lambda: L.SimpleRNNCell(5, dropout=0.3, recurrent_dropout=0.4),
], ids=["lstm", "gru_v1", "gru", "simple_rnn"])
def test_a_stack_of_one_cell_draws_the_masks_a_single_cell_draws(make_cell):
    # Same seed, same draws in the same order (input masks, then recurrent masks, at the
    # start of the sequence): the stack of one and the plain cell give the same numbers.
    single, stacked = L.RNN(make_cell(), return_sequences=True), \
        L.RNN([make_cell()], return_sequences=True)
    x = torch.randn(3, 7, 4)
    single.build(x.shape)
    stacked.build(x.shape)
    stacked.set_weights(single.get_weights())
    for seed in (0, 1):
        torch.manual_seed(seed)
        expected = single(x, training=True)
        torch.manual_seed(seed)
        torch.testing.assert_close(stacked(x, training=True), expected)
    torch.manual_seed(0)
    first = stacked(x, training=True)
    assert not torch.allclose(stacked(x, training=True), first)


def test_a_direct_stack_step_still_draws_its_own_masks():
    # Outside an RNN there is no sequence: each call of the stack is one step with new masks.
    torch.manual_seed(0)
    cells = L.StackedRNNCells([_linear_cell(dropout=0.5)])
    x = torch.ones(BATCH, UNITS)
    states = cells.get_initial_state(batch_size=BATCH)
    outputs = [cells(x, states, training=True)[0] for _ in range(4)]
    assert any(not torch.equal(o, outputs[0]) for o in outputs[1:])
