"""The C time loops (``rnnkit.kernels.native``) against the Python loops and float64.

The C loops only run float32 on the CPU: each case runs ``rnnkit_loop``'s functions in
float32 twice, with the C loops and with the Python loops, and in float64 (always the
Python loops) as the reference, forward and backward.
"""
import itertools
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnkit.kernels import native
from rnnkit.kernels.rnnkit_loop import GRUSequence, SimpleRNNSequence


def _native_expected() -> bool:
    return (sys.platform.startswith("linux") and shutil.which("cc") is not None
            and native._find_sgemm() is not None and os.environ.get("RNNKIT_NATIVE") != "0")


needs_native = pytest.mark.skipif(not _native_expected(),
                                  reason="no C compiler or no sgemm_ in this torch build")


def test_native_loops_build_where_they_can():
    if _native_expected():
        assert native.loops() is not None, native.unavailable_reason()
        assert native.unavailable_reason() == ""
    else:
        assert native.loops() is None and native.unavailable_reason()


@needs_native
@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_activations_match_float64(name):
    library, _ = native.loops()
    grid = torch.cat([torch.linspace(-100, 100, 400_001, dtype=torch.float64),
                      torch.logspace(-30, 1, 20_001, dtype=torch.float64)])
    grid = torch.cat([grid, -grid])
    values = grid.float().contiguous()
    getattr(library, f"rnnkit_{name}")(values.data_ptr(), values.numel())
    exact = getattr(torch, name)(grid.float().double())   # the float32 inputs, exactly
    error = (values.double() - exact).abs()
    assert error.max() < 1.2e-7
    if name == "tanh":  # no cancellation near zero: small relative error everywhere
        relative = error / exact.abs().clamp_min(1e-38)
        assert relative.max() < 3e-7


@needs_native
def test_activations_at_the_edges():
    """NaN stays NaN (TerminateOnNaN must see it); infinities saturate."""
    library, _ = native.loops()
    edges = [float("inf"), float("-inf"), float("nan"), 1e-40]
    for name, expected in (("tanh", [1.0, -1.0, None, 1e-40]), ("sigmoid", [1.0, 0.0, None, 0.5])):
        values = torch.tensor(edges)
        getattr(library, f"rnnkit_{name}")(values.data_ptr(), values.numel())
        assert torch.isnan(values[2])
        np.testing.assert_allclose(values[[0, 1, 3]].numpy(),
                                   [expected[0], expected[1], expected[3]], rtol=1e-6, atol=1e-38)


def _run(function, inputs, grad_of_output, use_native, monkeypatch):
    """Outputs and gradients of ``function`` with or without the C loops."""
    if not use_native:
        monkeypatch.setattr(native, "usable", lambda *tensors: False)
    leaves = [t.detach().clone().requires_grad_(t.requires_grad) for t in inputs]
    out = function(*leaves)
    grad_of_output(out).backward()
    monkeypatch.undo()
    return [out.detach()] + [t.grad for t in leaves if t.requires_grad]


def _check(function, inputs, grad_of_output, monkeypatch):
    float32 = [t.float() if t.is_floating_point() else t for t in inputs]
    with_c = _run(function, float32, grad_of_output, True, monkeypatch)
    python = _run(function, float32, grad_of_output, False, monkeypatch)
    exact = _run(function, [t.double() for t in inputs], grad_of_output, False, monkeypatch)
    for c, p, e in zip(with_c, python, exact):
        assert (c is None) == (p is None) == (e is None)
        if c is None:   # an input this configuration does not use
            continue
        np.testing.assert_allclose(c.numpy(), e.numpy(), atol=2e-5, rtol=1e-4)
        np.testing.assert_allclose(c.numpy(), p.numpy(), atol=2e-5, rtol=1e-4)


# Each way a gradient reaches the loop: a dense one, the expanded one of .sum() (stride 0),
# and a transposed one (rows not contiguous).
GRADIENTS = {
    "dense": lambda out: (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype)
                          .view(out.shape)).sum(),
    "sum": lambda out: out.sum(),
    "transposed": lambda out: (out.transpose(-1, -2).contiguous().transpose(-1, -2) ** 2).sum(),
}


@needs_native
@pytest.mark.parametrize("reset_after,last_only,gradient",
                         list(itertools.product([True, False], [False, True], GRADIENTS)))
