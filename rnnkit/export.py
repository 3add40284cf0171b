"""Export models to other runtimes: ``rnnkit.export.onnx(model, path)``.

The model is traced with torch's TorchScript-based ONNX exporter through the reference
loop (``rnn_kernel="reference"`` while exporting), so the time loop is unrolled: the exported graph takes a fixed sequence length (the model's input shape, or
``sequence_length``) and any batch size. Masks (``Masking``, ``Embedding(mask_zero=True)``)
are computed inside the graph from the input, as in ``predict``. Refused with a clear
message: stateful models (their state lives between calls, which an ONNX graph has no
place for) and unbuilt models. Needs the optional ``onnx`` extra
(``pip install rnnkit[onnx]``: ``onnx`` and ``onnxruntime``).
"""
from __future__ import annotations

import os
import warnings
from typing import Any

import torch


class _Inference(torch.nn.Module):
    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, training=False)


def onnx(model: Any, path: Any, sequence_length: int | None = None, opset_version: int = 17,
         batch_size: int = 2) -> str:
    """Write ``model`` as an ONNX graph to ``path`` (atomically); returns the path.

    The graph's input is ``"input"`` (batch, time, features) — integer ids ``(batch, time)``
    when the first layer is an ``Embedding`` — and its output ``"output"``; the batch axis is
    dynamic.
    """
    from ._files import atomic_write
    from .layers.core import Embedding

    if not getattr(model, "built", False):
        raise ValueError(f"Model {getattr(model, 'name', model)!r} is not built; build it (or call "
                         "it on data) before exporting to ONNX.")
    stateful = [layer.name for layer in model.layers if getattr(layer, "stateful", False)]
    if stateful:
        raise ValueError(f"ONNX export of stateful layers is not supported ({', '.join(stateful)}): "
                         "their state is kept between calls, which an ONNX graph cannot hold. "
                         "Rebuild the model with stateful=False for export.")
    shape = list(model._batch_input_shape or ())
    if len(shape) >= 2 and shape[1] is None:
        if sequence_length is None:
            raise ValueError("The model's sequence length is not fixed (input_shape has None for "
                             "time); pass sequence_length=... to export_onnx: the exported graph "
                             "unrolls the time loop.")
        shape[1] = sequence_length
    elif sequence_length is not None and len(shape) >= 2:
        shape[1] = sequence_length
    if any(d is None for d in shape[1:]):
        raise ValueError(f"Cannot export a model with input shape {tuple(model._batch_input_shape)}: "
                         "every dimension except the batch must be known.")
    shape[0] = batch_size
    first = model.layers[0]
    generator = torch.Generator().manual_seed(0)
    if isinstance(first, Embedding):
        example = torch.randint(1, max(2, first.input_dim), shape, generator=generator)
    else:
        example = torch.randn(shape, generator=generator, dtype=first.compute_dtype)
    was_training = model.training
    model.eval()
    # Traced through the reference loop: it runs every configuration with ops only (the
    # fused kernels' custom autograd functions and data-dependent fast paths do not trace
    # into a faithful graph).
    kernels = _force_reference_kernels(model)

    def write(temp: str) -> None:
        # The tracer warns at every shape check it sees (features, steps): those sizes are
        # fixed in the exported graph by design (only the batch axis is dynamic), so the
        # warnings would only alarm the user.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            _export(temp)

    def _export(temp: str) -> None:
        try:
            torch.onnx.export(_Inference(model), (example,), temp, input_names=["input"],
                              output_names=["output"], opset_version=opset_version,
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                              dynamo=False)
        except TypeError:  # torch versions without the `dynamo` switch
            torch.onnx.export(_Inference(model), (example,), temp, input_names=["input"],
                              output_names=["output"], opset_version=opset_version,
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})

    try:
        atomic_write(path, write)
    finally:
        model.train(was_training)
        for layer, kernel in kernels:
            layer.rnn_kernel = kernel
    return os.fspath(path)


def _force_reference_kernels(model: Any) -> list[tuple[Any, str]]:
    from .layers.recurrent import RNN

    saved = []
    for module in model.modules():
        if isinstance(module, RNN) and hasattr(module, "rnn_kernel"):
            saved.append((module, module.rnn_kernel))
            module.rnn_kernel = "reference"
    return saved


export_onnx = onnx
