"""utils.get_file against tf.keras 2.12's (fixtures/keras2_get_file: the same calls on the
same local files, scenario.py; records.json by record_get_file.py), and the checks it makes
that tf.keras does not: no half-written or unverified file in the cache, no archive member
unpacked outside the target."""
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from rnnkit import utils
from rnnkit.utils import data_utils

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_get_file"
sys.path.insert(0, str(HERE))
from scenario import run  # noqa: E402

sys.path.remove(str(HERE))
RECORDS = json.loads((HERE / "records.json").read_text())


def test_get_file_prints_and_returns_what_tf_keras_did(tmp_path):
    ours = run(utils.get_file, tmp_path)
    *calls, theirs_failed, theirs_files = RECORDS
    *our_calls, our_failed, our_files = ours
    assert our_calls == calls
    # a file that fails its hash after the download: the same message and error, but
    # rnnkit does not leave it in the cache under the real name (tf.keras does)
    assert {k: v for k, v in our_failed.items() if k != "left_in_cache"} == \
        {k: v for k, v in theirs_failed.items() if k != "left_in_cache"}
    assert theirs_failed["left_in_cache"] and not our_failed["left_in_cache"]
    assert our_files["cache files"] == [f for f in theirs_files["cache files"]
                                        if f != "datasets/wrong.bin"]
    assert data_utils.get_file is utils.get_file


def test_an_interrupted_download_leaves_nothing_in_the_cache(tmp_path, monkeypatch):
    from rnnkit.utils import downloads
    (tmp_path / "big.bin").write_bytes(b"x" * 50000)

    def interrupted(count, size, total):
        if count == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(downloads, "_DownloadProgress", lambda: interrupted)
    with pytest.raises(KeyboardInterrupt):
        utils.get_file("big.bin", origin=f"file://{tmp_path}/big.bin", cache_dir=str(tmp_path))
    assert list((tmp_path / "datasets").iterdir()) == []


def test_a_url_that_fails_names_it(tmp_path):
    with pytest.raises(Exception, match=r"URL fetch failure on file://.*/absent\.bin"):
        utils.get_file("absent.bin", origin=f"file://{tmp_path}/absent.bin",
                       cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r'specify the "origin"'):
        utils.get_file("x.bin")


def _tar_with(path, name, data=b"evil", link=None):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        if link is not None:
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
        else:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("name,link", [("../escaped.txt", None), ("/tmp/absolute.txt", None),
                                       ("inner/../../escaped.txt", None),
                                       ("link", "/etc/passwd")])
def test_hostile_tar_members_are_refused_before_anything_is_written(tmp_path, name, link):
    source = tmp_path / "src"
    source.mkdir()
    _tar_with(source / "bad.tar.gz", name, link=link)
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(ValueError, match=r"refusing to extract .*member '.*' is"):
        utils.get_file("bad.tar.gz", origin=f"file://{source}/bad.tar.gz", extract=True,
                       cache_dir=str(cache))
    assert not (tmp_path / "escaped.txt").exists() and not (cache / "escaped.txt").exists()
    assert sorted(p.name for p in (cache / "datasets").iterdir()) == ["bad.tar.gz"]


def test_zip_slip_is_refused(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    with zipfile.ZipFile(source / "bad.zip", "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../../slipped.txt", "evil")
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(ValueError, match=r"member '\.\./\.\./slipped\.txt' is outside"):
        utils.get_file("bad.zip", origin=f"file://{source}/bad.zip", extract=True,
                       cache_dir=str(cache))
    assert not (tmp_path / "slipped.txt").exists()
    assert not (cache / "datasets" / "ok.txt").exists()   # checked before writing anything


def test_file_hashes_and_their_check(tmp_path):
    import hashlib
    from rnnkit.utils import downloads
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc" * 1000)
    sha, md5 = hashlib.sha256(path.read_bytes()).hexdigest(), hashlib.md5(path.read_bytes())
    assert downloads.hash_file(path) == sha and downloads.hash_file(path, "auto") == sha
    assert downloads.hash_file(path, "md5") == md5.hexdigest()
    assert data_utils.validate_file(path, sha) and data_utils.validate_file(path, md5.hexdigest())
    assert not data_utils.validate_file(path, sha, algorithm="md5")
