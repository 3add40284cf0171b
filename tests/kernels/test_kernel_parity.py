"""Every kernel equals the reference loop, forward and backward, for every flag it accepts."""
import itertools

import numpy as np
import pytest
import torch

from rnnkit.kernels import select_kernel
from rnnkit.kernels import native
from rnnkit.kernels.rnnkit_loop import GRUSequence, SimpleRNNSequence
from rnnkit.layers import GRU, LSTM, SimpleRNN

from cases import CASES

# every configuration of the conformance table (tests/cases.py), 5 units
LAYERS = {case.name: (lambda case: lambda **kw: case.layer(5, **kw))(case) for case in CASES}
FLAGS = list(itertools.product([False, True], [False, True], [False, True]))
REFUSALS = ("GRU reset_after=False has no torch twin", "a mask with go_backwards",
            "takes a mask only in C", "LSTM loop runs in C only")


def _run(layer, kernel, x, h0, mask):
    layer.rnn_kernel = kernel
    x = x.clone().requires_grad_(True)
    states = [s.clone().requires_grad_(True) for s in h0]
    out = layer(x, initial_state=states, mask=mask)
    outs = out if isinstance(out, list) else [out]
    torch.manual_seed(1)
    loss = sum((o * torch.randn(o.shape, dtype=o.dtype)).sum() for o in outs)
    layer.zero_grad()
    loss.backward()
    return ([o.detach() for o in outs], x.grad, [s.grad for s in states],
            [w.grad.clone() for w in layer.weights])


def _case(name, go_backwards, return_sequences, masked, dtype=torch.float64):
    torch.manual_seed(0)
    layer = LAYERS[name](go_backwards=go_backwards, return_sequences=return_sequences,
                         return_state=True, dtype="float64" if dtype == torch.float64 else None)
    x = torch.randn(4, 7, 3, dtype=dtype)
    layer(x)  # build
    with torch.no_grad():
        for w in layer.weights:  # non-zero biases so bias mistakes show
            w.add_(0.1 * torch.randn_like(w))
    h0 = [0.5 * torch.randn(4, 5, dtype=dtype) for _ in layer._state_sizes]
    mask = None
    if masked:
        lengths = torch.tensor([7, 3, 5, 1])
        mask = torch.arange(7)[None, :] < lengths[:, None]
    return layer, x, h0, mask


@pytest.mark.parametrize("go_backwards,return_sequences,masked", FLAGS)
@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("kernel", ["torch", "rnnkit"])
def test_kernel_equals_reference(kernel, name, go_backwards, return_sequences, masked):
    layer, x, h0, mask = _case(name, go_backwards, return_sequences, masked)
    try:
        layer.rnn_kernel = kernel
        layer.select_kernel(x, mask)
    except ValueError as error:
        # This kernel refuses the configuration, for one of the documented reasons only.
        assert any(reason in str(error) for reason in REFUSALS), str(error)
        return
    expected = _run(layer, "reference", x, h0, mask)
    actual = _run(layer, kernel, x, h0, mask)
    for got, want in zip(actual, expected):
        got, want = (got, want) if isinstance(got, list) else ([got], [want])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", ["lstm", "gru", "gru_reset_before", "simple_tanh"])
def test_float32_kernels_match_reference_within_keras_tolerance(name):
    layer, x, h0, mask = _case(name, False, True, False, dtype=torch.float32)
    expected = _run(layer, "reference", x, h0, None)
    actual = _run(layer, "auto", x, h0, None)
    np.testing.assert_allclose(actual[0][0].numpy(), expected[0][0].numpy(), atol=2e-6)
    for g, w in zip(actual[3], expected[3]):
        np.testing.assert_allclose(g.numpy(), w.numpy(), atol=2e-5)


def test_input_dropout_uses_the_same_mask_in_every_kernel():
    for name in ["lstm", "gru", "simple_tanh"]:
        layer, x, h0, _ = _case(name, False, True, False)
        layer.cell.dropout = 0.5
        outputs = {}
        for kernel in ["reference", "torch", "rnnkit"]:
            if kernel == "rnnkit" and name == "lstm":
                continue
            layer.rnn_kernel = kernel
            torch.manual_seed(3)
            outputs[kernel] = layer(x, initial_state=h0, training=True)[0]
        ref = outputs.pop("reference")
        for kernel, out in outputs.items():
            np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-10,
                                       err_msg=f"{name} {kernel}")


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_sequence_gradcheck(reset_after):
    torch.manual_seed(0)
    xw = torch.randn(4, 2, 9, dtype=torch.float64, requires_grad=True)  # (T, B, 3H)
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    kernel = torch.randn(3, 9, dtype=torch.float64, requires_grad=True)
    b_rec = torch.randn(9, dtype=torch.float64, requires_grad=True) if reset_after else None
    assert torch.autograd.gradcheck(
        lambda a, b, c, *d: GRUSequence.apply(a, b, c, d[0] if d else None, reset_after),
        (xw, h0, kernel) + ((b_rec,) if reset_after else ()))


@pytest.mark.parametrize("relu", [False, True])
def test_simple_rnn_sequence_gradcheck(relu):
    torch.manual_seed(0)
    xw = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)  # (T, B, H)
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    kernel = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: SimpleRNNSequence.apply(a, b, c, relu),
                                    (xw, h0, kernel))


