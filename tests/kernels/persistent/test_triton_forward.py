"""The Triton kernel itself, under Triton's interpreter on the CPU (on CUDA when present),
against the float64 reference loop. Programs run one after another in the interpreter, so
several programs run one step per launch (the launcher's ``step_by_step``)."""
import pytest
import torch

triton = pytest.importorskip("triton")

from rnnkit.kernels.persistent.plan import make_plan  # noqa: E402
from rnnkit.kernels.persistent.runner import interpreting  # noqa: E402
from rnnkit.layers import GRU, LSTM, SimpleRNN  # noqa: E402
from cases import with_bias  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
pytestmark = pytest.mark.skipif(DEVICE == "cpu" and not interpreting(),
                                reason="no CUDA and TRITON_INTERPRET is off")
# the persistent kernel's cells, one per configuration of the conformance table
# (tests/cases.py) with a bias: (layer class, its options)
LAYERS = {case.persistent: (case.layer_class, case.options) for case in with_bias()}
# float16 rounds the weights and h for the products: 1e-5 relative of |h| <= 1 is out of
# reach, the 1e-2 is not (bf16 is left to the GPU: the interpreter's bf16 dot is wrong).
TOLERANCE = {torch.float32: 1e-5, torch.float16: 1e-2}


def _layer(cell_name, units, **options):
    kind, extra = LAYERS[cell_name]
    torch.manual_seed(1)
    return kind(units, return_sequences=True, return_state=True, **extra, **options)


def _run(cell_name, units=8, batch=2, steps=5, dtype=torch.float32, programs=None,
         use_bias=True):
    from rnnkit.kernels.persistent.triton_forward import launch

    layer = _layer(cell_name, units, use_bias=use_bias)
    x = torch.randn(batch, steps, 3)
    layer(x)
    states = [torch.randn(batch, units) * 0.5 for _ in range(2 if cell_name == "lstm" else 1)]
    reference = _layer(cell_name, units, use_bias=use_bias, dtype="float64")
    reference(x.double())
    reference.set_weights([w.astype("float64") for w in layer.get_weights()])
    reference.rnn_kernel = "reference"
    cell = layer.cell.to(DEVICE)
    with torch.no_grad():
        expected = reference(x.double(), initial_state=[s.double() for s in states])
        xw = cell.project_inputs(x.to(DEVICE).transpose(0, 1)).to(dtype)
        plan = make_plan(cell_name, units, batch, dtype, programs=programs)
        rec_bias = cell.bias[1] if cell_name == "gru" and use_bias else None
        got = launch(plan, xw, cell.recurrent_kernel, states[0].to(DEVICE),
                     states[1].to(DEVICE) if cell_name == "lstm" else None, rec_bias,
                     step_by_step=DEVICE == "cpu" and plan.programs > 1)
    return plan, got, expected


