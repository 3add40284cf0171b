"""The version is written once (``rnnkit.__version__``) and shown by ``rnnkit --version``."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import rnnkit
from rnnkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
# PEP 440's public version scheme (release, pre, post, dev segments)
PEP440 = r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?"


def test_version_is_a_pep440_string():
    assert re.fullmatch(PEP440, rnnkit.__version__), rnnkit.__version__


def test_pyproject_reads_the_version_from_the_package_and_writes_none_itself():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "rnnkit.__version__"}


def test_version_option_prints_rnnkit_torch_and_python(capsys):
    try:
        main(["--version"])
    except SystemExit as stop:  # argparse's version action exits 0 after printing
        assert stop.code == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(f"rnnkit {rnnkit.__version__} (torch {torch.__version__}, Python 3.")


def test_python_m_rnnkit_version_in_a_subprocess():
    result = subprocess.run([sys.executable, "-m", "rnnkit", "--version"], capture_output=True,
                            text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["rnnkit", rnnkit.__version__]


def test_the_package_is_marked_typed_and_licensed():
    assert (Path(rnnkit.__file__).parent / "py.typed").is_file()
    licence = (ROOT / "LICENSE").read_text()
    assert licence.lstrip().startswith("Apache License") and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence  # the full text, not a pointer to it
