"""The five-format fuzz (``fuzz_formats.py``), run in a child with time and memory limits."""
import json

from bounded import run_bounded  # tests/io/bounded.py


def test_fuzzed_files_in_all_five_formats_load_or_are_refused_cleanly():
    result = run_bounded("""
        import json, sys
        sys.path.insert(0, "tests/io")
        from fuzz_formats import run
        print("FUZZ" + json.dumps(run(40)))
    """, timeout=540, memory_mb=4000)
    assert result["outcome"] == "ok", result
    line = next(l for l in result["stdout"].splitlines() if l.startswith("FUZZ"))
    fuzz = json.loads(line[4:])
    assert not fuzz["bugs"], "\n".join(fuzz["bugs"][:20])
    assert set(fuzz["counts"]) == {"model.h5", "model.keras", "w.weights.h5", "model.npz",
                                   "backup.npz"}
    for name, counts in fuzz["counts"].items():
        assert counts["tried"] == 40 and counts["refused"] >= 10, (name, counts)
    assert fuzz["slowest"] < 30