def test_gru_native_equals_python_and_float64(reset_after, last_only, gradient, chunking,
                                              monkeypatch):
    torch.manual_seed(1)
    steps, batch, features, units = 7, 3, 4, 5
    x = torch.randn(steps, batch, features, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(batch, units, dtype=torch.float64, requires_grad=True)
    kernel = torch.randn(features, 3 * units, dtype=torch.float64, requires_grad=True)
    recurrent = (0.5 * torch.randn(units, 3 * units, dtype=torch.float64)).requires_grad_()
    b_in = torch.randn(3 * units, dtype=torch.float64, requires_grad=True)
    b_rec = torch.randn(3 * units, dtype=torch.float64, requires_grad=True)

    def gru(x, h0, kernel, recurrent, b_in, b_rec):
        return GRUSequence.apply(x, h0, recurrent, b_rec if reset_after else None, reset_after,
                                 last_only, kernel, b_in)
    _check(gru, [x, h0, kernel, recurrent, b_in, b_rec], GRADIENTS[gradient], monkeypatch)


@needs_native
@pytest.mark.parametrize("relu,last_only,wants_h0",
                         list(itertools.product([False, True], [False, True], [True, False])))
def test_simple_rnn_native_equals_python_and_float64(relu, last_only, wants_h0, chunking,
                                                     monkeypatch):
    torch.manual_seed(2)
    x = torch.randn(6, 3, 4, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(3, 5, dtype=torch.float64, requires_grad=wants_h0)
    kernel = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    recurrent = (0.5 * torch.randn(5, 5, dtype=torch.float64)).requires_grad_()
    b_in = torch.randn(5, dtype=torch.float64, requires_grad=True)

    def simple(x, h0, kernel, recurrent, b_in):
        return SimpleRNNSequence.apply(x, h0, recurrent, relu, last_only, kernel, b_in)
    _check(simple, [x, h0, kernel, recurrent, b_in], GRADIENTS["dense"], monkeypatch)


@needs_native
def test_gru_without_projection_uses_native_too(monkeypatch):
    """``kernel=None``: the projected input comes in and its gradient goes out."""
    torch.manual_seed(3)
    xw = torch.randn(5, 2, 9, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    recurrent = torch.randn(3, 9, dtype=torch.float64, requires_grad=True)
    _check(lambda a, b, c: GRUSequence.apply(a, b, c, None, True), [xw, h0, recurrent],
           GRADIENTS["dense"], monkeypatch)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    # RNNKIT_NATIVE from this run's environment must not decide the child's case
    env = {**os.environ, "RNNKIT_NATIVE": "1", **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)


LAYER_RUNS = """
import numpy as np, torch
from rnnkit.kernels import native
from rnnkit.layers import GRU
torch.manual_seed(0)
layer = GRU(4, return_sequences=True)
print(native.unavailable_reason() or "native")
print(float(layer(np.ones((2, 3, 5), 'float32')).sum()))
"""


def test_disabled_or_failed_build_falls_back(tmp_path):
    off = _python(LAYER_RUNS, RNNKIT_NATIVE="0")
    assert off.returncode == 0, off.stderr
    assert off.stdout.splitlines()[0] == "RNNKIT_NATIVE=0"
    broken = _python(LAYER_RUNS, CC="false", RNNKIT_CACHE=str(tmp_path))
    assert broken.returncode == 0, broken.stderr
    if native._find_sgemm() is not None:
        assert broken.stdout.splitlines()[0].startswith("false failed")
    assert not list(tmp_path.rglob("*.so*"))   # nothing half-written left in the cache
    assert off.stdout.splitlines()[1] == broken.stdout.splitlines()[1]   # same numbers
    unwritable = tmp_path / "file"
    unwritable.write_text("a file where the cache directory would go")
    blocked = _python(LAYER_RUNS, RNNKIT_CACHE=str(unwritable))
    assert blocked.returncode == 0, blocked.stderr
    if _native_expected():  # an unusable cache: built and loaded from a private temp dir
        assert blocked.stdout.splitlines()[0] == "native", blocked.stderr
        assert float(blocked.stdout.splitlines()[1]) == pytest.approx(
            float(off.stdout.splitlines()[1]), rel=1e-6)
    else:
        assert blocked.stdout.splitlines()[1] == off.stdout.splitlines()[1]
    if _native_expected():
        on = _python(LAYER_RUNS)
        assert on.stdout.splitlines()[0] == "native", on.stderr
        assert float(on.stdout.splitlines()[1]) == pytest.approx(float(off.stdout.splitlines()[1]),
                                                                 rel=1e-6)


@needs_native
@pytest.mark.parametrize("layer_class", ["SimpleRNN", "GRU"])
def test_layers_run_the_c_loop_with_their_own_weights(layer_class):
    """Through a layer: orthogonal recurrent kernels start as transposed (non-contiguous)
    tensors, which the C loop must read as the matrices they are."""
    from rnnkit import layers
    torch.manual_seed(4)
    layer = getattr(layers, layer_class)(6, return_sequences=True, return_state=True)
    x = torch.randn(3, 8, 4)
    layer(x)
    results = _reference_and_rnnkit(layer, x, [], None)
    layer.rnn_kernel = "auto"
    assert "in C" in layer.select_kernel(x).reason
    for fused, reference in zip(results["rnnkit"], results["reference"]):
        np.testing.assert_allclose(fused.numpy(), reference.numpy(), rtol=1e-5, atol=2e-6)


def _reference_and_rnnkit(layer, x, states, mask):
    """The layer's outputs and every gradient (inputs, initial states, weights) under the
    reference loop and under rnnkit's, for one loss with fixed random weights."""
    results = {}
    for kernel in ("reference", "rnnkit"):
        layer.rnn_kernel = kernel
        layer.zero_grad()
        inputs = x.clone().requires_grad_()
        initial = [s.clone().requires_grad_() for s in states]
        outputs = layer(inputs, mask=mask, initial_state=initial or None)
        noise = torch.Generator().manual_seed(7)
        sum((o * torch.randn(o.shape, generator=noise)).sum() for o in outputs).backward()
        results[kernel] = [o.detach() for o in outputs] + [inputs.grad] + [
            s.grad for s in initial] + [p.grad.clone() for p in layer.parameters()]
    return results


MASKS = {   # (B=5, T=7): right-padded, with holes, left-padded with a row masked throughout
    "right": [[1] * 7, [1] * 5 + [0] * 2, [1] * 3 + [0] * 4, [1] + [0] * 6, [1] * 7],
    "holes": [[1, 0, 1, 1, 0, 0, 1], [0, 1, 1, 0, 1, 1, 1], [1] * 7, [0, 0, 1, 0, 0, 0, 1],
              [1, 1, 0, 1, 0, 1, 0]],
    "left": [[0] * 2 + [1] * 5, [0] * 6 + [1], [1] * 7, [0] * 3 + [1] * 4, [0] * 7],
}
MASKED_CASES = [("GRU", {}), ("GRU", {"reset_after": False}), ("SimpleRNN", {}),
                ("SimpleRNN", {"activation": "relu"}), ("LSTM", {}), ("LSTM", {"use_bias": False})]


@needs_native
@pytest.mark.parametrize("layer_class,kwargs", MASKED_CASES)
@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("flags", [dict(), dict(go_backwards=True),
                                   dict(zero_output_for_mask=True),
                                   dict(return_sequences=False, go_backwards=True)])
def test_masked_c_loops_equal_the_reference_loop(layer_class, kwargs, mask_name, flags):
    """Keras masking in C: masked steps keep the state, outputs repeat the previous one
    (zeros before a row's first valid step, or at every masked step with
    zero_output_for_mask); with an initial state, so that "zeros before the first valid
    step" differs from "the state"."""
    from rnnkit import layers
    torch.manual_seed(6)
    flags = {"return_sequences": True, **flags}
    layer = getattr(layers, layer_class)(6, return_state=True, **kwargs, **flags)
    x = torch.randn(5, 7, 4)
    states = [torch.randn(5, 6) for _ in range(2 if layer_class == "LSTM" else 1)]
    mask = torch.tensor(MASKS[mask_name], dtype=torch.bool)
    layer(x)
    results = _reference_and_rnnkit(layer, x, states, mask)
    layer.rnn_kernel = "auto"
    assert layer.select_kernel(x, mask=mask).name == "rnnkit"
    for fused, reference in zip(results["rnnkit"], results["reference"]):
        np.testing.assert_allclose(fused.numpy(), reference.numpy(), rtol=1e-5, atol=2e-6)


@needs_native
def test_lstm_routes_unmasked_by_the_table_and_masked_to_the_c_loop():
    """Unmasked: the C loop or oneDNN as lstm_routing.json measured, the reason says which
    (test_lstm_c_loop.py checks the table's use); masked: always the C loop."""
    from rnnkit.layers import LSTM
    layer, x = LSTM(3), torch.randn(2, 4, 5)
    choice = layer.select_kernel(x)
    assert choice.name in ("torch", "rnnkit") and "oneDNN" in choice.reason
    assert layer.select_kernel(x, mask=torch.ones(2, 4, dtype=torch.bool)).name == "rnnkit"


def test_masked_calls_need_the_c_loops():
    from rnnkit.layers import GRU
    layer = GRU(3, dtype="float64")
    x, mask = torch.randn(2, 4, 5, dtype=torch.float64), torch.ones(2, 4, dtype=torch.bool)
    choice = layer.select_kernel(x, mask=mask)
    assert choice.name != "rnnkit" and "takes a mask only in C" in choice.reason
