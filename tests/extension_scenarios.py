"""Runs a scenario of tests/fixtures/keras2_extension_api/scenarios.py with rnnkit and
compares it with what tf.keras 2.12 gave (scenarios.json there, written by record.py):
texts and shapes exactly, numbers to 1e-4 (float32 sums in another order)."""
import importlib.util
import json
import math
from pathlib import Path

import rnnkit

HERE = Path(__file__).resolve().parent / "fixtures" / "keras2_extension_api"
_spec = importlib.util.spec_from_file_location("keras2_extension_api_scenarios",
                                               HERE / "scenarios.py")
SCENARIOS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(SCENARIOS)
RECORDED = json.loads((HERE / "scenarios.json").read_text(encoding="utf-8"))["scenarios"]


def differences(ours, keras, where="") -> list[str]:
    if isinstance(keras, float) and isinstance(ours, (int, float)) and not isinstance(ours, bool):
        close = math.isclose(ours, keras, rel_tol=1e-4, abs_tol=1e-4)
        return [] if close else [f"{where}: {ours!r} != tf.keras 2.12's {keras!r}"]
    if isinstance(keras, dict) and isinstance(ours, dict):
        if sorted(ours) != sorted(keras):
            return [f"{where}: keys {sorted(ours)} != tf.keras 2.12's {sorted(keras)}"]
        return [d for k in keras for d in differences(ours[k], keras[k], f"{where}.{k}")]
    if isinstance(keras, list) and isinstance(ours, list):
        if len(ours) != len(keras):
            return [f"{where}: {len(ours)} items != tf.keras 2.12's {len(keras)}: {ours!r}"]
        return [d for i, (a, b) in enumerate(zip(ours, keras))
                for d in differences(a, b, f"{where}[{i}]")]
    return [] if ours == keras else [f"{where}: {ours!r} != tf.keras 2.12's {keras!r}"]


def check(name: str, keys=None) -> dict:
    """Run scenario ``name`` with rnnkit; assert it matches the record (``keys`` only, if
    given); return rnnkit's result."""
    ours = json.loads(json.dumps(SCENARIOS.run(rnnkit, name)))
    keras = RECORDED[name]
    if keys is not None:
        ours, keras = {k: ours[k] for k in keys}, {k: keras[k] for k in keys}
    problems = differences(ours, keras, name)
    assert not problems, "\n".join(problems[:10])
    return ours
