"""Where the compiled C loops are loaded from (issue 16): loading a library runs its code.

The cache is used only when it is a real directory of this user that no one else can
write; otherwise the library is built in a private temporary directory. A library whose
SHA-256 does not match the one recorded at build time is never loaded: it is rebuilt.
"""
import os
import shutil
import stat
from pathlib import Path

import pytest

from rnnkit.kernels import native


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """A process-local view of the loader: no library or private dir from earlier calls."""
    monkeypatch.setattr(native, "_state", {})
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNKIT_NATIVE", raising=False)
    return tmp_path / "cache" / "native"


def test_a_private_cache_is_used(fresh):
    directory, reason = native.build_dir()
    assert directory == fresh and reason == ""
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o700  # created private


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_group_or_world_writable_cache_is_not_trusted(fresh, mode):
    fresh.mkdir(parents=True)
    os.chmod(fresh, mode)
    directory, reason = native.build_dir()
    assert directory != fresh and "writable by its group or by others" in reason
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert native.untrusted_reason(directory) is None


def test_a_symlinked_cache_is_not_trusted(fresh, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    fresh.parent.mkdir(parents=True)
    fresh.symlink_to(tmp_path / "elsewhere")
    assert "not a real directory" in native.untrusted_reason(fresh)
    assert native.build_dir()[0] != fresh


def test_a_planted_or_corrupted_library_is_rebuilt_not_loaded(fresh):
    if native._find_sgemm() is None or not (shutil.which("cc") or os.environ.get("CC")):
        pytest.skip("no C compiler or no exported sgemm_: the C loops are not built here")
    library, _, reason = native._load()
    assert library is not None, reason
    target = native._state["path"]
    assert target.parent == fresh
    good = target.read_bytes()
    record = Path(str(target) + ".sha256").read_text().strip()
    planted = target.with_suffix(".planted")
    planted.write_bytes(good[:-64] + b"\0" * 64)  # someone changed the library (a new file:
    os.chmod(planted, 0o755)                        # the loaded one is mapped in this process)
    os.replace(planted, target)
    fd, problem = native._open_verified(target)
    assert fd is None and "does not match the SHA-256" in problem
    native._state.clear()
    library, _, reason = native._load()  # rebuilds, and loads what it built
    assert library is not None, reason
    assert Path(str(target) + ".sha256").read_text().strip() == record
    fd, problem = native._open_verified(target)
    assert fd is not None, problem
    os.close(fd)
