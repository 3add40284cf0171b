"""Runs a Keras peer script (``keras_peer.py``, ``keras_peer_convlstm.py``) in another
interpreter, one that has Keras, and reads the JSON line it prints last."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path


def run_peer_script(python: str, backend: str | None, script: str, arguments: list[str]) -> dict:
    """``python script arguments`` beside this file, with ``KERAS_BACKEND=backend`` (when
    given) and TensorFlow's start-up logging off; its last stdout line, parsed."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if backend:
        env["KERAS_BACKEND"] = backend
    command = [python, str(Path(__file__).with_name(script)), *arguments]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    except OSError as error:
        raise RuntimeError(f"cannot run peer interpreter {python!r}: {error}") from None
    if done.returncode != 0:
        raise RuntimeError(f"peer {python} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
