"""Kernel parity on CUDA, without pytest (the GPU machine may not have it).

``python benchmarks/gpu_parity.py [cuda|cpu]``. For each cell and flag combination the kernels (cuDNN through torch, rnnkit's loop)
must equal the reference loop run in float64 on the CPU: float32 within 1e-4 (TF32 off),
bf16 / fp16 under autocast within 2e-2. Exits non-zero on the first mismatch.
"""
import itertools
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnkit.layers import GRU, LSTM, SimpleRNN  # noqa: E402

LAYERS = {"lstm": LSTM, "gru": GRU, "simple_rnn": SimpleRNN}


def reference(layer, x, mask):
    """The same layer in float64 on the CPU, run by the reference loop."""
    config = dict(layer.get_config(), dtype="float64")
    cpu = type(layer).from_config(config)
    cpu.build(tuple(x.shape))
    cpu.set_weights([w.astype("float64") for w in layer.get_weights()])
    cpu.rnn_kernel = "reference"
    return cpu(x.double().cpu(), mask=None if mask is None else mask.cpu())


def main(device: str = "cuda") -> int:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    low_precision = [(torch.bfloat16, 2e-2), (torch.float16, 2e-2)] if device == "cuda" else []
    checked = 0
    for name, go_backwards, sequences, masked in itertools.product(
            LAYERS, [False, True], [False, True], [False, True]):
        torch.manual_seed(0)
        layer = LAYERS[name](32, go_backwards=go_backwards, return_sequences=sequences).to(device)
        x = torch.randn(8, 50, 16, device=device)
        layer(x)
        mask = None
        if masked and not go_backwards:
            lengths = torch.randint(1, 51, (8,), device=device)
            mask = torch.arange(50, device=device)[None] < lengths[:, None]
        want = reference(layer, x, mask)
        for kernel in ["torch", "rnnkit", "reference"]:
            layer.rnn_kernel = kernel
            try:
                layer.select_kernel(x, mask)
            except ValueError:
                continue
            got = layer(x, mask=mask).double().cpu()
            error = (got - want).abs().max().item()
            for dtype, tolerance in [(None, 1e-4)] + low_precision:
                if dtype is not None:
                    with torch.autocast(device, dtype=dtype):
                        error = (layer(x, mask=mask).double().cpu() - want).abs().max().item()
                ok = error <= tolerance
                print(f"{name:10} {kernel:9} backwards={go_backwards!s:5} seq={sequences!s:5} "
                      f"mask={masked!s:5} {str(dtype or 'float32'):14} max err {error:.2e} "
                      f"{'ok' if ok else 'FAIL'}")
                checked += 1
                if not ok:
                    return 1
    where = torch.cuda.get_device_name() if device == "cuda" else "the CPU"
    print(f"{checked} parity checks passed on {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cuda"))
