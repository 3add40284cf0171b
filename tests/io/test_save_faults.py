"""Saving over a file, in every format: what users expect is kept (issue 16, items 4 and 7).

Permission bits survive a save, a symlink is written through (the link stays a link, its
target gets the new contents), temp files of killed saves are removed by the next save,
and a full disk is a clear OSError saying the previous file is intact.
"""
import os
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from rnnkit import backend
from rnnkit._files.atomic import TEMP_PREFIX
from rnnkit.layers import LSTM, Dense
from rnnkit.models import Sequential, load_model
from rnnkit.training import backup

from bounded import run_bounded  # tests/io/bounded.py


def _model(units=3):
    backend.clear_session()
    return Sequential([LSTM(units, input_shape=(4, 2)), Dense(1)], name="m")


SAVERS = {
    "model.h5": lambda m, p: m.save(p),
    "model.keras": lambda m, p: m.save(p),
    "w.weights.h5": lambda m, p: m.save_weights(p),
    "w.h5": lambda m, p: m.save_weights(p),
    "model.npz": lambda m, p: m.save(p),
    "w.npz": lambda m, p: m.save_weights(p),
    "backup.npz": lambda m, p: backup.save(m, str(p), 1, {}, []),
}


@pytest.mark.parametrize("name", sorted(SAVERS))
def test_saving_keeps_permission_bits(tmp_path, name):
    path = tmp_path / name
    model = _model()
    SAVERS[name](model, path)
    os.chmod(path, 0o600)
    SAVERS[name](model, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    SAVERS[name](model, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_new_file_gets_the_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        _model().save(tmp_path / "m.h5")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.h5").st_mode) == 0o640


@pytest.mark.parametrize("name", sorted(SAVERS))
def test_saving_through_a_symlink_writes_its_target(tmp_path, name):
    target_dir = tmp_path / "real"
    target_dir.mkdir()
    target = target_dir / name
    link = tmp_path / name
    link.symlink_to(target)  # dangling at first: the first save creates the target
    model = _model()
    SAVERS[name](model, link)
    assert link.is_symlink() and target.is_file()
    first = target.read_bytes()
    model.set_weights([w + 1 for w in model.get_weights()])
    SAVERS[name](model, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != first
    assert sorted(os.listdir(tmp_path)) == sorted([name, "real"])
    assert os.listdir(target_dir) == [name]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temp_files_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "m.h5"
    stale = tmp_path / f"{TEMP_PREFIX}{_dead_pid()}-0123456789abcdef-m.h5"
    stale.write_bytes(b"half a file")
    other = tmp_path / f"{TEMP_PREFIX}{_dead_pid()}-0123456789abcdef-other.h5"
    other.write_bytes(b"another file's temp")
    live = tmp_path / f"{TEMP_PREFIX}{os.getppid()}-0123456789abcdef-m.h5"
    live.write_bytes(b"a save in progress in a live process")
    _model().save(path)
    assert not stale.exists()
    assert other.exists()  # only temps of the file being saved are touched
    assert live.exists()   # its process still runs
    assert load_model(path).name == "m"


def test_a_save_killed_mid_write_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    before = path.read_bytes()
    code = f"""
import time
from rnnkit import _files
from rnnkit.layers import LSTM, Dense
from rnnkit.models import Sequential
real = _files.atomic.atomic_write
def slow(path, write, overwrite=True):
    def stalled(temp):
        write(temp)
        print("written", flush=True)
        time.sleep(60)
    real(path, stalled, overwrite)
import rnnkit.io.saving as saving
saving.atomic_write = _files.atomic_write = _files.atomic.atomic_write = slow
import rnnkit.io.saving
rnnkit.io.saving._files = _files
Sequential([LSTM(5, input_shape=(4, 2)), Dense(1)]).save({str(path)!r})
"""
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env=env)
    try:
        assert child.stdout.readline().strip() == "written"
        temps = [n for n in os.listdir(tmp_path) if n.startswith(TEMP_PREFIX)]
        assert len(temps) == 1
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert path.read_bytes() == before
    assert any(n.startswith(TEMP_PREFIX) for n in os.listdir(tmp_path))
    _model().save(path)
    assert os.listdir(tmp_path) == ["m.keras"]


def test_a_full_disk_is_a_clear_error_and_the_previous_file_is_intact(tmp_path):
    # RLIMIT_FSIZE makes writes past 64 KiB fail with EFBIG, as a full disk fails with ENOSPC
    lines = []
    for name, save in [("m.h5", "model.save"), ("m.keras", "model.save"),
                       ("w.weights.h5", "model.save_weights"), ("m.npz", "model.save")]:
        lines.append(f"""
path = {str(tmp_path / name)!r}
model = Sequential([LSTM(4, input_shape=(4, 2)), Dense(1)])
{save}(path)
before = open(path, 'rb').read()
big = Sequential([LSTM(200, input_shape=(4, 2)), Dense(1)])
resource.setrlimit(resource.RLIMIT_FSIZE, (2 ** 16, resource.RLIM_INFINITY))
try:
    {save.replace('model', 'big')}(path)
    print("RESULT", path, "saved")
except OSError as error:
    print("RESULT", path, error.errno, "|", error)
finally:
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("INTACT", open(path, 'rb').read() == before, [n for n in os.listdir({str(tmp_path)!r})
                                                     if n.startswith('.rnnkit-tmp')])
""")
    result = run_bounded("""
import os, resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from rnnkit.layers import LSTM, Dense
from rnnkit.models import Sequential
""" + "".join(lines), timeout=180, memory_mb=3000)
    assert result["outcome"] == "ok", result
    out = result["stdout"]
    assert out.count("INTACT True []") == 4, out
    results = [line for line in out.splitlines() if line.startswith("RESULT")]
    assert len(results) == 4 and all(" 27 | [Errno 27] Could not save" in r for r in results), out
    assert all("the disk is full or the file size limit was reached" in r
               and "is intact" in r for r in results), out
