"""benchmarks/gpu_persistent.py must work when a GPU window opens: run its quick mode on
the CPU under Triton's interpreter (tiny shapes, every cell, the stress loop, the table)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("triton")
ROOT = Path(__file__).resolve().parents[2]


def test_quick_mode_checks_every_cell_and_writes_routing_rows(tmp_path):
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_persistent.py"),
                           "--quick", "--device", "cpu", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    parity = (tmp_path / "persistent_parity.txt").read_text()
    for cell in ("lstm", "gru", "gru_reset_before", "tanh", "relu"):
        assert f"{cell} " in parity
    assert parity.count(" ok ") == 5 and parity.count("max rel err") == 5
    assert parity.count("0 of 3 repeats differ ok") == 2
    rows = json.loads((tmp_path / "routing.json").read_text())
    assert {(r["mode"], r["cell"]) for r in rows} == {
        (mode, cell) for mode in ("forward", "train") for cell in ("lstm", "gru")}
    assert all(r["persistent_ms"] > 0 and r["cudnn_ms"] > 0 for r in rows)
