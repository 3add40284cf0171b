"""The package as users get it: ``python -m build`` makes an sdist and, from it, a wheel;
``twine check`` passes on both; the wheel installed into a fresh venv (no editable install,
no source tree on the path) runs ``rnnkit demo``, loads a Keras .h5 file, compiles the C
loops from its installed source and fits a small model (tests/wheel_checks.py).

The venv takes torch, NumPy and h5py from this interpreter's site-packages
(``--system-site-packages``: no multi-GB download); rnnkit itself comes only from the
wheel, which wheel_checks.py asserts. Marked ``wheel`` (about a minute): ``-m "not wheel"``
leaves it out of a local run.
"""
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import rnnkit

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "keras2" / "models" / "lstm_dense"

# What the wheel must carry beside the Python modules: a file missing from package-data
# would pass the editable-install suite and break users.
WHEEL_DATA = ["rnnkit/py.typed", "rnnkit/kernels/native/rnn_loops.c",
              "rnnkit/kernels/persistent/routing.json", "rnnkit/datasets/data/README.md",
              "rnnkit/datasets/data/airline_passengers.csv",
              "rnnkit/datasets/data/sunspots_yearly.csv",
              "rnnkit/datasets/data/public_domain_texts.txt"]


def _tool(module: str) -> None:
    """build and twine come with the test extra; CI must not skip this test for lack of them."""
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")


def _run(command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                            timeout=600, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode}\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _clean_env(**extra) -> dict:
    """The environment without anything that would put the source tree on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    _tool("build")
    out = tmp_path_factory.mktemp("dist")
    # The wheel is built from the unpacked sdist (build's default), so a file the sdist
    # lacks is missing from the wheel too. The checkout is copied first (less what builds
    # and runs leave in it) so that the build's egg-info and build/ land outside it.
    source = tmp_path_factory.mktemp("source") / "rnnkit"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache", "out"))
    _run([sys.executable, "-m", "build", "--outdir", out, source], env=_clean_env())
    return out


def _archives(dist: Path) -> tuple[Path, Path]:
    wheels = list(dist.glob("rnnkit-*.whl"))
    sdists = list(dist.glob("rnnkit-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(dist.iterdir())
    return wheels[0], sdists[0]


def test_build_names_the_archives_with_the_package_version(dist):
    wheel, sdist = _archives(dist)
    assert wheel.name == f"rnnkit-{rnnkit.__version__}-py3-none-any.whl"
    assert sdist.name == f"rnnkit-{rnnkit.__version__}.tar.gz"


def test_twine_check_passes_on_both_archives(dist):
    _tool("twine")
    wheel, sdist = _archives(dist)
    result = _run([sys.executable, "-m", "twine", "check", "--strict", wheel, sdist])
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_wheel_carries_the_licence_the_data_and_the_c_source(dist):
    wheel, sdist = _archives(dist)
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = f"rnnkit-{rnnkit.__version__}.dist-info"
    for name in WHEEL_DATA + [f"{dist_info}/licenses/LICENSE", f"{dist_info}/entry_points.txt"]:
        assert name in names, f"{name} missing from {wheel.name}"
    assert not any(n.startswith("tests/") for n in names)
    licence = zipfile.ZipFile(wheel).read(f"{dist_info}/licenses/LICENSE").decode()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata
    with tarfile.open(sdist) as archive:
        sdist_names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml", "CHANGELOG.md",
            "rnnkit/kernels/native/rnn_loops.c"} <= sdist_names
    assert not any(n.startswith("tests") for n in sdist_names)  # MANIFEST.in prunes them


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    wheel, _ = _archives(dist)
    prefix = tmp_path_factory.mktemp("venv") / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(prefix)
    # This interpreter's pip installs into the venv (``--python``: faster than bootstrapping
    # pip there); --no-deps because torch/NumPy/h5py come from the system site-packages
    # (test_the_wheels_requirements_admit_this_torch checks the wheel accepts them), and
    # --force-reinstall because the checkout may be installed there (editable) already.
    _run([sys.executable, "-m", "pip", "--python", prefix / "bin" / "python", "install",
          "--quiet", "--no-index", "--no-deps", "--force-reinstall", wheel], env=_clean_env())
    return prefix


def test_the_wheels_requirements_admit_this_torch(dist):
    from importlib.metadata import version

    from packaging.requirements import Requirement
    wheel, _ = _archives(dist)
    metadata = zipfile.ZipFile(wheel).read(
        f"rnnkit-{rnnkit.__version__}.dist-info/METADATA").decode()
    requirements = [Requirement(line.split(":", 1)[1].strip())
                    for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    core = {r.name: r for r in requirements if r.marker is None}
    assert set(core) == {"torch", "numpy", "h5py"}
    for name, requirement in core.items():
        installed_version = version(name).split("+")[0]
        assert requirement.specifier.contains(installed_version, prereleases=True), (
            f"{requirement} refuses the installed {name} {installed_version}")


def test_installed_wheel_runs_the_demo(installed, tmp_path):
    result = _run([installed / "bin" / "rnnkit", "demo"], cwd=tmp_path,
                  env=_clean_env(RNNKIT_CACHE=str(tmp_path / "cache")))
    assert 'Model: "sequential"' in result.stdout and "Total params: 42" in result.stdout
    version = _run([installed / "bin" / "rnnkit", "--version"], cwd=tmp_path, env=_clean_env())
    assert version.stdout.startswith(f"rnnkit {rnnkit.__version__} (torch ")


def test_installed_wheel_loads_keras_compiles_c_loops_and_fits(installed, tmp_path):
    # The C loops need a compiler on Linux (as tests/kernels/test_native_loops.py): CI has one.
    compiler = sys.platform.startswith("linux") and shutil.which("cc") is not None
    result = _run([installed / "bin" / "python", "-I", ROOT / "tests" / "wheel_checks.py",
                   installed, ROOT, FIXTURE.with_suffix(".h5"), FIXTURE.with_suffix(".npz")],
                  cwd=tmp_path, env=_clean_env(RNNKIT_CACHE=str(tmp_path / "cache"),
                                               RNNKIT_NATIVE="1",
                                               WHEEL_CHECK_C_LOOPS=str(int(compiler))))
    print(result.stdout)
    assert "lstm_dense.h5 loaded" in result.stdout and "fit: loss" in result.stdout
    assert ("C loops compiled from" if compiler else "C loops not built") in result.stdout