def test_auto_selection_and_reasons():
    x = torch.randn(2, 5, 3)
    # unmasked: oneDNN, or the C loop where lstm_routing.json measured it faster
    in_c = native.loops() is not None
    lstm_choice = LSTM(4).select_kernel(x)
    assert lstm_choice.name in (("torch", "rnnkit") if in_c else ("torch",))
    assert "oneDNN" in lstm_choice.reason
    assert GRU(4).select_kernel(x).name == "rnnkit"
    assert GRU(4, reset_after=False).select_kernel(x).name == "rnnkit"
    assert SimpleRNN(4).select_kernel(x).name == "rnnkit"
    with torch.no_grad():  # a forward alone: rnnkit's C loop, else torch's C++ loop
        in_c = native.loops() is not None
        assert SimpleRNN(4).select_kernel(x).name == ("rnnkit" if in_c else "torch")
        assert SimpleRNN(4, dtype="float64").select_kernel(x.double()).name == "torch"
        assert GRU(4).select_kernel(x).name == "rnnkit"
    assert ("in C" if in_c else "in Python") in GRU(4).select_kernel(x).reason
    choice = LSTM(4, recurrent_activation="hard_sigmoid").select_kernel(x)
    assert choice.name == "reference" and "hard_sigmoid" in choice.reason
    holes = np.array([[1, 0, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=bool)
    assert LSTM(4).select_kernel(x, mask=holes).name == ("rnnkit" if in_c else "reference")
    choice = LSTM(4, dtype="float64").select_kernel(x.double(), mask=holes)
    assert choice.name == "reference" and "right-padded" in choice.reason
    right = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=bool)
    # a mask: rnnkit's C loop, else torch's packed sequences
    assert GRU(4).select_kernel(x, mask=right).name == ("rnnkit" if in_c else "torch")
    dropped = LSTM(4, recurrent_dropout=0.2)
    assert dropped.select_kernel(x).name == lstm_choice.name   # no dropout outside training
    assert dropped.select_kernel(x, training=True).name == "reference"


def test_forcing_an_unsupported_kernel_raises_with_the_reason():
    layer = GRU(4, reset_after=False)
    layer.rnn_kernel = "torch"
    with pytest.raises(ValueError, match="cannot use the 'torch' kernel: GRU reset_after=False"):
        layer(np.zeros((1, 3, 2), dtype=np.float32))
    lstm = LSTM(4, dtype="float64")
    lstm.rnn_kernel = "rnnkit"
    with pytest.raises(ValueError, match="LSTM loop runs in C only"):
        lstm.select_kernel(np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="rnn_kernel must be one of"):
        lstm.rnn_kernel = "cudnn"


def test_inference_reuses_cached_torch_weights_until_they_change(monkeypatch):
    from rnnkit.kernels import torch_layout

    layouts = []
    convert = torch_layout.keras_to_torch_gru
    monkeypatch.setattr(torch_layout, "keras_to_torch_gru",
                        lambda *args: layouts.append(1) or convert(*args))
    layer = GRU(4)
    layer.rnn_kernel = "torch"
    x = torch.randn(2, 3, 2)
    with torch.no_grad():
        first = layer(x)
        assert len(layouts) == 1
        layer(x)
        assert len(layouts) == 1  # the same weights: laid out once
        layer.cell.kernel.add_(1.0)
        changed = layer(x)
        assert len(layouts) == 2
    assert not torch.allclose(first, changed)


@pytest.mark.parametrize("name", ["gru", "gru_reset_before", "gru_nobias", "simple_tanh", "simple_relu"])
def test_chunked_backward_equals_reference(name, monkeypatch):
    from rnnkit.kernels import loop_chunks

    chunks = loop_chunks.chunks_backwards
    # Two or three steps per chunk, so that chunk edges fall inside the 7-step sequence.
    monkeypatch.setattr(loop_chunks, "chunks_backwards",
                        lambda steps, size: chunks(steps, size, budget=int(2.5 * size)))
    layer, x, h0, _ = _case(name, False, True, False)
    expected = _run(layer, "reference", x, h0, None)
    actual = _run(layer, "rnnkit", x, h0, None)
    for got, want in zip(actual[1:], expected[1:]):
        got, want = (got, want) if isinstance(got, list) else ([got], [want])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-9, atol=1e-10)


def test_training_steps_see_updated_weights_through_the_layout_cache():
    """Views cached with autograd on follow optimizer updates: training still matches."""
    torch.manual_seed(0)
    x = torch.randn(4, 6, 3)
    target = torch.randn(4, 5)
    results = []
    for kernel in ["reference", "torch"]:
        torch.manual_seed(0)
        layer = GRU(5)
        layer.build((4, 6, 3))
        layer.rnn_kernel = kernel
        optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
        losses = []
        for _ in range(4):
            optimizer.zero_grad()
            loss = ((layer(x) - target) ** 2).mean()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        results.append(losses)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
    assert results[0][-1] < results[0][0]


def test_a_user_function_named_like_an_activation_gets_the_reference_loop():
    def tanh(x):  # not tanh at all
        return torch.sin(x)

    x = torch.randn(2, 3, 4)
    assert SimpleRNN(3, activation=tanh).select_kernel(x).name == "reference"
    assert SimpleRNN(3, activation=torch.tanh).select_kernel(x).name == "rnnkit"
    assert SimpleRNN(3, activation="tanh").select_kernel(x).name == "rnnkit"


@pytest.mark.parametrize("reset_after", [True, False])
def test_last_step_only_loops_gradcheck(reset_after):
    """return_sequences=False: the loops return h_T alone and start the backward from it."""
    torch.manual_seed(0)
    xw = torch.randn(4, 2, 9, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    kernel = torch.randn(3, 9, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b, c: GRUSequence.apply(a, b, c, None, reset_after, True), (xw, h0, kernel))
    xw1 = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    kernel1 = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b, c: SimpleRNNSequence.apply(a, b, c, not reset_after, True), (xw1, h0, kernel1))
    full = SimpleRNNSequence.apply(xw1, h0, kernel1, False, False)
    np.testing.assert_allclose(SimpleRNNSequence.apply(xw1, h0, kernel1, False, True).detach(),
                               full[:, -1].detach())
