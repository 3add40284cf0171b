"""The persistent kernel's schedule, simulated on the CPU, against the reference loop."""
import pytest
import torch

from rnnkit.kernels.persistent.plan import make_plan
from rnnkit.kernels.persistent.simulator import ScheduleError, simulate
from rnnkit.layers import GRU

from cases import with_bias

# the persistent kernel's cells, one per configuration of the conformance table
# (tests/cases.py) with a bias: (layer class, its options)
LAYERS = {case.persistent: (case.layer_class, case.options) for case in with_bias()}
UNITS = 10


def _setup(cell_name, seed=0):
    """The cell, its projected inputs, random initial states and the reference's
    ``[outputs, *final states]`` in float64."""
    torch.manual_seed(seed)
    kind, options = LAYERS[cell_name]
    layer = kind(UNITS, return_sequences=True, return_state=True, dtype="float64", **options)
    x = torch.randn(3, 7, 4, dtype=torch.float64)
    states = [torch.randn(3, UNITS, dtype=torch.float64)
              for _ in range(2 if cell_name == "lstm" else 1)]
    layer(x)
    layer.rnn_kernel = "reference"
    with torch.no_grad():
        expected = layer(x, initial_state=states)
        xw = layer.cell.project_inputs(x.transpose(0, 1))
    return layer.cell, xw, states, expected


def _simulate(cell_name, programs, **options):
    cell, xw, states, expected = _setup(cell_name)
    plan = make_plan(cell_name, UNITS, 3, torch.float64, programs=programs)
    with torch.no_grad():
        got = simulate(plan, cell, xw, states[0], states[1] if cell_name == "lstm" else None,
                       **options)
    return got, expected


