"""ConvLSTM2D's faster paths equal its plain operators, forward and backward: one-channel
frames projected by im2col + one product (instead of oneDNN's slow one-channel conv), and
the channels-last output whose gradient comes back contiguous (``_MovedContiguous``). Under
tracing (ONNX export) the plain operators run; the recorded tf.keras 2.12 cases pin both."""
import pytest
import torch

from rnnkit.layers import ConvLSTM2D
from rnnkit.layers import convolutional_recurrent as module


def _grads(layer, x, plain, monkeypatch, **call):
    monkeypatch.setattr(module, "_tracing", lambda: plain)
    x = x.clone().requires_grad_(True)
    out = layer(x, **call)
    outs = out if isinstance(out, list) else [out]
    loss = sum((o * torch.linspace(-1, 1, o.numel()).view(o.shape)).sum() for o in outs)
    weights = [layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias]
    return [o.detach() for o in outs] + list(torch.autograd.grad(loss, [x] + weights))


@pytest.mark.parametrize("kwargs, channels", [
    (dict(filters=3, kernel_size=3, padding="same", return_sequences=True), 1),
    (dict(filters=2, kernel_size=(3, 2), strides=(2, 1), return_state=True), 1),
    (dict(filters=2, kernel_size=2, padding="same", dilation_rate=2, go_backwards=True), 1),
    (dict(filters=2, kernel_size=3, padding="same", return_sequences=True,
          data_format="channels_first"), 1),
    (dict(filters=2, kernel_size=3, padding="same", return_sequences=True), 2),
])
def test_fast_paths_equal_the_plain_operators(kwargs, channels, monkeypatch):
    torch.manual_seed(0)
    shape = (2, 3, channels, 7, 6) if kwargs.get("data_format") else (2, 3, 7, 6, channels)
    x = torch.randn(shape)
    layer = ConvLSTM2D(**kwargs)
    layer(x)
    with torch.no_grad():
        layer.cell.bias.uniform_(-0.5, 0.5)
    fast = _grads(layer, x, False, monkeypatch)
    plain = _grads(layer, x, True, monkeypatch)
    for a, b in zip(fast, plain):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_one_channel_projection_equals_conv2d_with_every_stride_and_padding():
    from rnnkit.layers.convolutional import torch_kernel
    for kernel, strides, pads, dilation in [((3, 3), (1, 1), (1, 1), (1, 1)),
                                            ((3, 2), (2, 1), (0, 0), (1, 1)),
                                            ((3, 3), (1, 1), (2, 2), (2, 2)),
                                            ((2, 3), (1, 2), (1, 0), (1, 1))]:
        x = torch.randn(3, 1, 9, 8)
        w = torch.randn(*kernel, 1, 5)
        b = torch.randn(5)
        got = module._one_channel_conv2d(x, w, b, strides, pads, dilation)
        expected = torch.nn.functional.conv2d(x, torch_kernel(w, 2), b, strides, pads, dilation)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
