"""Run a snippet in a child Python with time and memory limits, so a test of a hostile file
can never hang CI or exhaust the machine's memory: a hang is a timeout, a blow-up a
MemoryError in the child, and the test fails either way."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = """
import json, resource, sys, traceback
# The libraries map their code first, outside the budget: a CUDA build of torch maps
# gigabytes of address space that a plain limit would refuse it at import.
import h5py, numpy, torch, rnnkit
def _address_space():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
_limit = _address_space() + {memory}
resource.setrlimit(resource.RLIMIT_AS, (_limit, _limit))
def _report(outcome, detail):
    print("@@RESULT@@" + json.dumps({{"outcome": outcome, "detail": detail}}))
try:
{body}
except BaseException as error:
    _report(type(error).__name__, str(error))
else:
    _report("ok", "")
"""


def run_bounded(code: str, timeout: float = 60, memory_mb: int = 2048) -> dict:
    """Run ``code`` (a module-level snippet; it may ``print``) in a child interpreter with
    ``RLIMIT_AS`` at ``memory_mb`` beyond what importing rnnkit and its libraries took, and a
    ``timeout``; returns ``{"outcome": "ok" or the
    exception class name, "detail": its message, "stdout": ...}``. A timeout is
    ``outcome == "timeout"``."""
    body = textwrap.indent(textwrap.dedent(code), "    ")
    script = _PRELUDE.format(memory=memory_mb * 2 ** 20, body=body)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=str(ROOT))
    except subprocess.TimeoutExpired as expired:
        return {"outcome": "timeout", "detail": f"no result within {timeout} s",
                "stdout": expired.stdout or ""}
    for line in done.stdout.splitlines():
        if line.startswith("@@RESULT@@"):
            result = json.loads(line[len("@@RESULT@@"):])
            result["stdout"] = done.stdout
            return result
    return {"outcome": f"crash (exit {done.returncode})", "detail": done.stderr[-2000:],
            "stdout": done.stdout}
