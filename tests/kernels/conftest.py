"""Fixtures shared by the kernel tests."""
import pytest

from rnnkit.kernels import loop_chunks


@pytest.fixture(params=["one chunk", "chunks of two"])
def chunking(request, monkeypatch):
    """Run the loops' backward in one chunk, or in chunks of two steps (chunk edges inside
    the sequence)."""
    if request.param == "chunks of two":
        chunks = loop_chunks.chunks_backwards
        monkeypatch.setattr(loop_chunks, "chunks_backwards",
                            lambda steps, size: chunks(steps, size, budget=2 * size))
