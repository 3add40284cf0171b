"""preprocessing.text.one_hot and hashing_trick against tf.keras 2.12's
(fixtures/keras2_text_hashing/hashing.json, recorded by record_hashing.py there)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnkit.preprocessing.text import hashing_trick, one_hot

ROOT = Path(__file__).resolve().parents[2]
RECORD = json.loads((ROOT / "tests/fixtures/keras2_text_hashing/hashing.json").read_text())
MD5 = [c for c in RECORD["cases"] if c["kwargs"].get("hash_function") == "md5"]


@pytest.mark.parametrize("case", MD5, ids=[f"{c['text'][:12]!r}-{c['n']}" for c in MD5])
def test_md5_hashing_matches_tf_keras_in_any_process(case):
    assert hashing_trick(case["text"], case["n"], **case["kwargs"]) == case["indices"]


def test_python_hash_cases_match_tf_keras_under_the_recorded_seed():
    # Python's str hash is salted per process: run where it is salted as when recorded
    script = ("import json, sys\n"
              "from rnnkit.preprocessing.text import one_hot, hashing_trick\n"
              "cases = json.loads(sys.stdin.read())\n"
              "print(json.dumps([(one_hot if c['function'] == 'one_hot' else hashing_trick)"
              "(c['text'], c['n'], **c['kwargs']) for c in cases]))\n")
    hashed = [c for c in RECORD["cases"] if c not in MD5]
    env = dict(os.environ, PYTHONHASHSEED=RECORD["PYTHONHASHSEED"], PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(hashed), env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout) == [c["indices"] for c in hashed]
    assert len(hashed) >= 15


def test_indices_stay_in_range_and_follow_the_hash():
    words = "the cat sat on the mat".split()
    got = hashing_trick(" ".join(words), 7, hash_function=len)
    assert got == [len(w) % 6 + 1 for w in words]
    assert all(1 <= i <= 6 for i in one_hot(" ".join(words), 7))
    assert one_hot("a b", 10, analyzer=lambda t: t.split(" ") * 2) == one_hot("a b a b", 10)


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match=r"hashing_trick: `n` must be an integer of at least 2"):
        one_hot("some text", 1)
    with pytest.raises(ValueError, match=r"`hash_function` must be None, 'md5' or a function"):
        hashing_trick("some text", 10, hash_function="sha1")
