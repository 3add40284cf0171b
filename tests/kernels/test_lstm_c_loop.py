"""rnnkit's LSTM loop in C (``lstm_loop``, ``rnn_stream``, ``native/packed_product.c``)
against the reference loop in float64, forward and backward, for every flag it runs; the
packed product against float64 matrix products (AVX2 and portable C); the routing table."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnkit.kernels import lstm_loop, lstm_routing, native, packed
from rnnkit.layers import LSTM

needs_native = pytest.mark.skipif(native.unavailable_reason() != "",
                                  reason="the C loops are unavailable here")
MASKS = {   # (B=5, T=7): right-padded, with holes, left-padded with a row masked throughout
    "right": [[1] * 7, [1] * 5 + [0] * 2, [1] * 3 + [0] * 4, [1] + [0] * 6, [1] * 7],
    "holes": [[1, 0, 1, 1, 0, 0, 1], [0, 1, 1, 0, 1, 1, 1], [1] * 7, [0, 0, 1, 0, 0, 0, 1],
              [1, 1, 0, 1, 0, 1, 0]],
    "left": [[0] * 2 + [1] * 5, [0] * 6 + [1], [1] * 7, [0] * 3 + [1] * 4, [0] * 7],
}


@pytest.fixture(params=["avx2-or-best", "portable"])
def product_isa(request):
    """Run with the best product this CPU has, then with the portable C one."""
    library, _ = native.loops()
    library.rnnkit_product_force_portable(request.param == "portable")
    yield request.param
    library.rnnkit_product_force_portable(0)


@needs_native
@pytest.mark.parametrize("rows", [1, 2, 3, 4, 5, 8, 9])
@pytest.mark.parametrize("inner,cols", [(3, 12), (64, 256), (33, 100), (7, 200), (5, 16)])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("accumulate", [0, 1])
def test_packed_product_equals_float64(product_isa, rows, inner, cols, transpose, accumulate):
    """Every row count (blocks of four, single rows over four panels), panel tails, the
    transposed packing of the backward, with and without accumulation; nothing written past
    the last column (rows are ``ld_out`` apart, wider than ``cols``)."""
    generator = torch.Generator().manual_seed(rows * 1000 + inner + cols)
    b = torch.randn((cols, inner) if transpose else (inner, cols), generator=generator)
    a = torch.randn(rows, inner + 3, generator=generator)[:, :inner]
    out = torch.randn(rows, cols + 5, generator=generator)
    expected = out[:, :cols].double() * accumulate + a.double() @ (
        b.t() if transpose else b).double()
    beyond = out[:, cols:].clone()
    library, _ = native.loops()
    panels = packed.pack(b, rows, transpose)
    library.rnnkit_packed_product(rows, cols, inner, a.data_ptr(), inner + 3, panels.data_ptr(),
                                  out.data_ptr(), cols + 5, accumulate)
    np.testing.assert_allclose(out[:, :cols].double().numpy(), expected.numpy(), rtol=1e-5,
                               atol=1e-5)
    assert torch.equal(out[:, cols:], beyond)


@needs_native
def test_the_avx2_product_is_chosen_where_the_cpu_has_it():
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    if " avx2 " in flags and " fma " in flags:
        assert packed.isa() == "avx2"


FLAGS = [dict(), dict(go_backwards=True), dict(return_sequences=False),
         dict(unit_forget_bias=False, use_bias=False), dict(return_sequences=False,
                                                            go_backwards=True)]


def _float64_twin(layer, **flags):
    twin = LSTM(layer.units, dtype="float64", return_state=True, **flags)
    twin.build((None, None, layer.cell.kernel.shape[0]))
    twin.set_weights(layer.get_weights())
    twin.rnn_kernel = "reference"
    return twin


def _outputs_and_grads(layer, x, states, mask=None, seed=None):
    layer.zero_grad()
    inputs = x.clone().requires_grad_()
    initial = [s.clone().requires_grad_() for s in states]
    if seed is not None:
        torch.manual_seed(seed)
    outputs = layer(inputs, mask=mask, initial_state=initial or None, training=seed is not None)
    noise = torch.Generator().manual_seed(7)
    sum((o.double() * torch.randn(o.shape, generator=noise, dtype=torch.float64)).sum()
        for o in outputs).backward()
    return [o.detach().double() for o in outputs] + [inputs.grad.double()] + [
        s.grad.double() for s in initial] + [p.grad.double() for p in layer.parameters()]


def _assert_close(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-4, atol=2e-5)


@needs_native
@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("mask_name", [None, *MASKS])
@pytest.mark.parametrize("with_states", [False, True])
@pytest.mark.parametrize("packed_product", [True, False])
def test_c_loop_equals_the_float64_reference(product_isa, flags, mask_name, with_states,
                                             packed_product, monkeypatch, chunking):
    """Forward and every gradient (inputs, initial states, kernel, recurrent kernel, bias)
    of the C loop in float32 against the reference loop in float64; masks of every pattern,
    backward in one chunk and in chunks of two steps; the packed product and MKL's sgemm."""
    monkeypatch.setattr(lstm_loop, "PACKED", packed_product)
    torch.manual_seed(3)
    layer = LSTM(6, return_state=True, **{"return_sequences": True, **flags})
    x = torch.randn(5, 7, 4)
    layer(x)
    states = [torch.randn(5, 6), torch.randn(5, 6)] if with_states else []
    mask = None if mask_name is None else torch.tensor(MASKS[mask_name], dtype=torch.bool)
    if mask is not None and not with_states:
        states = [torch.zeros(5, 6), torch.zeros(5, 6)]
    layer.rnn_kernel = "rnnkit"
    got = _outputs_and_grads(layer, x, states, mask)
    twin = _float64_twin(layer, **{"return_sequences": True, **flags})
    expected = _outputs_and_grads(twin, x.double(), [s.double() for s in states],
                                  None if mask is None else mask)
    _assert_close(got, expected)