def _close(got, expected, dtype):
    tol = TOLERANCE[dtype]
    torch.testing.assert_close(got.double().cpu(), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("cell_name", sorted(LAYERS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_one_program_equals_the_float64_reference(cell_name, dtype):
    plan, (outputs, h_last, c_last), expected = _run(cell_name, dtype=dtype)
    assert plan.programs == 1
    _close(outputs.transpose(0, 1), expected[0], dtype)
    _close(h_last, expected[1], dtype)
    if cell_name == "lstm":
        _close(c_last, expected[2], dtype)


@pytest.mark.parametrize("cell_name", ["tanh", "lstm", "gru"])
def test_several_programs_each_own_their_slab(cell_name):
    # 10 units over 3 programs of 4: the last owns 2, and masks its padding
    plan, (outputs, h_last, c_last), expected = _run(cell_name, units=10, batch=3, programs=3)
    assert plan.programs == 3 and list(plan.slab(2)) == [8, 9]
    _close(outputs.transpose(0, 1), expected[0], torch.float32)
    if cell_name == "lstm":
        _close(c_last, expected[2], torch.float32)


@pytest.mark.parametrize("cell_name", ["lstm", "gru", "gru_reset_before"])
def test_tensor_core_tiles_equal_the_reference(cell_name):
    plan, (outputs, _, _), expected = _run(cell_name, units=16, batch=16, steps=3)
    assert plan.use_dot
    _close(outputs.transpose(0, 1), expected[0], torch.float32)


def test_without_bias():
    _, (outputs, _, _), expected = _run("gru", use_bias=False)
    _close(outputs.transpose(0, 1), expected[0], torch.float32)


@pytest.mark.skipif(DEVICE != "cpu", reason="the interpreter's sequential programs")
def test_a_barrier_that_cannot_be_reached_times_out_with_an_error_not_a_hang():
    # In the interpreter a second phase with two programs waits for a program that has
    # not run yet: the wait gives up after max_polls and the launcher raises.
    from rnnkit.kernels.persistent.triton_forward import launch

    layer = _layer("gru_reset_before", 8)
    layer(torch.randn(2, 3, 3))
    xw = torch.randn(3, 2, 24)
    plan = make_plan("gru_reset_before", 8, 2, programs=2)
    with pytest.raises(RuntimeError, match="barrier timed out after 50 polls"):
        launch(plan, xw, layer.cell.recurrent_kernel.detach(), torch.zeros(2, 8),
               step_by_step=True, max_polls=50)


@pytest.mark.parametrize("options", [{}, {"go_backwards": True}, {"return_sequences": False},
                                     {"return_state": True, "stateful": False}])
@pytest.mark.parametrize("kind", [LSTM, GRU, SimpleRNN])
def test_layers_run_it_when_asked_and_match_their_default_kernel(kind, options):
    torch.manual_seed(0)
    layer = kind(6, **options).to(DEVICE)
    x = torch.randn(3, 4, 5, device=DEVICE)
    with torch.no_grad():
        expected = layer(x)
        layer.rnn_kernel = "persistent"
        assert layer.select_kernel(x).name == "persistent"
        got = layer(x)
    for a, b in zip(got if isinstance(got, list) else [got],
                    expected if isinstance(expected, list) else [expected]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_forcing_it_where_it_cannot_run_says_why():
    layer = LSTM(4)
    x = torch.randn(2, 3, 5)
    layer(x)
    layer.rnn_kernel = "persistent"
    with torch.no_grad(), pytest.raises(ValueError, match="'persistent' kernel: it does not take a mask"):
        layer(x, mask=torch.ones(2, 3, dtype=torch.bool))
    with torch.no_grad(), pytest.raises(ValueError, match="batch 65 is above"):
        layer(torch.randn(65, 3, 5))


@pytest.mark.parametrize("cell_name", sorted(LAYERS))
def test_the_mixed_bfloat16_policy_runs_it_within_1e_2_of_float64(cell_name):
    # bf16 inputs and weights, float32 accumulation and exchange. (On the CPU this is the
    # broadcast product, which converts to float32 itself: the interpreter's bf16 tl.dot
    # is wrong, so batches of 16+ in bf16 are left to the GPU script.)
    kind, extra = LAYERS[cell_name]
    torch.manual_seed(4)
    layer = kind(8, return_sequences=True, dtype="mixed_bfloat16", **extra).to(DEVICE)
    x = torch.randn(3, 6, 4, device=DEVICE)
    layer(x)
    reference = kind(8, return_sequences=True, dtype="float64", **extra)
    reference(x.double().cpu())
    reference.set_weights([w.astype("float64") for w in layer.get_weights()])
    reference.rnn_kernel = "reference"
    layer.rnn_kernel = "persistent"
    with torch.no_grad():
        got, expected = layer(x), reference(x.double().cpu())
    assert got.dtype == torch.bfloat16
    error = (got.double().cpu() - expected).abs().max() / max(1.0, expected.abs().max())
    assert error <= 1e-2
