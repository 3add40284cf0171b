"""rnnkit's GRU / SimpleRNN / LSTM time loops in C (``rnn_loops.c``), float32 on the CPU.

The C loops call the BLAS ``sgemm_`` that torch itself was built with (MKL in the
official CPU wheels: ``libtorch_cpu`` exports it), so the recurrent products are the very
products ``torch.mm`` computes; what the C adds is that a step no longer pays Python's
per-op dispatch around them, and that the gate math is one fused pass.

The C file is compiled on first use with the system's C compiler (``cc``, or ``$CC``)
into a per-user cache (``$RNNKIT_CACHE`` or ``~/.cache/rnnkit``), keyed by the source's
hash; the build is written beside and renamed into place, so concurrent first uses don't
see half a library. Where there is no compiler, no exported ``sgemm_`` (a torch built
without MKL), no writable cache, or ``RNNKIT_NATIVE=0``, ``loops()`` returns None with the
reason in ``unavailable_reason()`` and ``fused_loop`` runs its Python loops instead: the
same results to float32 rounding.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

_SOURCE = Path(__file__).with_name("rnn_loops.c")
# packed_product.c: the LSTM loop's own recurrent product (AVX2 + FMA or portable C, chosen
# at load time), built into the same library.
_SOURCES = (_SOURCE, Path(__file__).with_name("packed_product.c"))
# -O3 vectorizes the gate loops (-fno-trapping-math lets it evaluate both sides of tanh's
# branch-free select); the source's target clones add AVX-512 and AVX2 versions chosen at
# load time, so a cached build stays valid on another x86 machine sharing the cache.
_FLAGS = ["-O3", "-fPIC", "-shared", "-fno-math-errno", "-fno-trapping-math", "-std=c99"]

_state: dict = {}


def cache_dir() -> Path:
    root = os.environ.get("RNNKIT_CACHE") or Path.home() / ".cache" / "rnnkit"
    return Path(root) / "native"


def _find_sgemm() -> int | None:
    """The address of the ``sgemm_`` (LP64 BLAS) inside torch's CPU library, if exported."""
    lib_dir = Path(torch.__file__).parent / "lib"
    for name in ("libtorch_cpu.so", "libtorch_cpu.dylib"):
        path = lib_dir / name
        if not path.exists():
            continue
        try:
            library = ctypes.CDLL(str(path))
            return ctypes.cast(library.sgemm_, ctypes.c_void_p).value
        except (OSError, AttributeError):
            return None
    return None


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
        os.replace(temporary, target)
        return None
    except (OSError, subprocess.SubprocessError) as error:
        return f"{compiler} failed: {error}"
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _declare(library: ctypes.CDLL) -> None:
    p, i, i64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64
    library.rnnkit_gru_forward.argtypes = [p, i, i, i, i, p, p, p, p, p]
    library.rnnkit_gru_backward_chunk.argtypes = [p, i, i, i, i, p, p, p, p, p, i64, i64,
                                                  p, p, i, p]
    library.rnnkit_simple_forward.argtypes = [p, i, i, i, i, p, p, p]
    library.rnnkit_simple_backward_chunk.argtypes = [p, i, i, i, p, p, p, i64, i64, p, p, i,
                                                     p, p]
    library.rnnkit_lstm_forward.argtypes = [p, i, i, i, p, p, p, p, p, p, p]
    library.rnnkit_lstm_backward_chunk.argtypes = [p, i, i, i, p, p, p, p, p, i64, i64, p, p, p,
                                                   i, p, p, p]
    library.rnnkit_pack_panels.argtypes = [i, i, p, i64, i, p]
    library.rnnkit_packed_size.argtypes = [i, i]
    library.rnnkit_packed_size.restype = i64
    library.rnnkit_packed_product.argtypes = [i, i, i, p, i64, p, p, i64, i]
    library.rnnkit_product_isa.argtypes = []
    library.rnnkit_product_isa.restype = i
    library.rnnkit_product_force_portable.argtypes = [i]
    library.rnnkit_lstm_infer.argtypes = [i, i, i, i, p, p, p, p, p, p, p, p, p, p]
    library.rnnkit_lstm_forward_call.argtypes = [i, i, i, p, i, p, p, p, p, p, p, p, p]
    library.rnnkit_tanh.argtypes = library.rnnkit_sigmoid.argtypes = [p, i64]
    for name in ("rnnkit_gru_forward", "rnnkit_gru_backward_chunk", "rnnkit_simple_forward",
                 "rnnkit_simple_backward_chunk", "rnnkit_lstm_forward",
                 "rnnkit_lstm_backward_chunk", "rnnkit_tanh", "rnnkit_sigmoid",
                 "rnnkit_pack_panels", "rnnkit_packed_product", "rnnkit_product_force_portable",
                 "rnnkit_lstm_infer", "rnnkit_lstm_forward_call"):
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
    target = cache_dir() / f"rnn_loops-{platform.machine()}-{digest}.so"
    if not target.exists():
        problem = _compile(target)
        if problem:
            return None, None, problem
    try:
        library = ctypes.CDLL(str(target))
        _declare(library)
    except (OSError, AttributeError) as error:
        return None, None, f"cannot load {target}: {error}"
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
    return all(t is None or (t.dtype == torch.float32 and t.device.type == "cpu")
               for t in tensors)