@pytest.fixture
def slices_on_three_threads():
    """Three intra-op threads, and every call sliced however small (the C side's work
    threshold off); both restored after."""
    library, _ = native.loops()
    threads = torch.get_num_threads()
    torch.set_num_threads(3)
    threshold = library.rnnkit_lstm_set_min_parallel_work(0)
    yield
    library.rnnkit_lstm_set_min_parallel_work(threshold)
    torch.set_num_threads(threads)


@needs_native
@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("mask_kind", [None, "right", "holes"])
def test_batch_slices_on_threads_equal_the_float64_reference(slices_on_three_threads, flags,
                                                             mask_kind, chunking):
    """The loop over slices of the batch (lstm_calls.c: 14 rows on 3 threads: slices of
    4, 5 and 5 rows, each a block of four and a row left over or not), forward and every
    gradient, masks, initial states, chunk edges: equal to the float64 reference."""
    library, _ = native.loops()
    assert library.rnnkit_lstm_slice_count(3, 14, 1) == 3
    assert library.rnnkit_lstm_slice_count(3, 11, 1) == 2   # slices of at least 4 rows
    torch.manual_seed(4)
    layer = LSTM(20, return_state=True, **{"return_sequences": True, **flags})
    x = torch.randn(14, 9, 3)
    layer(x)
    states = [torch.randn(14, 20), torch.randn(14, 20)]
    mask = None
    if mask_kind is not None:
        lengths = torch.randint(1, 10, (14,))
        mask = torch.arange(9)[None, :] < lengths[:, None]
        if mask_kind == "holes":
            mask = torch.rand(14, 9) < 0.7
    layer.rnn_kernel = "rnnkit"
    got = _outputs_and_grads(layer, x, states, mask)
    twin = _float64_twin(layer, **{"return_sequences": True, **flags})
    expected = _outputs_and_grads(twin, x.double(), [s.double() for s in states], mask)
    _assert_close(got, expected)


