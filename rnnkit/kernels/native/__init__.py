"""rnnkit's GRU / SimpleRNN / LSTM time loops in C (``rnn_loops.c``), float32 on the CPU.

The C loops call the BLAS ``sgemm_`` that torch itself was built with (MKL in the
official CPU wheels: ``libtorch_cpu`` exports it), so the recurrent products are the very
products ``torch.mm`` computes; what the C adds is that a step no longer pays Python's
per-op dispatch around them, and that the gate math is one fused pass.

The C file is compiled on first use with the system's C compiler (``cc``, or ``$CC``)
into a per-user cache (``$RNNKIT_CACHE`` or ``~/.cache/rnnkit``), keyed by the source's
hash; the build is written beside and renamed into place, so concurrent first uses don't
see half a library. Loading a shared library runs its code, so the cache is trusted only
when it is a real directory owned by this user and writable by no one else (otherwise the
library is built in a private temporary directory, removed at exit), and the library's
SHA-256, recorded beside it when it was built, is checked on the very file descriptor that
is then loaded (``/proc/self/fd``); a library that does not match is rebuilt. Where there
is no compiler, no exported ``sgemm_`` (a torch built without MKL), or ``RNNKIT_NATIVE=0``,
``loops()`` returns None with the reason in ``unavailable_reason()`` and ``rnnkit_loop`` runs
its Python loops instead: the same results to float32 rounding.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

_SOURCE = Path(__file__).with_name("rnn_loops.c")
# packed_product.c: the loops' own recurrent product (AVX2 + FMA or portable C, chosen at
# load time); stream_infer.c: LSTM, GRU and SimpleRNN inference in one call; lstm_calls.c:
# the LSTM loop's forward and backward chunks over slices of the batch, one thread each.
# One library.
_SOURCES = (_SOURCE, Path(__file__).with_name("packed_product.c"),
            Path(__file__).with_name("stream_infer.c"), Path(__file__).with_name("lstm_calls.c"))
# -O3 vectorizes the gate loops (-fno-trapping-math lets it evaluate both sides of tanh's
# branch-free select); the source's target clones add AVX-512 and AVX2 versions chosen at
# load time, so a cached build stays valid on another x86 machine sharing the cache.
# -ffp-contract=fast lets the gate passes' polynomials use FMA (ISO C mode turns that off;
# an LSTM forward at W2's shape took 1.13x as long without it).
_FLAGS = ["-O3", "-fPIC", "-shared", "-fno-math-errno", "-fno-trapping-math",
          "-ffp-contract=fast", "-std=c99"]

_state: dict = {}


def cache_dir() -> Path:
    root = os.environ.get("RNNKIT_CACHE") or Path.home() / ".cache" / "rnnkit"
    return Path(root) / "native"


def untrusted_reason(directory: Path) -> str | None:
    """Why a library in ``directory`` could have been planted by someone else (None: it
    could not): not a real directory, not owned by this user, or group/world-writable."""
    try:
        info = os.lstat(directory)
    except OSError as error:
        return f"cannot inspect {directory}: {error.strerror or error}"
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        return f"{directory} is not a real directory"
    if info.st_uid != os.geteuid():
        return f"{directory} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return (f"{directory} is writable by its group or by others "
                f"(mode {stat.S_IMODE(info.st_mode):o})")
    return None


def build_dir() -> tuple[Path, str]:
    """``(directory to build and load from, why the cache was not used or "")``: the cache
    when it is trustworthy, else a private temporary directory (0700) for this process."""
    directory = cache_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        reason = untrusted_reason(directory)
    except OSError as error:
        reason = f"cannot create {directory}: {error.strerror or error}"
    if reason is None:
        return directory, ""
    if "private" not in _state:
        import atexit
        private = Path(tempfile.mkdtemp(prefix="rnnkit-native-"))
        atexit.register(shutil.rmtree, private, True)
        _state["private"] = private
    return _state["private"], reason


def _digest_file(handle: int) -> str:
    digest = hashlib.sha256()
    os.lseek(handle, 0, os.SEEK_SET)
    while chunk := os.read(handle, 2 ** 20):
        digest.update(chunk)
    return digest.hexdigest()


def _open_verified(target: Path) -> tuple[int | None, str]:
    """An open descriptor of ``target`` whose SHA-256 matches the one recorded at build
    time, or ``(None, why not)``. The file must be ours and writable only by us."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(target, flags)
    except OSError as error:
        return None, f"cannot open {target}: {error.strerror or error}"
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        os.close(fd)
        return None, f"{target} is not a private regular file of this user"
    try:
        recorded = Path(str(target) + ".sha256").read_text().strip()
    except OSError:
        recorded = ""
    if _digest_file(fd) != recorded:
        os.close(fd)
        return None, f"{target} does not match the SHA-256 recorded when it was built"
    return fd, ""


