"""rnnkit's loops with the input projection inside (``kernel``/``b_in`` passed): gradients.

The layer parity tests run this path through the layers; these check the functions
directly, for every gradient they return (input, kernel, input bias, recurrent kernel,
recurrent bias, initial state), with chunk edges inside the sequence and with inputs or
initial states that need no gradient (the loops then skip those products)."""
import itertools

import numpy as np
import pytest
import torch

from rnnkit.kernels.rnnkit_loop import GRUSequence, SimpleRNNSequence

F64 = dict(dtype=torch.float64)


def _leaf(*shape, grad=True):
    return torch.randn(*shape, **F64).requires_grad_(grad)


@pytest.mark.parametrize("reset_after,use_bias,last_only",
                         list(itertools.product([True, False], [True, False], [True, False])))
def test_gru_projection_gradcheck(reset_after, use_bias, last_only, chunking):
    torch.manual_seed(0)
    steps, batch, features, units = 5, 2, 3, 2
    x, h0 = _leaf(steps, batch, features), _leaf(batch, units)
    kernel, recurrent = _leaf(features, 3 * units), _leaf(units, 3 * units)
    b_in = _leaf(3 * units) if use_bias else None
    b_rec = _leaf(3 * units) if use_bias and reset_after else None
    inputs = [t for t in (x, h0, kernel, recurrent, b_in, b_rec) if t is not None]

    def run(x, h0, kernel, recurrent, *biases):
        biases = list(biases)
        b_in = biases.pop(0) if use_bias else None
        b_rec = biases.pop(0) if use_bias and reset_after else None
        return GRUSequence.apply(x, h0, recurrent, b_rec, reset_after, last_only, kernel, b_in)
    assert torch.autograd.gradcheck(run, inputs)


@pytest.mark.parametrize("relu,use_bias,last_only",
                         list(itertools.product([False, True], [True, False], [True, False])))
def test_simple_rnn_projection_gradcheck(relu, use_bias, last_only, chunking):
    torch.manual_seed(0)
    x, h0 = _leaf(5, 2, 3), _leaf(2, 4)
    kernel, recurrent = _leaf(3, 4), _leaf(4, 4)
    b_in = _leaf(4) if use_bias else None

    def run(x, h0, kernel, recurrent, *bias):
        return SimpleRNNSequence.apply(x, h0, recurrent, relu, last_only, kernel,
                                       bias[0] if bias else None)
    assert torch.autograd.gradcheck(run, (x, h0, kernel, recurrent) + ((b_in,) if use_bias else ()))


def _reference_gru(x, h0, kernel, recurrent, b_in, b_rec):
    """The GRU (reset_after=True) written out with autograd, for the gradients to match."""
    units, h, outs = h0.shape[1], h0, []
    for x_t in x:
        x_z, x_r, x_h = (x_t @ kernel + b_in).split(units, dim=-1)
        r_z, r_r, r_h = (h @ recurrent + b_rec).split(units, dim=-1)
        z, r = torch.sigmoid(x_z + r_z), torch.sigmoid(x_r + r_r)
        h = z * h + (1 - z) * torch.tanh(x_h + r * r_h)
        outs.append(h)
    return torch.stack(outs)


@pytest.mark.parametrize("x_grad,h0_grad,frozen", [
    (False, False, ""), (True, False, ""), (False, True, ""),
    (False, False, "kernel"), (True, True, "recurrent"), (False, False, "kernel recurrent")])
def test_gradients_not_asked_for_are_skipped_and_the_rest_match(x_grad, h0_grad, frozen):
    torch.manual_seed(1)
    x, h0 = _leaf(6, 3, 4, grad=x_grad), _leaf(3, 2, grad=h0_grad)
    kernel = _leaf(4, 6, grad="kernel" not in frozen)
    recurrent = _leaf(2, 6, grad="recurrent" not in frozen)
    b_in, b_rec = _leaf(6), _leaf(6)
    out = GRUSequence.apply(x, h0, recurrent, b_rec, True, False, kernel, b_in)
    expected = _reference_gru(x, h0, kernel, recurrent, b_in, b_rec)
    np.testing.assert_allclose(out.detach().transpose(0, 1), expected.detach(), rtol=1e-12)
    seed = torch.randn(expected.shape, **F64)
    wanted = [t for t in (kernel, recurrent, b_in, b_rec, x, h0) if t.requires_grad]
    got = torch.autograd.grad((out.transpose(0, 1) * seed).sum(), wanted)
    want = torch.autograd.grad((expected * seed).sum(), wanted)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("frozen", ["kernel", "recurrent"])
def test_simple_rnn_with_a_frozen_kernel_matches_autograd(frozen):
    torch.manual_seed(2)
    x, h0 = _leaf(5, 2, 3), _leaf(2, 4)
    kernel = _leaf(3, 4, grad=frozen != "kernel")
    recurrent = _leaf(4, 4, grad=frozen != "recurrent")
    b_in = _leaf(4)
    out = SimpleRNNSequence.apply(x, h0, recurrent, False, True, kernel, b_in)
    h = h0
    for x_t in x:
        h = torch.tanh(x_t @ kernel + b_in + h @ recurrent)
    np.testing.assert_allclose(out.detach(), h.detach(), rtol=1e-12)
    wanted = [t for t in (x, h0, kernel, recurrent, b_in) if t.requires_grad]
    for g, w in zip(torch.autograd.grad(out.sum(), wanted), torch.autograd.grad(h.sum(), wanted)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