@pytest.mark.parametrize("cell_name", sorted(LAYERS))
@pytest.mark.parametrize("programs", [1, 2, 3, 5])
@pytest.mark.parametrize("order", ["random", "forward", "backward"])
def test_any_interleaving_of_the_programs_computes_the_reference(cell_name, programs, order):
    (outputs, h_last, c_last), expected = _simulate(cell_name, programs, order=order,
                                                    seed=programs)
    exact = dict(rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(outputs.transpose(0, 1), expected[0], **exact)
    torch.testing.assert_close(h_last, expected[1], **exact)
    if cell_name == "lstm":  # the cell state, kept per program, ends as the reference's
        torch.testing.assert_close(c_last, expected[2], **exact)
    else:
        assert c_last is None


@pytest.mark.parametrize("cell_name", ["lstm", "gru"])
def test_one_exchange_slot_is_caught_overwriting_a_step_still_being_read(cell_name):
    # With one slot a fast program publishes h_t where a slow one still reads h_{t-1}.
    caught = 0
    for seed in range(20):
        try:
            _simulate(cell_name, 3, buffers=1, order="random", seed=seed)
        except ScheduleError as error:
            assert "expecting step" in str(error)
            caught += 1
    assert caught > 0


def test_with_two_barriers_a_step_one_slot_would_already_be_safe():
    # GRU reset_after=False: every program has read h_{t-1} before it publishes r*h, so
    # the second barrier already orders the h write after every read (and the first
    # barrier of the next step does the same for r*h). Two slots are kept for uniformity.
    for seed in range(20):
        (outputs, _, _), expected = _simulate("gru_reset_before", 3, buffers=1, seed=seed)
        torch.testing.assert_close(outputs.transpose(0, 1), expected[0], rtol=1e-12, atol=1e-12)


def test_a_barrier_one_arrival_short_is_caught_reading_a_step_not_yet_published():
    with pytest.raises(ScheduleError, match="expecting step"):
        for seed in range(20):
            _simulate("lstm", 3, target_shift=-1, order="random", seed=seed)


def test_a_barrier_waiting_for_one_arrival_too_many_deadlocks_and_says_so():
    with pytest.raises(ScheduleError, match="deadlock"):
        _simulate("gru", 2, target_shift=1)


def test_with_one_program_nothing_waits():
    (outputs, _, _), expected = _simulate("tanh", 1, order="forward")
    torch.testing.assert_close(outputs.transpose(0, 1), expected[0], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- the backward protocol
def _backward_gradients(name, programs, monkeypatch, **options):
    """Gradients through ``PersistentSequence`` with its backward kernel replaced by the
    simulated schedule, and the float64 reference loop's."""
    from rnnkit.kernels.persistent import autograd, simulator, triton_backward

    def simulated(plan, factors, recurrent, d_out, d_last, d_cell_last, step_by_step=False):
        return simulator.simulate_backward(plan, factors, recurrent, d_out, d_last,
                                           d_cell_last, **options)

    monkeypatch.setattr(triton_backward, "launch_backward", simulated)
    forward_plan = make_plan(name, UNITS, 3, torch.float64, programs=programs)

    def fake_forward(ctx, xw, h0, c0, recurrent, rec_bias, plan, step_by_step):
        # the forward pass by the (already tested) simulator, so no triton is needed here
        outputs, h_last, c_last = simulate(plan, cell, xw.double(), h0.double(),
                                           None if c0 is None else c0.double(), order="forward")
        cells = None
        if plan.cell == "lstm":
            cells = _lstm_cells(cell, xw, h0, c0)
        ctx.plan, ctx.step_by_step = plan, False
        ctx.save_for_backward(xw, h0, c0, recurrent, rec_bias, outputs.float(), cells)
        ctx.set_materialize_grads(False)
        return outputs.float(), h_last.float(), None if c_last is None else c_last.float()

    kind, extra = LAYERS[name]
    torch.manual_seed(3)
    layer = kind(UNITS, return_sequences=True, return_state=True, dtype="float64", **extra)
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    layer(x)
    cell = layer.cell
    count = 2 if name == "lstm" else 1
    states = [(torch.randn(3, UNITS, dtype=torch.float64) * 0.5).requires_grad_()
              for _ in range(count)]
    layer.rnn_kernel = "reference"
    leaves = list(layer.parameters()) + states
    out = layer(x, initial_state=states)
    sum((o * torch.linspace(-1, 2, o.numel(), dtype=o.dtype).view_as(o)).sum()
        for o in out).backward()
    expected = [leaf.grad.clone() for leaf in leaves]
    for leaf in leaves:
        leaf.grad = None
    monkeypatch.setattr(autograd.PersistentSequence, "forward", staticmethod(fake_forward))
    xw = cell.project_inputs(x.transpose(0, 1)).float()
    rec_bias = cell.bias[1].float() if name == "gru" else None
    outputs, h_last, c_last = autograd.PersistentSequence.apply(
        xw, states[0].float(), states[1].float() if count == 2 else None,
        cell.recurrent_kernel.float(), rec_bias, forward_plan, False)
    got = [outputs.transpose(0, 1), h_last] + ([c_last] if count == 2 else [])
    sum((o * torch.linspace(-1, 2, o.numel()).view_as(o)).sum() for o in got).backward()
    return [leaf.grad for leaf in states], expected[-count:]


def _lstm_cells(cell, xw, h0, c0):
    """Every step's cell state, by the reference loop (the forward kernel writes these)."""
    states, cells = [h0.double(), c0.double()], []
    for t in range(xw.shape[0]):
        _, states = cell.step(xw[t].double(), states)
        cells.append(states[1])
    return torch.stack(cells).float()


@pytest.mark.parametrize("cell_name", sorted(LAYERS))
@pytest.mark.parametrize("programs", [1, 3])
def test_the_backward_schedule_gives_the_reference_gradients(cell_name, programs, monkeypatch):
    got, expected = _backward_gradients(cell_name, programs, monkeypatch, order="random",
                                        seed=programs)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g.double(), e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cell_name", ["lstm", "gru_reset_before"])
def test_a_backward_barrier_one_arrival_short_is_caught(cell_name, monkeypatch):
    with pytest.raises(ScheduleError, match="before columns"):
        for seed in range(20):
            _backward_gradients(cell_name, 3, monkeypatch, order="random", seed=seed,
                                target_shift=-1)
