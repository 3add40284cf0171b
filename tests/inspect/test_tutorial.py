"""docs/learning-aids.md: every Python block runs, in order, in one namespace; the output
shown after a block is checked exactly where it has no decimals (float digits may differ
between BLAS builds; those blocks are checked to run)."""
import contextlib
import io
import re
from pathlib import Path

import pytest

pytest.importorskip("matplotlib").use("Agg")

DOC = Path(__file__).resolve().parents[2] / "docs" / "learning-aids.md"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def doc_blocks(text: str) -> list[tuple[str, str | None]]:
    """``(code, expected output or None)`` for each python block; the output is the
    ``text`` block that directly follows it."""
    matches = list(FENCE.finditer(text))
    blocks = []
    for k, m in enumerate(matches):
        if m.group(1) != "python":
            continue
        expected = None
        if k + 1 < len(matches):
            nxt = matches[k + 1]
            if nxt.group(1) == "text" and not text[m.end():nxt.start()].strip():
                expected = nxt.group(2)
        blocks.append((m.group(2), expected))
    return blocks


def run_blocks(blocks) -> list[str]:
    namespace: dict = {}
    outputs = []
    for code, _ in blocks:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, str(DOC), "exec"), namespace)  # the tutorial's own code
        outputs.append(buffer.getvalue())
    return outputs


def test_tutorial_blocks_run_and_print_what_the_page_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the blocks write their PNGs here, not into docs/img
    blocks = doc_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    outputs = run_blocks(blocks)
    checked = 0
    for (code, expected), got in zip(blocks, outputs):
        if expected is None:
            continue
        assert expected.strip(), f"empty output block after:\n{code}"
        if not re.search(r"\d\.\d", expected):
            assert got == expected, f"output of:\n{code}"
            checked += 1
    assert checked >= 3
    for name in ("hidden_states_simple_rnn.png", "gates_lstm.png", "memory.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_page_embeds_the_committed_figures():
    text = DOC.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\((img/[^)]+)\)", text)
    assert len(images) == 6
    for image in images:
        path = DOC.parent / image
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image
