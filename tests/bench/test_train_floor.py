"""The benchmark's fp32 floor of a training step counts the products both sides must do."""
from rnnkit.bench import suite


def test_train_floor_counts_the_five_products_less_the_initial_state_gradient():
    batch, steps, features, units = shape = (2, 3, 4, 5)
    gates = 3 * units  # GRU
    projection = 2 * batch * steps * features * gates
    recurrence = 2 * batch * steps * units * gates
    expected = (projection + recurrence          # forward
                + recurrence - 2 * batch * units * gates   # dh through steps 2..T only
                + recurrence + projection)       # recurrent and input kernels' gradients
    assert suite.train_floor_flops("gru", shape) == expected
    # no input gradient: below three forwards whenever there are inputs to project
    assert suite.train_floor_flops("lstm", shape) < 3 * suite.forward_flops("lstm", shape)


def test_rows_report_the_floor(tmp_path):
    import json
    out = tmp_path / "bench.json"
    assert suite.main(["--workloads", "W1", "--cells", "simple_rnn", "--repeats", "1",
                       "--threads", "1", "--json", str(out)]) == 0
    row = json.loads(out.read_text())["rows"][0]
    assert 0 < row["floor_ms"] < row["rnnkit_ms"]
    # which kernel rnnkit ran, with select_kernel's reason (W1 is a call with autograd on)
    assert row["rnnkit_kernel"].startswith("rnnkit: rnnkit tanh loop in ")


def test_masked_workload_times_a_keras_mask_against_packed_sequences(tmp_path, monkeypatch):
    import json
    from rnnkit.kernels import native
    monkeypatch.setitem(suite.WORKLOADS, "W3m", ((3, 6, 2, 4), "train"))
    out = tmp_path / "bench.json"
    assert suite.main(["--workloads", "W3m", "--cells", "lstm", "gru", "--repeats", "1",
                       "--threads", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [row["cell"] for row in rows] == ["lstm", "gru"]
    for row in rows:
        assert row["rnnkit_ms"] > 0 and row["torch_ms"] > 0
        if native.loops() is not None:   # masked layers run on rnnkit's C loops
            assert row["rnnkit_kernel"].startswith(f"rnnkit: rnnkit {row['cell']} loop in C")
    lengths = suite._lengths(64, 200, "cpu")
    assert lengths.min() >= 100 and lengths.max() <= 200 and len(set(lengths.tolist())) > 10