def _torch_symbols(*names: str) -> list[int | None]:
    """The addresses of ``names`` as torch's CPU library sees them (its own exports and
    those of the libraries it loaded: MKL's ``sgemm_``, libgomp's OpenMP entry points);
    None for each one it lacks."""
    lib_dir = Path(torch.__file__).parent / "lib"
    for name in ("libtorch_cpu.so", "libtorch_cpu.dylib"):
        path = lib_dir / name
        if not path.exists():
            continue
        try:
            library = ctypes.CDLL(str(path))
        except OSError:
            return [None] * len(names)
        found = []
        for symbol in names:
            try:
                found.append(ctypes.cast(getattr(library, symbol), ctypes.c_void_p).value)
            except AttributeError:
                found.append(None)
        return found
    return [None] * len(names)


def _find_sgemm() -> int | None:
    """The address of the ``sgemm_`` (LP64 BLAS) inside torch's CPU library, if exported."""
    return _torch_symbols("sgemm_")[0]


def _compile(target: Path) -> str | None:
    """Build the library at ``target``; returns why not, or None on success."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        return "no C compiler (cc) on PATH"
    try:  # an unwritable cache is a reason to run in Python, not an error
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".so.tmp")
        os.close(handle)
    except OSError as error:
        return f"cannot write the build cache {target.parent}: {error}"
    try:
        result = subprocess.run([compiler, *_FLAGS, *map(str, _SOURCES), "-o", temporary],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            return f"{compiler} failed: {result.stderr.strip()[-500:]}"
        os.chmod(temporary, 0o755)
        with open(temporary, "rb") as built:
            digest = _digest_file(built.fileno())
        record = Path(str(target) + ".sha256")
        record_temp = Path(temporary + ".sha256")
        record_temp.write_text(digest + "\n")
        os.replace(record_temp, record)  # the record first: a reader sees a pair or a mismatch
        os.replace(temporary, target)
        return None
    except (OSError, subprocess.SubprocessError) as error:
        return f"{compiler} failed: {error}"
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _declare(library: ctypes.CDLL) -> None:
    p, i, i64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64
    library.rnnkit_gru_forward.argtypes = [p, i, i, i, i, p, p, p, p, p, p, p]
    library.rnnkit_gru_backward_chunk.argtypes = [p, i, i, i, i, p, p, p, p, p, i64, i64,
                                                  p, p, i, p]
    library.rnnkit_simple_forward.argtypes = [p, i, i, i, i, p, p, p, p]
    library.rnnkit_simple_backward_chunk.argtypes = [p, i, i, i, p, p, p, i64, i64, p, p, i,
                                                     p, p]
    library.rnnkit_lstm_forward.argtypes = [p, i, i, i, p, p, p, p, p, p, p]
    library.rnnkit_lstm_backward_chunk.argtypes = [p, i, i, i, p, p, p, p, p, i64, i64, p, p, p,
                                                   i, p, p, p]
    library.rnnkit_pack_panels.argtypes = [i, i, p, i64, i, i, p]
    library.rnnkit_packed_size.argtypes = [i, i, i]
    library.rnnkit_packed_size.restype = i64
    library.rnnkit_panel_width.argtypes = [i]
    library.rnnkit_panel_width.restype = i
    library.rnnkit_packed_product.argtypes = [i, i, i, p, i64, p, p, i64, i]
    library.rnnkit_product_isa.argtypes = []
    library.rnnkit_product_isa.restype = i
    library.rnnkit_product_force_portable.argtypes = [i]
    # the inference calls return 0, or -1 when their buffers cannot be allocated
    library.rnnkit_lstm_infer.argtypes = [i, i, i, i, p, i64, i64, i, p, p, p, p, p, p, p, p]
    library.rnnkit_gru_infer.argtypes = [i, i, i, i, p, i64, i64, i, i, p, p, p, p, p, p, p, p]
    library.rnnkit_simple_infer.argtypes = [i, i, i, i, p, i64, i64, i, i, p, p, p, p, p, p]
    library.rnnkit_lstm_forward_call.argtypes = [i, i, i, p, i, p, p, p, p, p, p, p, p, i]
    library.rnnkit_lstm_backward_call.argtypes = [i, i, i, p, p, p, p, i64, i64, p, p, p, i, p,
                                                  p, p, i]
    library.rnnkit_lstm_slice_count.argtypes = [i, i, i64]
    library.rnnkit_lstm_slice_count.restype = i
    library.rnnkit_lstm_set_min_parallel_work.argtypes = [i64]
    library.rnnkit_lstm_set_min_parallel_work.restype = i64
    library.rnnkit_use_openmp.argtypes = [p, p, p]
    library.rnnkit_lstm_column_count.argtypes = [i, i, i64]
    library.rnnkit_lstm_column_count.restype = i
    library.rnnkit_tanh.argtypes = library.rnnkit_sigmoid.argtypes = [p, i64]
    for name in ("rnnkit_gru_forward", "rnnkit_gru_backward_chunk", "rnnkit_simple_forward",
                 "rnnkit_simple_backward_chunk", "rnnkit_lstm_forward",
                 "rnnkit_lstm_backward_chunk", "rnnkit_tanh", "rnnkit_sigmoid",
                 "rnnkit_pack_panels", "rnnkit_packed_product", "rnnkit_product_force_portable",
                 "rnnkit_lstm_forward_call", "rnnkit_lstm_backward_call", "rnnkit_use_openmp"):
        getattr(library, name).restype = None


def _load() -> tuple[ctypes.CDLL | None, int | None, str]:
    if os.environ.get("RNNKIT_NATIVE", "1") == "0":
        return None, None, "RNNKIT_NATIVE=0"
    if sys.platform == "win32":
        return None, None, "not built on Windows"
    sgemm = _find_sgemm()
    if sgemm is None:
        return None, None, "this torch build exports no sgemm_ (a BLAS other than MKL)"
    sources = b"".join(source.read_bytes() for source in _SOURCES)
    digest = hashlib.sha256(sources + " ".join(_FLAGS).encode()).hexdigest()[:16]
    directory, _state["cache_note"] = build_dir()
    target = directory / f"rnn_loops-{platform.machine()}-{digest}.so"
    fd, problem = _open_verified(target) if target.exists() else (None, "not built")
    if fd is None:  # not built yet, or not the library this process built: (re)build it
        problem = _compile(target)
        if problem:
            return None, None, problem
        fd, problem = _open_verified(target)
        if fd is None:
            return None, None, problem
    try:
        proc = f"/proc/self/fd/{fd}"  # load the very file that was hashed
        library = ctypes.CDLL(proc if os.path.exists(proc) else str(target))
        _declare(library)
        # the LSTM loop's batch slices run on torch's OpenMP team (lstm_calls.c), when
        # torch's parallel backend is OpenMP
        openmp = ("GOMP_parallel", "omp_get_thread_num", "omp_get_num_threads")
        if "OpenMP" in torch.__config__.parallel_info():
            library.rnnkit_use_openmp(*_torch_symbols(*openmp))
    except (OSError, AttributeError) as error:
        return None, None, f"cannot load {target}: {error}"
    finally:
        os.close(fd)
    _state["path"] = target
    return library, sgemm, ""


def loops() -> tuple[ctypes.CDLL, int] | None:
    """``(library, sgemm address)``, built and loaded once per process; None if unavailable."""
    if "library" not in _state:
        _state["library"], _state["sgemm"], _state["reason"] = _load()
    if _state["library"] is None:
        return None
    return _state["library"], _state["sgemm"]


def unavailable_reason() -> str:
    """Why the C loops are not used ("" when they are)."""
    loops()
    return _state["reason"]


def usable(*tensors: torch.Tensor | None) -> bool:
    """Whether the C loops can run on these tensors: float32 on the CPU. (The loops read
    their buffers as contiguous: callers pass contiguous ones.)"""
    if loops() is None:
        return False
    # a plain loop over is_cpu: asked on every call, and ``Tensor.device.type`` builds a
    # device object and a new string at each read
    for t in tensors:
        if t is not None and (t.dtype is not torch.float32 or not t.is_cpu):
            return False
    return True
