"""select_kernel: the kernel each call gets and the reason it states; its per-layer memory
decides afresh when anything the choice reads changes."""
import numpy as np
import pytest
import torch

from rnnkit.kernels import lstm_routing, native, select
from rnnkit.layers import GRU, LSTM, RNN, SimpleRNN, LSTMCell


def test_cpu_choices_state_their_reasons():
    x = torch.randn(2, 5, 3)
    # an unmasked LSTM runs on oneDNN unless the measured table (lstm_routing.json) has
    # rnnkit's C loop faster at the nearest shape and this thread count, and says so
    lstm = str(LSTM(4).select_kernel(x))
    faster, why = lstm_routing.decide(2, 4, "train", 5, torch.get_num_threads())
    if faster and native.loops() is not None:
        assert lstm.startswith("rnnkit: rnnkit lstm loop in C") and f"C loop over oneDNN: {why}" in lstm
    else:
        assert lstm.startswith("torch: fused torch lstm (ATen/oneDNN)"), lstm
    loop = "in C" if native.loops() is not None else \
        f"in Python ({select.native_loop_reason(x)})"
    assert str(GRU(4).select_kernel(x)) == \
        f"rnnkit: rnnkit gru loop {loop} with a batched backward"
    choice = GRU(4, reset_after=False, recurrent_dropout=0.5).select_kernel(x, training=True)
    assert choice.name == "reference"
    assert "not rnnkit: recurrent_dropout needs the per-step loop" in choice.reason
    assert "GRU reset_after=False has no torch twin" in choice.reason
    assert str(SimpleRNN(4).select_kernel(np.zeros((0, 5, 3)))) == \
        "reference: an empty batch: nothing to speed up"


def test_a_cell_without_a_fast_path_runs_the_reference_loop():
    class DoubledLSTMCell(LSTMCell):
        fast_path = ""  # its step computes something else than LSTMCell's

        def step(self, x_t, states, recurrent_masks=None):
            output, new_states = super().step(x_t, states, recurrent_masks)
            return 2 * output, new_states

    x = torch.randn(2, 5, 3)
    layer = RNN(DoubledLSTMCell(4))
    choice = layer.select_kernel(x)
    assert choice.name == "reference"
    assert "DoubledLSTMCell is not one of rnnkit's cells" in choice.reason


@pytest.fixture
def counted(monkeypatch):
    """select_kernel, counting the calls that reach it."""
    calls = []
    choose = select.select_kernel
    monkeypatch.setattr(select, "select_kernel",
                        lambda *args, **kwargs: calls.append(1) or choose(*args, **kwargs))
    return calls


def test_the_remembered_choice_follows_what_it_depends_on(counted, monkeypatch):
    layer = GRU(4)
    x = torch.randn(2, 5, 3)
    layer(x)  # the call chose, and remembered
    assert len(counted) == 1
    for _ in range(3):
        select.select_kernel_cached(layer, x, None, False)
    assert len(counted) == 1
    changes = [
        lambda: select.select_kernel_cached(layer, x[:1], None, False),        # batch
        lambda: select.select_kernel_cached(layer, x, None, True),             # training
        lambda: select.select_kernel_cached(layer, x.double(), None, False),   # dtype
    ]
    for change in changes:
        counted.clear()
        change()
        assert len(counted) == 1
    # autocast, which the persistent kernel's dtype check reads: part of the key where that
    # kernel may run (CUDA, or forced by rnn_kernel), not asked otherwise
    autocast = [False]
    monkeypatch.setattr(torch, "is_autocast_enabled", lambda *args: autocast[0])
    select.select_kernel_cached(layer, x, None, False)
    counted.clear()
    autocast[0] = True
    select.select_kernel_cached(layer, x, None, False)
    assert counted == []  # `auto` on the CPU: the persistent kernel is no candidate
    monkeypatch.setattr(select, "select_kernel",  # a stand-in that always answers
                        lambda *args: counted.append(1) or select.KernelChoice("persistent",
                                                                               "gru", "test"))
    layer.rnn_kernel = "persistent"
    for value in (False, False, True, True, False):
        autocast[0] = value
        select.select_kernel_cached(layer, x, None, False)
    assert len(counted) == 3
    # and a masked call is never remembered
    counted.clear()
    mask = torch.ones(2, 5, dtype=torch.bool)
    select.select_kernel_cached(layer, x, mask, False)
    select.select_kernel_cached(layer, x, mask, False)
    assert len(counted) == 2



def test_an_lstm_decides_again_when_the_thread_count_changes(counted):
    """The LSTM's CPU routing is measured per thread count, so torch.set_num_threads between
    two calls must not reuse the remembered choice; the GRU's key does not read it."""
    before = torch.get_num_threads()
    lstm, gru, x = LSTM(4), GRU(4), torch.randn(2, 5, 3)
    try:
        torch.set_num_threads(1)
        for layer in (lstm, gru):
            select.select_kernel_cached(layer, x, None, False)
        counted.clear()
        for layer in (lstm, gru):
            select.select_kernel_cached(layer, x, None, False)
        assert counted == []
        torch.set_num_threads(2)
        select.select_kernel_cached(lstm, x, None, False)
        assert len(counted) == 1
        select.select_kernel_cached(gru, x, None, False)
        select.select_kernel_cached(lstm, x, None, False)
        assert len(counted) == 1
    finally:
        torch.set_num_threads(before)
