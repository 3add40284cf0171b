"""The ConvLSTM2D workload (rnnkit/bench/convlstm.py): its torch peer computes what rnnkit's
ConvLSTM2D computes (so the ratio compares equal work), and the row has every column."""
import json
import sys

import numpy as np
import pytest
import torch

from rnnkit.bench import convlstm, suite
from rnnkit.layers import ConvLSTM2D


def test_the_torch_peer_computes_rnnkits_conv_lstm():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 6, 5, 1)
    layer = ConvLSTM2D(3, 3, padding="same", return_sequences=True,
                       recurrent_activation="sigmoid")
    layer(x)
    peer = convlstm.TorchConvLSTM(1, 3, 3)
    with torch.no_grad():   # Keras (kh, kw, in, 4F) kernels -> one torch (4F, in + F, kh, kw)
        both = torch.cat([layer.cell.kernel, layer.cell.recurrent_kernel], dim=2)
        peer.conv.weight.copy_(both.permute(3, 2, 0, 1))
        peer.conv.bias.copy_(layer.cell.bias)
    expected = peer(x.permute(0, 1, 4, 2, 3)).permute(0, 1, 3, 4, 2)
    np.testing.assert_allclose(layer(x).detach().numpy(), expected.detach().numpy(), atol=1e-5)


def test_the_workload_writes_one_row_with_both_timings(tmp_path, monkeypatch):
    monkeypatch.setitem(convlstm.SHAPES, "CL", ((2, 3, 6, 6, 1), 4, 3))
    out = tmp_path / "bench.json"
    assert suite.main(["--workloads", "CL", "--repeats", "1", "--threads", "1",
                       "--json", str(out)]) == 0
    [row] = json.loads(out.read_text())["rows"]
    assert row["workload"] == "CL" and row["cell"] == "conv_lstm2d" and row["mode"] == "train"
    assert row["shape"] == [2, 3, 6, 6, 1] and row["filters"] == 4
    assert row["rnnkit_ms"] > 0 and row["torch_ms"] > 0 and row["ratio_vs_torch"] > 0
    assert row["rnnkit_cpu_ms"] > 0 and row["torch_cpu_ms"] > 0 and row["cpu_ratio_vs_torch"] > 0
    assert len(row["rounds"]["rnnkit_ms"]) == len(row["rounds"]["torch_cpu_ms"]) == 1


def test_a_peer_without_keras_is_reported_clearly():
    with pytest.raises(RuntimeError, match="peer .* failed"):
        convlstm.time_peer(sys.executable, None, "CL", 1, 1)   # no Keras in this interpreter
