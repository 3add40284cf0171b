"""GRU and SimpleRNN inference in one C call (``rnn_stream``, ``native/stream_infer.c``) and
their loops' packed recurrent product for small batches (``rnnkit_loop.PACKED_BATCH``),
against the reference loop in float64. Without the C loops (``RNNKIT_NATIVE=0``) the same
tests run rnnkit's Python loops."""
import numpy as np
import pytest
import torch

from rnnkit.kernels import native, rnn_stream, rnnkit_loop
from rnnkit.layers import GRU, SimpleRNN

IN_C = native.unavailable_reason() == ""
CASES = {   # id: (layer class, constructor arguments)
    "gru": (GRU, {}),
    "gru-reset-before": (GRU, {"reset_after": False}),
    "gru-no-bias": (GRU, {"use_bias": False}),
    "gru-reset-before-no-bias": (GRU, {"reset_after": False, "use_bias": False}),
    "simple-tanh": (SimpleRNN, {}),
    "simple-relu": (SimpleRNN, {"activation": "relu"}),
    "simple-relu-no-bias": (SimpleRNN, {"activation": "relu", "use_bias": False}),
}
FLAGS = [{}, {"go_backwards": True}, {"return_sequences": False}]


@pytest.fixture(params=["avx2-or-best", "portable"])
def product_isa(request):
    """The best product this CPU has, then the portable C one (one run without C)."""
    if not IN_C:
        if request.param == "portable":
            pytest.skip("the C loops are unavailable here")
        yield request.param
        return
    library, _ = native.loops()
    library.rnnkit_product_force_portable(request.param == "portable")
    yield request.param
    library.rnnkit_product_force_portable(0)


@pytest.fixture
def stream_calls(monkeypatch):
    """Counts the calls that ran as one C call (rnn_stream's two entry points)."""
    calls = []
    for name in ("run_gru_inference", "run_simple_inference"):
        original = getattr(rnn_stream, name)

        def spy(*args, _original=original, **kwargs):
            calls.append(_original)
            return _original(*args, **kwargs)
        monkeypatch.setattr(rnn_stream, name, spy)
    return calls


def _twins(case, units, features, **flags):
    cls, arguments = CASES[case]
    torch.manual_seed(len(case) * 7 + units)
    layer = cls(units, return_state=True, **arguments, **flags)
    twin = cls(units, return_state=True, dtype="float64", **arguments, **flags)
    layer.build((None, None, features))
    twin.build((None, None, features))
    # non-zero biases: a misplaced bias block shows
    layer.set_weights([w + 0.1 * np.arange(w.size, dtype=w.dtype).reshape(w.shape) % 0.7
                       if i == 2 else w for i, w in enumerate(layer.get_weights())])
    twin.set_weights(layer.get_weights())
    layer.rnn_kernel, twin.rnn_kernel = "rnnkit", "reference"
    return layer, twin


def _assert_close(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.detach().double().numpy(), e.detach().numpy(), rtol=1e-4,
                                   atol=2e-5)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("flags", FLAGS, ids=["plain", "go_backwards", "last_only"])
@pytest.mark.parametrize("batch,steps", [(1, 1), (1, 6), (3, 5)])
def test_inference_in_one_c_call_equals_the_float64_reference(product_isa, stream_calls, case,
                                                              flags, batch, steps):
    """Without autograd, calls of up to STREAM_ROWS rows run as one C call: the outputs and
    the state equal the reference loop's in float64, from given initial states (units not a
    multiple of the product's 16-column panels)."""
    layer, twin = _twins(case, 19, 5, **{"return_sequences": True, **flags})
    x, h0 = torch.randn(batch, steps, 5), torch.randn(batch, 19)
    with torch.no_grad():
        got = layer(x, initial_state=[h0])
        expected = twin(x.double(), initial_state=[h0.double()])
    _assert_close(got, expected)
    assert len(stream_calls) == (1 if IN_C else 0)