@needs_native
@pytest.mark.parametrize("units", [128, 192])
@pytest.mark.parametrize("flags", FLAGS[:3])
def test_batch_one_split_by_units_equals_the_float64_reference(slices_on_three_threads, units,
                                                               flags):
    """A batch of one row, split by units across the team with a barrier a step
    (lstm_calls.c's column_body: 128 units on 2 threads, 192 on 3), with autograd (the
    backward reads the forward's states) and without (over 32 steps, past the one-call
    inference path): equal to the float64 reference."""
    library, _ = native.loops()
    assert library.rnnkit_lstm_column_count(3, units, 1) == units // 64
    torch.manual_seed(6)
    layer = LSTM(units, return_state=True, **{"return_sequences": True, **flags})
    x = torch.randn(1, 40, 5)
    layer(x)
    states = [torch.randn(1, units), torch.randn(1, units)]
    layer.rnn_kernel = "rnnkit"
    twin = _float64_twin(layer, **{"return_sequences": True, **flags})
    got = _outputs_and_grads(layer, x, states)
    expected = _outputs_and_grads(twin, x.double(), [s.double() for s in states])
    _assert_close(got, expected)
    with torch.no_grad():
        _assert_close([o.double() for o in layer(x, initial_state=states)],
                      [o.detach() for o in twin(x.double(),
                                                initial_state=[s.double() for s in states])])


@needs_native
def test_small_calls_run_on_one_thread():
    library, _ = native.loops()
    assert library.rnnkit_lstm_slice_count(8, 64, 1000) == 1   # work under the threshold
    assert library.rnnkit_lstm_slice_count(2, 32, 64 * 32 * 64 * 256) == 2   # W2's forward
    assert library.rnnkit_lstm_slice_count(2, 7, 1 << 30) == 1   # 7 rows: no two slices of 4
    assert library.rnnkit_lstm_column_count(2, 96, 1 << 30) == 1   # not whole 64-unit blocks
    assert library.rnnkit_lstm_column_count(4, 128, 1 << 30) == 2   # a block of 64 each at most


@needs_native
@pytest.mark.parametrize("flags", FLAGS[:3])
def test_inference_in_one_c_call_equals_the_float64_reference(product_isa, flags):
    """Without autograd the LSTM runs as one C call (rnn_stream): the same outputs and
    states, from given initial states."""
    torch.manual_seed(5)
    layer = LSTM(9, return_state=True, **{"return_sequences": True, **flags})
    x, states = torch.randn(3, 6, 4), [torch.randn(3, 9), torch.randn(3, 9)]
    layer(x)
    layer.rnn_kernel = "rnnkit"
    with torch.no_grad():
        got = layer(x, initial_state=states)
    twin = _float64_twin(layer, **{"return_sequences": True, **flags})
    expected = twin(x.double(), initial_state=[s.double() for s in states])
    _assert_close([g.double() for g in got], [e.detach() for e in expected])


@needs_native
def test_dropout_masks_run_in_the_c_loop():
    """Input dropout (one mask per sequence): the C loop takes the same masks as the
    reference loop when both draw them from the same seed (float32 both)."""
    torch.manual_seed(2)
    layer = LSTM(5, dropout=0.4, return_sequences=True, return_state=True)
    x, states = torch.randn(4, 6, 3), [torch.randn(4, 5), torch.randn(4, 5)]
    layer(x)
    results = {}
    for kernel in ("reference", "rnnkit"):
        layer.rnn_kernel = kernel
        results[kernel] = _outputs_and_grads(layer, x, states, seed=11)
    _assert_close(results["rnnkit"], results["reference"])
    assert not torch.equal(results["rnnkit"][0], _outputs_and_grads(layer, x, states)[0])


