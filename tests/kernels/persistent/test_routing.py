import torch

from rnnkit.kernels.persistent import routing
from rnnkit.kernels.persistent.runner import unsupported
from rnnkit.layers import GRU

ROWS = ({"gpu": "NVIDIA H200", "mode": "forward", "cell": "lstm", "dtype": "bfloat16",
         "batch": 1, "units": 256, "persistent_ms": 4.0, "cudnn_ms": 24.5},
        {"gpu": "NVIDIA H200", "mode": "forward", "cell": "lstm", "dtype": "float16",
         "batch": 16, "units": 768, "persistent_ms": 2.6, "cudnn_ms": 2.3},
        {"gpu": "NVIDIA H200", "mode": "train", "cell": "lstm", "dtype": "bfloat16",
         "batch": 1, "units": 256, "persistent_ms": 80.0, "cudnn_ms": 60.0})


def test_routes_only_where_a_measurement_shows_the_kernel_faster():
    use, why = routing.decide("NVIDIA H200", "lstm", torch.bfloat16, 1, 200, rows=ROWS)
    assert use and "6.1x faster than cuDNN" in why and "H=256" in why
    use, why = routing.decide("NVIDIA H200", "lstm", torch.float16, 16, 768, rows=ROWS)
    assert not use and "cuDNN measured 1.1x faster" in why
    # training is timed and routed on its own
    use, why = routing.decide("NVIDIA H200", "lstm", torch.bfloat16, 1, 256, "train", ROWS)
    assert not use and "cuDNN measured 1.3x faster (train" in why


def test_no_measurement_no_routing():
    for args in [("NVIDIA A100", "lstm", torch.bfloat16, 1, 256),    # another GPU
                 ("NVIDIA H200", "gru", torch.bfloat16, 1, 256),     # another cell
                 ("NVIDIA H200", "lstm", torch.bfloat16, 2, 256),    # another batch
                 ("NVIDIA H200", "lstm", torch.bfloat16, 1, 512)]:   # larger than measured
        use, why = routing.decide(*args, rows=ROWS)
        assert not use and "no forward timing of the persistent kernel" in why


def test_the_shipped_table_is_valid_rows():
    for row in routing._rows():
        assert {"gpu", "mode", "cell", "dtype", "batch", "units", "persistent_ms",
                "cudnn_ms"} <= set(row)


def test_every_reason_it_cannot_run_is_given(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    layer = GRU(2000, dropout=0.5)
    x = torch.randn(70, 3, 4, dtype=torch.float64)
    problems = " | ".join(unsupported(layer.cell, "gru", x, torch.ones(70, 3), training=True))
    for expected in ["runs on CUDA", "dtype torch.float64", "units=2000 is above",
                     "batch 70 is above", "mask", "dropout"]:
        assert expected in problems


def test_select_kernel_routes_by_the_table_and_says_why_not(monkeypatch):
    # The CUDA branch of the choice, run on the CPU: a GPU name is all it asks of CUDA.
    from rnnkit.kernels import select

    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
    layer = GRU(256)
    x = torch.randn(1, 5, 4)
    layer(x)
    with torch.no_grad():
        choice, why_not = select.persistent_choice(layer, "gru", x, None, False)
        assert choice is None and "no forward timing" in why_not
        row = {"gpu": "NVIDIA H200", "mode": "forward", "cell": "gru", "dtype": "float32",
               "batch": 1, "units": 256, "persistent_ms": 5.0, "cudnn_ms": 24.0}
        monkeypatch.setattr(routing, "_rows", lambda: (row,))
        choice, _ = select.persistent_choice(layer, "gru", x, None, False)
        assert choice.name == "persistent" and "4.8x faster than cuDNN" in choice.reason
    # with autograd on, only a train timing routes it
    choice, why_not = select.persistent_choice(layer, "gru", x, None, True)
    assert choice is None and "no train timing" in why_not