def test_long_or_autograd_calls_leave_the_one_call_path(stream_calls):
    layer, _ = _twins("gru", 8, 3)
    with torch.no_grad():
        layer(torch.randn(2, rnnkit_loop.STREAM_ROWS, 3))   # 64 rows
    layer(torch.randn(1, 2, 3))   # autograd on
    assert stream_calls == []


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("grad", [False, True])
def test_stateful_steps_equal_the_float64_reference(case, grad):
    """A stateful layer fed one step per call (the W7 workload), with and without autograd:
    the state carried equals the reference loop's in float64 after each step, and a weight
    changed in place mid-stream is seen by the next call (the packed weights are rebuilt)."""
    cls, arguments = CASES[case]
    torch.manual_seed(8)
    layer = cls(20, stateful=True, batch_input_shape=(1, 1, 8), return_state=True, **arguments)
    twin = cls(20, stateful=True, batch_input_shape=(1, 1, 8), return_state=True,
               dtype="float64", **arguments)
    steps = torch.randn(7, 1, 1, 8)
    layer(steps[0])
    twin(steps[0].double())
    layer.reset_states()
    twin.reset_states()
    twin.set_weights(layer.get_weights())
    layer.rnn_kernel, twin.rnn_kernel = "rnnkit", "reference"
    for k, step in enumerate(steps):
        if k == 3:   # new weights mid-stream, written in place (set_weights)
            weights = [w * 0.9 + 0.01 for w in layer.get_weights()]
            layer.set_weights(weights)
            twin.set_weights(weights)
        if k == 5:   # and through the parameter itself
            with torch.no_grad():
                layer.cell.recurrent_kernel.mul_(-1)
                twin.cell.recurrent_kernel.mul_(-1)
        with torch.set_grad_enabled(grad):
            got = layer(step)
        _assert_close(got, twin(step.double()))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("batch", [1, 3, rnnkit_loop.PACKED_BATCH + 2])
def test_small_batch_loops_train_equal_the_float64_reference(product_isa, chunking, case,
                                                             batch):
    """With autograd: batches up to PACKED_BATCH (over PACKED_MIN_STEPS steps) run the
    forward's recurrent products through the packed product, larger ones through sgemm;
    outputs and every gradient match."""
    layer, twin = _twins(case, 17, 4, return_sequences=True)
    steps = rnnkit_loop.PACKED_MIN_STEPS + 2
    x, h0 = torch.randn(batch, steps, 4), torch.randn(batch, 17)
    results = []
    for model, dtype in ((layer, torch.float32), (twin, torch.float64)):
        inputs = x.to(dtype).clone().requires_grad_()
        initial = h0.to(dtype).clone().requires_grad_()
        outputs = model(inputs, initial_state=[initial])
        noise = torch.Generator().manual_seed(3)
        sum((o.double() * torch.randn(o.shape, generator=noise, dtype=torch.float64)).sum()
            for o in outputs).backward()
        results.append([o.detach().double() for o in outputs]
                       + [inputs.grad.double(), initial.grad.double()]
                       + [p.grad.double() for p in model.parameters()])
    _assert_close(results[0], results[1])


@pytest.mark.parametrize("layer_class", ["GRU", "SimpleRNN", "LSTM"])
def test_a_replaced_parameter_is_never_read_from_a_stale_pack(layer_class):
    """A parameter replaced by a new one (not changed in place) may take a freed one's id()
    and version 0: the packed-weight caches must still see a new weight."""
    import gc

    import rnnkit.layers as layers
    layer = getattr(layers, layer_class)(4)
    twin = getattr(layers, layer_class)(4)
    x = torch.randn(1, 3, 2)
    with torch.no_grad():
        layer(x)
        twin(x)
        for round_ in range(10):
            # replaced twice between calls: the cached one is freed before the second
            # replacement is made, which can then sit at its address
            for _ in range(2):
                fresh = torch.nn.Parameter(torch.randn_like(layer.cell._parameters["kernel"]))
                layer.cell._parameters["kernel"] = fresh
                del fresh
                gc.collect()
            twin.set_weights(layer.get_weights())
            torch.testing.assert_close(layer(x), twin(x), msg=f"round {round_}")