@needs_native
@pytest.mark.parametrize("grad", [False, True])
def test_stateful_steps_equal_the_float64_reference(grad):
    """A stateful LSTM fed one step per call (the W7 workload), with and without autograd:
    the state carried by the C loop equals the reference loop's in float64 after each step,
    and a weight change is seen by the next call (the packed weights are rebuilt)."""
    torch.manual_seed(8)
    layer = LSTM(16, stateful=True, batch_input_shape=(1, 1, 8), return_state=True)
    twin = LSTM(16, stateful=True, batch_input_shape=(1, 1, 8), return_state=True,
                dtype="float64")
    steps = torch.randn(6, 1, 1, 8)
    layer(steps[0])
    twin(steps[0].double())
    layer.reset_states()
    twin.reset_states()
    twin.set_weights(layer.get_weights())
    layer.rnn_kernel, twin.rnn_kernel = "rnnkit", "reference"
    for k, step in enumerate(steps):
        if k == 3:   # new weights mid-stream
            weights = [w * 0.9 for w in layer.get_weights()]
            layer.set_weights(weights)
            twin.set_weights(weights)
        with torch.set_grad_enabled(grad):
            got = layer(step)
        expected = twin(step.double())
        _assert_close([g.detach().double() for g in got], [e.detach() for e in expected])


