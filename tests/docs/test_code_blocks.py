"""Executable documentation: every Python block of README.md and docs/*.md runs, and what
it prints matches the output shown after it.

A page's blocks run in order in one namespace, as a reader's session does, in a fresh
folder (files they write land there). A block's shown output is the untagged or ``text``
block directly after it. Output without decimals must match exactly; output with decimals
matches token by token: the words exactly (whitespace aside: torch pads columns to the
widest number) and each number to the digits shown, within one unit of its last digit
(BLAS builds differ in the last bits).
"""
from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def page_blocks(text: str) -> list[tuple[str, str | None, int]]:
    """``(code, shown output or None, line)`` for each python block of a page."""
    matches = list(FENCE.finditer(text))
    blocks = []
    for k, m in enumerate(matches):
        if m.group(1) != "python":
            continue
        shown = None
        if k + 1 < len(matches):
            nxt = matches[k + 1]
            if nxt.group(1) in ("", "text") and not text[m.end():nxt.start()].strip():
                shown = nxt.group(2)
        blocks.append((m.group(2), shown, text[:m.start()].count("\n") + 2))
    return blocks


def _tokens(text: str) -> list[str]:
    parts = []
    for piece in re.split(f"({NUMBER.pattern})", text):
        if NUMBER.fullmatch(piece or ""):
            parts.append(piece)
        elif "".join(piece.split()):
            parts.append("".join(piece.split()))
    return parts


def same_output(shown: str, printed: str) -> bool:
    if not re.search(r"\d\.\d", shown):
        return printed == shown
    want, got = _tokens(shown), _tokens(printed)
    if len(want) != len(got):
        return False
    for w, g in zip(want, got):
        if not NUMBER.fullmatch(w):
            if w != g:
                return False
            continue
        if not NUMBER.fullmatch(g):
            return False
        mantissa = re.split(r"[eE]", w)[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        exponent = int(re.split(r"[eE]", w)[1]) if re.search(r"[eE]", w) else 0
        if abs(float(w) - float(g)) > 10.0 ** (exponent - decimals) * 1.0001:
            return False
    return True


def test_the_comparison_catches_changed_digits_and_words():
    assert same_output("tensor([[ 0.9854, -0.8695]])", "tensor([[0.9854384, -0.869512]])")
    assert not same_output("tensor([[ 0.9854]])", "tensor([[0.9874]])")
    assert not same_output("tensor([[0.9854]], grad_fn=<X>)", "tensor([[0.9854]], shape=(1,))")
    assert same_output("Total params: 42\n", "Total params: 42\n")
    assert not same_output("Total params: 42\n", "Total params:  42\n")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_block_runs_and_prints_what_the_page_shows(page, tmp_path, monkeypatch):
    blocks = page_blocks(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{page.name} has no Python blocks")
    pytest.importorskip("matplotlib").use("Agg")  # pages draw figures
    monkeypatch.chdir(tmp_path)
    import rnnkit
    rnnkit.backend.clear_session()  # automatic names as in a fresh session
    namespace: dict = {"__name__": "__main__"}
    for code, shown, line in blocks:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
            except ModuleNotFoundError as error:  # an optional extra, named on the page
                pytest.skip(f"{page.name}:{line} needs {error.name}")
        if shown is not None:
            assert same_output(shown, buffer.getvalue()), (
                f"{page.name}:{line}: the page shows\n{shown}\nthe code prints\n"
                f"{buffer.getvalue()}")
