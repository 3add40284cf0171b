"""``rnnkit explore MODEL --data DATA --out page.html``: the explorer from files.

``MODEL`` is anything ``load_model`` reads (a tf.keras 2 ``.h5``, a ``.keras`` archive, an
rnnkit file). ``DATA`` is one of:

* a ``.csv`` file: ``--column`` names one column (or several, comma-separated: one feature
  each), cut into windows of the length the model's input asks for (``--window`` when the
  model leaves it open), ``--stride`` apart;
* an ``.npz`` (``--key`` names the array, default ``x`` or its only array) or ``.npy``
  array: (sequences, steps, features), or (sequences, steps) ids for an Embedding model;
* a text file, one sequence a line, with ``--word-index``: a ``Tokenizer.to_json()`` file
  (tf.keras's or rnnkit's) or a plain ``{"word": id}`` JSON; the tokens label the time axis.
  Lines are padded or cut to the model's input length as ``pad_sequences`` does.

Nothing is unpickled: arrays are read with ``allow_pickle=False``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import Any

import numpy as np

__all__ = ["add_parser", "main", "load_data"]


class DataError(ValueError):
    """A data file the explorer cannot use, with what was expected."""


def _input_shape(model: Any) -> tuple:
    """(steps, features) the model takes: None where it leaves a dimension open."""
    first = model.layers[0] if hasattr(model, "layers") and model.layers else model
    shape = getattr(first, "_batch_input_shape", None) or getattr(model, "_batch_input_shape",
                                                                   None)
    if shape is None and getattr(model, "inputs", None):
        shape = tuple(model.inputs[0].shape)
    if shape is None or len(shape) < 2:
        return None, None
    return shape[1], (shape[2] if len(shape) > 2 else None)   # (batch, steps) ids: no features


def _windows(values: np.ndarray, steps: int, stride: int, limit: int) -> tuple[np.ndarray, list]:
    if len(values) < steps:
        raise DataError(f"the CSV has {len(values)} rows, fewer than the {steps} steps of one "
                        "window.")
    starts = list(range(0, len(values) - steps + 1, stride))[:limit]
    x = np.stack([values[s:s + steps] for s in starts]).astype(np.float32)
    return x, [f"rows {s}\u2013{s + steps - 1}" for s in starts]


def _read_csv(path: str, columns: str | None) -> tuple[np.ndarray, list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise DataError(f"{path!r} is empty.")
    header, body = rows[0], [r for r in rows[1:] if r]
    names = [c.strip() for c in columns.split(",")] if columns else None
    if names is None:
        numeric = [k for k, _ in enumerate(header) if _all_numbers(body, k)]
        if len(numeric) != 1:
            raise DataError(f"{path!r} has columns {header}; name the one(s) to use with "
                            "--column.")
        names = [header[numeric[0]]]
    missing = [n for n in names if n not in header]
    if missing:
        raise DataError(f"--column {','.join(missing)}: {path!r} has columns {header}.")
    index = [header.index(n) for n in names]
    try:
        values = np.array([[float(r[k]) for k in index] for r in body], dtype=np.float32)
    except (ValueError, IndexError) as error:
        raise DataError(f"column(s) {names} of {path!r} must hold numbers: {error}") from None
    return values, names


def _all_numbers(rows: list, k: int) -> bool:
    try:
        for r in rows:
            float(r[k])
        return bool(rows)
    except (ValueError, IndexError):
        return False


def _tokenizer(path: str, char_level: bool) -> Any:
    from ..preprocessing.text import Tokenizer, tokenizer_from_json

    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"--word-index {path!r} is not JSON: {error}") from None
    if isinstance(content, dict) and content.get("class_name") == "Tokenizer":
        return tokenizer_from_json(text)
    if isinstance(content, dict) and all(isinstance(v, int) for v in content.values()):
        tokenizer = Tokenizer(char_level=char_level, filters="" if char_level else
                              Tokenizer().filters)
        tokenizer.word_index = dict(content)
        tokenizer.index_word = {v: k for k, v in content.items()}
        return tokenizer
    raise DataError(f"--word-index {path!r} must hold a Tokenizer's to_json() or a "
                    '{"word": id} mapping.')


def _read_text(path: str, word_index: str, char_level: bool, steps: int | None,
               padding: str, limit: int) -> tuple[np.ndarray, list, list]:
    from ..preprocessing.sequence import pad_sequences

    tokenizer = _tokenizer(word_index, char_level)
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\r\n") for line in f][:limit]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise DataError(f"{path!r} has no text lines.")
    ids = tokenizer.texts_to_sequences(lines)
    length = steps or max(len(s) for s in ids)
    x = pad_sequences(ids, maxlen=length, padding=padding, truncating=padding)
    labels = []
    for row in x:
        labels.append([tokenizer.index_word.get(int(i), "") if i else "" for i in row])
    names = [f"line {k + 1}" for k in range(len(lines))]
    return x, labels, names


def load_data(model: Any, data: str, column: str | None = None, key: str | None = None,
              word_index: str | None = None, char_level: bool = False,
              window: int | None = None, stride: int = 1, padding: str = "pre",
              limit: int = 100) -> tuple[np.ndarray, list | None, list[str], str]:
    """``(x, labels, names, description)`` from a data file, shaped as ``model`` expects."""
    steps, features = _input_shape(model)
    ext = os.path.splitext(data)[1].lower()
    if word_index is not None:
        x, labels, names = _read_text(data, word_index, char_level, steps, padding, limit)
        return x, labels, names, f"{os.path.basename(data)} ({len(x)} lines)"
    if ext == ".csv":
        values, columns = _read_csv(data, column)
        steps = steps or window
        if not steps:
            raise DataError("the model leaves the number of steps open: give --window.")
        if features not in (None, len(columns)):
            raise DataError(f"the model takes {features} features per step; --column gave "
                            f"{len(columns)} ({','.join(columns)}).")
        x, names = _windows(values, steps, stride, limit)
        return x, None, names, (f"{os.path.basename(data)}, column {','.join(columns)}, "
                                f"windows of {steps}, stride {stride}")
    if ext in (".npz", ".npy"):
        loaded = np.load(data, allow_pickle=False)
        if ext == ".npz":
            keys = list(loaded.keys())
            name = key or ("x" if "x" in keys else keys[0] if len(keys) == 1 else None)
            if name not in keys:
                raise DataError(f"{data!r} holds arrays {keys}; name one with --key.")
            x = loaded[name]
        else:
            x = loaded
        x = x[:limit]
        if x.ndim not in (2, 3):
            raise DataError(f"the array must be (sequences, steps, features) or (sequences, "
                            f"steps) ids; got shape {x.shape}.")
        return x, None, [f"sequence {k}" for k in range(len(x))], \
            f"{os.path.basename(data)} {tuple(x.shape)}"
    raise DataError(f"--data {data!r}: expected a .csv, .npz or .npy file, or a text file "
                    "with --word-index.")


# ------------------------------------------------------------------------ the command line
def add_parser(commands: Any) -> None:
    """Register ``rnnkit explore`` on the CLI's subparsers."""
    summary = ("write one self-contained web page showing what a model's recurrent layers "
               "compute and remember")
    p = commands.add_parser("explore", help=summary,
                            description=summary[0].upper() + summary[1:] + " (docs/explorer.md).")
    p.add_argument("model", help="a .h5 / .keras / rnnkit .npz model file")
    p.add_argument("--data", required=True,
                   help=".csv (with --column), .npz/.npy, or a text file (with --word-index)")
    p.add_argument("--out", default="explorer.html", help="the page (default explorer.html)")
    p.add_argument("--column", help="CSV column(s), comma-separated")
    p.add_argument("--window", type=int, help="CSV window length when the model leaves it open")
    p.add_argument("--stride", type=int, default=1, help="CSV window stride (default 1)")
    p.add_argument("--key", help="the array of an .npz file (default x)")
    p.add_argument("--word-index", help="a Tokenizer.to_json() file or a {word: id} JSON")
    p.add_argument("--char-level", action="store_true",
                   help="with a plain {word: id} index: one token per character")
    p.add_argument("--padding", choices=("pre", "post"), default="pre",
                   help="how text lines are padded and cut (pad_sequences; default pre)")
    p.add_argument("--max-sequences", type=int, default=100, help="at most this many sequences on the page (default 100)")
    p.add_argument("--detail", help="sequences whose gates are stored first, e.g. 0,5,7")
    p.add_argument("--max-mb", type=float, default=5.0, help="size budget in MB (default 5)")


def main(args: argparse.Namespace) -> int:
    from ..io.errors import FileFormatError
    from ..io.saving import load_model
    from .explore import explore

    try:
        if args.stride < 1 or args.max_sequences < 1:
            raise DataError("--stride and --max-sequences must be at least 1.")
        model = load_model(args.model)
        x, labels, names, source = load_data(
            model, args.data, column=args.column, key=args.key, word_index=args.word_index,
            char_level=args.char_level, window=args.window, stride=args.stride,
            padding=args.padding, limit=args.max_sequences)
        try:
            detail = [int(k) for k in args.detail.split(",")] if args.detail else None
        except ValueError:
            raise DataError(f"--detail takes sequence numbers separated by commas (0,5,7); "
                            f"got {args.detail!r}.") from None
        result = explore(model, x, labels, path=args.out, names=names, detail=detail,
                         max_bytes=int(args.max_mb * 1e6), source=source)
    except (DataError, FileFormatError, ValueError, OSError, TypeError) as error:
        print(f"rnnkit explore: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {result.sequences} sequences × {result.steps} steps, layers "
          f"{', '.join(result.layers)}; gates stored for {len(result.detail)} sequences; "
          f"{result.size / 1e6:.2f} MB")
    return 0
