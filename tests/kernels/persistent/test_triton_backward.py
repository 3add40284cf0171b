"""Training through the persistent kernels (forward + backward kernel + the products
around them) against autograd through the float64 reference loop."""
import pytest
import torch

pytest.importorskip("triton")

from rnnkit.kernels.persistent.autograd import PersistentSequence  # noqa: E402
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


def _gradients(layer, x, states, run):
    """Gradients of a fixed weighting of every output and final state, for the layer's
    weights, the input and the initial states."""
    leaves = list(layer.parameters()) + [x] + states
    for leaf in leaves:
        leaf.grad = None
    outputs = run()
    loss = sum((o * torch.linspace(-1, 2, o.numel(), dtype=o.dtype, device=o.device)
                .view_as(o)).sum() for o in outputs)
    loss.backward()
    return [leaf.grad.detach().double().cpu() for leaf in leaves]


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("programs", [1, 3])
def test_gradients_equal_the_float64_reference(name, programs):
    if name == "gru_reset_before" and programs > 1 and DEVICE == "cpu":
        pytest.skip("two exchanges a step: one program at a time can't meet mid-step")
    kind, options = LAYERS[name]
    units, batch, steps = 10, 3, 6
    torch.manual_seed(2)
    reference = kind(units, return_sequences=True, return_state=True, dtype="float64", **options)
    x = torch.randn(batch, steps, 4, dtype=torch.float64, requires_grad=True)
    reference(x)
    reference.rnn_kernel = "reference"
    count = 2 if kind is LSTM else 1
    states = [(torch.randn(batch, units, dtype=torch.float64) * 0.5).requires_grad_()
              for _ in range(count)]
    expected = _gradients(reference, x, states, lambda: reference(x, initial_state=states))

    layer = kind(units, return_sequences=True, return_state=True, **options)
    layer.build((None, steps, 4))
    layer.set_weights([w.astype("float32") for w in reference.get_weights()])
    layer.to(DEVICE)
    x32 = x.detach().float().to(DEVICE).requires_grad_()
    states32 = [s.detach().float().to(DEVICE).requires_grad_() for s in states]
    cell = layer.cell
    cell_name = name if name == "gru_reset_before" else "gru" if kind is GRU else name
    plan = make_plan(cell_name, units, batch, programs=programs)
    assert plan.programs == programs

    def run():
        xw = cell.project_inputs(x32.transpose(0, 1))
        rec_bias = (cell.bias[1] if kind is GRU and cell.reset_after and cell.bias is not None
                    else None)
        outputs, h_last, c_last = PersistentSequence.apply(
            xw, states32[0], states32[1] if count == 2 else None, cell.recurrent_kernel,
            rec_bias, plan, DEVICE == "cpu" and programs > 1)
        return [outputs.transpose(0, 1), h_last] + ([c_last] if count == 2 else [])

    got = _gradients(layer, x32, states32, run)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert e.abs().sum() > 0
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("options", [{}, {"go_backwards": True}, {"return_sequences": False}])
@pytest.mark.parametrize("kind,cell_options", [(LSTM, {}), (GRU, {}), (SimpleRNN, {}),
                                               (GRU, {"reset_after": False})])
def test_a_forced_layer_trains_through_it_as_through_its_default_kernel(kind, cell_options,
                                                                        options):
    torch.manual_seed(0)
    layer = kind(6, **cell_options, **options).to(DEVICE)
    x = torch.randn(3, 5, 4, device=DEVICE)
    layer(x)
    grads = {}
    for kernel in ("auto", "persistent"):
        layer.rnn_kernel = kernel
        layer.zero_grad()
        assert layer.select_kernel(x, training=True).name != "persistent" or kernel != "auto"
        layer(x).square().sum().backward()
        grads[kernel] = [p.grad.clone() for p in layer.parameters()]
    for a, b in zip(grads["auto"], grads["persistent"]):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
