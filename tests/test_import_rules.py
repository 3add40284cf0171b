"""Imports go one way (docs/architecture.md): the check passes on rnnkit and fails on a planted
upward import, naming the file and line."""
import shutil
from pathlib import Path

import pytest

import import_rules

ROOT = Path(__file__).resolve().parents[1]


def test_rnnkit_imports_only_downwards():
    found = import_rules.violations(ROOT)
    assert found == [], "upward imports:\n" + "\n".join(found)


@pytest.fixture
def copy_of_rnnkit(tmp_path):
    shutil.copytree(ROOT / "rnnkit", tmp_path / "rnnkit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    return tmp_path


def _plant(path: Path, text: str) -> int:
    """Append ``text`` to ``path``; the line number of its last line."""
    source = path.read_text(encoding="utf-8")
    if not source.endswith("\n"):
        source += "\n"
    path.write_text(source + text, encoding="utf-8")
    return len((source + text).splitlines())


@pytest.mark.parametrize("module, planted, target", [
    # inside a function, relative: the layers reaching up to the models
    ("layers/core.py", "\n\ndef _planted():\n    from ..models import Sequential\n", "rnnkit.models"),
    # at the top, absolute: the kernels reaching up to io
    ("kernels/reference.py", "\nimport rnnkit.io.saving\n", "rnnkit.io.saving"),
    # ``from rnnkit import name``: the name is the module imported
    ("training/engine.py", "\nfrom rnnkit import cli\n", "rnnkit.cli"),
])
def test_a_planted_upward_import_fails_with_its_file_and_line(copy_of_rnnkit, module, planted,
                                                              target):
    line = _plant(copy_of_rnnkit / "rnnkit" / module, planted)
    found = import_rules.violations(copy_of_rnnkit)
    assert len(found) == 1, found
    assert found[0].startswith(f"rnnkit/{module}:{line}: ")
    assert f"imports {target} (" in found[0] and "a higher layer" in found[0]


def test_downward_and_same_layer_imports_pass(copy_of_rnnkit):
    _plant(copy_of_rnnkit / "rnnkit" / "models" / "sequential.py",
           "\n\ndef _planted():\n    from ..kernels import select\n    from . import summary\n")
    _plant(copy_of_rnnkit / "rnnkit" / "layers" / "core.py", "\nfrom . import recurrent\n")
    assert import_rules.violations(copy_of_rnnkit) == []


def test_a_module_outside_every_layer_is_reported(copy_of_rnnkit):
    (copy_of_rnnkit / "rnnkit" / "newpart.py").write_text("X = 1\n", encoding="utf-8")
    found = import_rules.violations(copy_of_rnnkit)
    assert found and found[0].startswith("rnnkit/newpart.py:1: module rnnkit.newpart has no layer")


def test_the_command_line_runner_exits_non_zero_on_a_violation(copy_of_rnnkit, capsys):
    line = _plant(copy_of_rnnkit / "rnnkit" / "backend.py", "\nfrom .layers import Dense\n")
    assert import_rules.main(["import_rules.py", str(copy_of_rnnkit)]) == 1
    assert f"rnnkit/backend.py:{line}: " in capsys.readouterr().out
    assert import_rules.main(["import_rules.py", str(ROOT)]) == 0
