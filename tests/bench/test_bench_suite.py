"""The benchmark suite runs and reports every column (its timings are never asserted)."""
import json

import pytest

from rnnkit.bench import suite
from rnnkit.cli import main as cli_main


def test_suite_writes_a_row_per_cell_with_ratios(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert suite.main(["--workloads", "W1", "--repeats", "1", "--threads", "1",
                       "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [row["cell"] for row in result["rows"]] == ["lstm", "gru", "simple_rnn"]
    for row in result["rows"]:
        assert row["workload"] == "W1" and row["mode"] == "call"
        assert row["rnnkit_ms"] > 0 and row["torch_ms"] > 0 and row["ratio_vs_torch"] > 0
    assert result["matmul_peak_gflops"] > 0
    assert "ratio" in capsys.readouterr().out


def test_flop_count_follows_the_gate_formula():
    # 2 · G · H · (D + H) · B · T
    assert suite.forward_flops("lstm", (1, 4, 5, 3)) == 2 * 4 * 3 * 8 * 1 * 4
    assert suite.forward_flops("gru", (2, 3, 4, 5)) == 2 * 3 * 5 * 9 * 2 * 3


def test_cli_bench_forwards_its_options(tmp_path):
    out = tmp_path / "b.json"
    assert cli_main(["bench", "--workloads", "W1", "--cells", "gru", "--repeats", "1",
                     "--json", str(out)]) == 0
    assert json.loads(out.read_text())["rows"][0]["cell"] == "gru"


def test_a_peer_without_keras_or_python_is_reported_clearly(tmp_path):
    import sys
    with pytest.raises(RuntimeError, match="peer .* failed"):
        suite.time_peer(sys.executable, None, "lstm", (1, 2, 3, 4), "call", 1, 1)  # no Keras here
    with pytest.raises(RuntimeError, match="cannot run peer"):
        suite.time_peer(str(tmp_path / "no-python"), None, "lstm", (1, 2, 3, 4), "call", 1, 1)


def test_gpu_parity_script_runs_on_the_cpu():
    """The CUDA parity script's own logic, exercised on the CPU (CI has no GPU)."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_parity.py"
    done = subprocess.run([sys.executable, str(script), "cpu"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "parity checks passed on the CPU" in done.stdout