@pytest.fixture
def threads():
    """Set torch's thread count for a test, and put the run's count back after it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def test_routing_follows_the_measured_table(monkeypatch, threads):
    threads(1)
    rows = ({"batch": 32, "units": 64, "steps": 10, "mode": "train", "ratio": 0.75},
            {"batch": 64, "units": 512, "steps": 3, "mode": "train", "ratio": 1.05},
            {"batch": 1, "units": 64, "steps": 1, "mode": "forward", "ratio": 0.5},
            {"batch": 1, "units": 64, "steps": 1000, "mode": "forward", "ratio": 1.1})
    monkeypatch.setattr(lstm_routing, "_rows", lambda: rows)
    lstm_routing.decide.cache_clear()
    try:
        assert lstm_routing.decide(32, 64, "train", 10)[0]
        assert lstm_routing.decide(48, 90, "train", 12)[0]     # near the first row
        faster, why = lstm_routing.decide(64, 512, "train", 3)
        assert not faster and "1.05x" in why
        faster, why = lstm_routing.decide(32, 64, "forward", 10)
        assert not faster and "no forward measurement" in why
        # the sequence length separates short calls from long ones
        assert lstm_routing.decide(1, 64, "forward", 2)[0]
        assert not lstm_routing.decide(1, 64, "forward", 800)[0]
        if native.unavailable_reason() == "":
            layer = LSTM(64)
            x = torch.randn(32, 10, 8)
            choice = layer.select_kernel(x, training=True)
            assert choice.name == "rnnkit" and "measured 0.75x oneDNN" in choice.reason
            assert LSTM(512).select_kernel(torch.randn(64, 3, 8)).name == "torch"
    finally:
        lstm_routing.decide.cache_clear()


def test_routing_reads_the_rows_of_the_calls_thread_count(monkeypatch, threads):
    """The nearest measured thread count at or below the call's; above every measured
    count, oneDNN. The reason names the thread count of the row it read."""
    row = {"batch": 64, "units": 128, "steps": 200, "mode": "train"}
    rows = ({**row, "threads": 1, "ratio": 0.65}, {**row, "threads": 2, "ratio": 1.2},
            {**row, "threads": 4, "ratio": 0.9})
    monkeypatch.setattr(lstm_routing, "_rows", lambda: rows)
    lstm_routing.decide.cache_clear()
    try:
        faster, why = lstm_routing.decide(64, 128, "train", 200, threads=1)
        assert faster and why == ("measured 0.65x oneDNN's time at batch 64, 128 units, "
                                  "200 steps, train, 1 thread")
        faster, why = lstm_routing.decide(64, 128, "train", 200, threads=2)
        assert not faster and why.endswith("1.20x oneDNN's time at batch 64, 128 units, "
                                           "200 steps, train, 2 threads")
        faster, why = lstm_routing.decide(64, 128, "train", 200, threads=3)   # reads 2's rows
        assert not faster and why.endswith("train, 2 threads")
        assert lstm_routing.decide(64, 128, "train", 200, threads=4)[0]
        faster, why = lstm_routing.decide(64, 128, "train", 200, threads=8)   # unmeasured
        assert not faster and why == "no measurement at 8 threads (measured at 1, 2, 4)"
        if native.unavailable_reason() == "":
            layer, x = LSTM(128), torch.randn(64, 200, 8)
            threads(1)
            choice = layer.select_kernel(x, training=True)
            assert choice.name == "rnnkit" and choice.reason.endswith(
                "C loop over oneDNN: measured 0.65x oneDNN's time at batch 64, 128 units, "
                "200 steps, train, 1 thread")
            threads(2)
            choice = layer.select_kernel(x, training=True)
            assert choice.name == "torch" and "oneDNN over the C loop: the C loop measured " \
                "1.20x oneDNN's time" in choice.reason and choice.reason.endswith("2 threads")
    finally:
        lstm_routing.decide.cache_clear()


@pytest.mark.parametrize("text", [
    '{"rows": [{"batch": 1, "units": 3, "steps": 4, "mode": "train", "ratio": "0.5"}]}',
    '{"rows": [{"batch": 1, "units": 3, "steps": 4, "mode": "train"}]}',
    '{"rows": [{"threads": 0, "batch": 1, "units": 3, "mode": "train", "ratio": 0.5}]}',
    '{"rows": [{"threads": true, "batch": 1, "units": 3, "mode": "train", "ratio": 0.5}]}',
    '{"rows": [{"batch": 1, "units": 3, "mode": "sideways", "ratio": 0.5}]}',
    '{"rows": {"batch": 1}}', '{"rows": [3]}', '[]', 'not json',
    '{"rows": [], "pad": "' + "x" * (1 << 20) + '"}',
])
def test_a_malformed_or_oversized_table_routes_nothing(tmp_path, monkeypatch, text):
    table = tmp_path / "lstm_routing.json"
    table.write_text(text)
    monkeypatch.setattr(lstm_routing, "_TABLE", table)
    lstm_routing._rows.cache_clear()
    try:
        assert lstm_routing._rows() == ()
        lstm_routing.decide.cache_clear()
        assert not lstm_routing.decide(1, 3, "train", 4)[0]
    finally:
        lstm_routing._rows.cache_clear()
        lstm_routing.decide.cache_clear()


def test_the_shipped_table_is_well_formed():
    rows = lstm_routing._rows()
    assert rows, "rnnkit/kernels/lstm_routing.json is missing or empty"
    for row in rows:
        assert row["mode"] in ("train", "forward") and row["batch"] >= 1 and row["units"] >= 1
        assert row["ratio"] > 0 and row["threads"] >= 1
    # each measured thread count covers the same shapes (one run of lstm_route.py each)
    shapes = {}
    for row in rows:
        shapes.setdefault(row["threads"], set()).add(
            (row["batch"], row["units"], row["steps"], row["mode"]))
    assert 1 in shapes and len({frozenset(s) for s in shapes.values()}) == 1, shapes.keys()


def test_without_the_c_loops_an_lstm_runs_on_onednn():
    """RNNKIT_NATIVE=0: unmasked LSTMs run on torch (oneDNN), with the same numbers."""
    code = ("import torch\nfrom rnnkit.layers import LSTM\ntorch.manual_seed(0)\n"
            "layer = LSTM(3, return_sequences=True)\nx = torch.randn(1, 4, 5)\n"
            "out = layer(x)\nprint(layer.select_kernel(x).name)\n"
            "layer.rnn_kernel = 'reference'\nprint(float((layer(x) - out).abs().max()))\n")
    env = {**os.environ, "RNNKIT_NATIVE": "0", "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    name, difference = done.stdout.split()
    assert name == "torch" and float(difference) < 1e-6
