"""The documentation site builds with ``mkdocs build --strict``: a broken link, a missing
page or an API reference entry that no longer resolves fails the build."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_site_builds_strictly(tmp_path):
    missing = [m for m in ("mkdocs", "material", "mkdocstrings_handlers.python")
               if not _importable(m)]
    if missing:
        pytest.skip(f"the docs site needs {', '.join(missing)}: pip install -e \".[docs]\"")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=_quiet_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert "rnnkit.layers.LSTM" in api and "plot_history" in api  # the reference is generated
    for page in ("migrating", "common-mistakes", "learning-aids", "security"):
        assert (tmp_path / "site" / page / "index.html").exists(), page
    shutil.rmtree(tmp_path / "site")


def _importable(name: str) -> bool:
    import importlib.util
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _quiet_env() -> dict:
    import os
    return dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONPATH=str(ROOT))
