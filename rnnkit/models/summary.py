"""Plain-text model summaries in the tf.keras 2.7 - 2.12 layout.

This module is a pure formatter: it knows nothing about layers or models.
The caller collects, for every layer, the row fields Keras 2 would print

* ``f"{layer.name} ({type(layer).__name__})"``
* the output shape text (see :func:`format_shape`), ``"multiple"`` or ``"?"``
* the parameter count (an ``int`` or its ``str``; Keras prints it without
  thousands separators, e.g. ``4736``), or ``"0 (unused)"``
* for the functional layout only: the "Connected to" text, i.e.
  ``str(["input_1[0][0]", ...])`` (a list is accepted and ``str()``-ed)

and :func:`format_summary` returns the lines that ``model.summary()`` of
tf.keras 2.12 hands to ``print_fn`` one at a time.

Layout rules (``keras/utils/layer_utils.py::print_summary`` @ v2.12.0):

* every row starts with one space; column ``col`` spans
  ``positions[col-1] .. positions[col]`` and its text is cut at
  ``positions[col] - start - 2`` characters (last column: no 2-space spacer);
  what does not fit continues on further lines of the same row;
* inside the part that fits, the cut is moved to just after the first
  ``"),"``, ``"},"``, ``"],"`` or ``"',"`` (so lists of shapes break per shape);
* after every layer, the last one included, a line of ``line_length`` spaces;
* totals use thousands separators and carry no byte sizes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["format_summary", "format_shape"]

_SEQUENTIAL_LINE_LENGTH = 65
_SEQUENTIAL_POSITIONS = (0.45, 0.85, 1.0)
_SEQUENTIAL_HEADER = ("Layer (type)", "Output Shape", "Param #")

_FUNCTIONAL_LINE_LENGTH = 98
_FUNCTIONAL_POSITIONS = (0.33, 0.55, 0.67, 1.0)
_FUNCTIONAL_HEADER = ("Layer (type)", "Output Shape", "Param #", "Connected to")

_LINE_BREAK_MARKERS = ("),", "},", "],", "',")


# --------------------------------------------------------------------------- #
# shapes
# --------------------------------------------------------------------------- #
def _is_dim(x: Any) -> bool:
    if x is None or isinstance(x, bool):
        return x is None
    if isinstance(x, int):
        return True
    # numpy / torch integer scalars
    return hasattr(x, "__index__") and not isinstance(x, (str, bytes))


def _dim(x: Any) -> int | None:
    return None if x is None else int(x.__index__())


def format_shape(shape: Any) -> str:
    """Render ``shape`` the way Keras 2 prints ``str(layer.output_shape)``.

    * a single shape (tuple, ``torch.Size``, or a list/tuple of ints/None) ->
      the Python tuple repr: ``(None, 10, 3)``, ``(8, 3)``, ``(None,)``, ``()``;
    * a list (or tuple) of shapes (multi-output layers) -> a list repr of
      tuples: ``[(None, 4), (None, 4), (None, 4)]``;
    * a mapping of shapes -> ``{'a': (None, 4)}``;
    * a string (``"multiple"``, ``"?"``) is returned unchanged.

    Integer-like dimensions (numpy / torch scalars) are converted to ``int`` so
    that they print as plain numbers.
    """
    if isinstance(shape, str):
        return shape
    if isinstance(shape, Mapping):
        inner = ", ".join(f"{k!r}: {format_shape(v)}" for k, v in shape.items())
        return "{" + inner + "}"
    if hasattr(shape, "as_list") and callable(shape.as_list):  # TensorShape-like
        shape = shape.as_list()
    if isinstance(shape, Sequence) or hasattr(shape, "__iter__"):
        items = list(shape)
        if all(_is_dim(d) for d in items):
            return repr(tuple(_dim(d) for d in items))
        return "[" + ", ".join(format_shape(s) for s in items) + "]"
    if _is_dim(shape):  # a bare int: treat as a 1-d shape
        return repr((_dim(shape),))
    return str(shape)


# --------------------------------------------------------------------------- #
# rows
# --------------------------------------------------------------------------- #
def _resolve_positions(line_length: int, positions: Sequence[float]) -> list[int]:
    positions = list(positions)
    if positions[-1] <= 1:
        return [int(line_length * p) for p in positions]
    return [int(p) for p in positions]


def _format_row(fields: Sequence[Any], positions: Sequence[int],
                nested_level: int = 0) -> list[str]:
    """One table row, possibly spread over several lines (Keras ``print_row``)."""
    left = [str(f) for f in fields]
    last_col = len(positions) - 1
    lines: list[str] = []
    while any(left):
        line = ""
        for col in range(len(left)):
            start = positions[col - 1] if col > 0 else 0
            end = positions[col]
            space = 0 if col == last_col else 2
            cutoff = end - start - space
            chunk = left[col][:cutoff]
            breaks = [chunk.find(m) + len(m) for m in _LINE_BREAK_MARKERS
                      if chunk.find(m) >= 0]
            if breaks:
                cutoff = min(breaks)
                chunk = chunk[:cutoff]
            if col == 0:
                line += "|" * nested_level + " "
            line += chunk
            line += " " * space
            left[col] = left[col][cutoff:]
            # pad to the start of the next column (never truncates)
            line += " " * (end - len(line) - nested_level)
        line += "|" * nested_level
        lines.append(line)
    return lines


# --------------------------------------------------------------------------- #
# whole summary
# --------------------------------------------------------------------------- #
def format_summary(model_name: str,
                   rows: Sequence[Sequence[Any]],
                   trainable_count: int,
                   non_trainable_count: int,
                   line_length: int | None = None,
                   positions: Sequence[float] | None = None,
                   sequential_like: bool = True,
                   show_trainable: bool = False) -> list[str]:
    """Lines of a tf.keras 2.12 ``model.summary()``.

    Args:
        model_name: printed as ``Model: "<model_name>"``.
        rows: one entry per layer: ``(name_and_class, output_shape_text,
            param_count)`` for the sequential layout, plus ``connected_to`` for
            ``sequential_like=False``, plus a trailing ``"Y"``/``"N"`` when
            ``show_trainable``. Every field is passed through ``str()``.
        trainable_count / non_trainable_count: totals (printed with commas).
        line_length: default 65 (sequential) / 98 (functional).
        positions: column right edges; fractions (last one ``<= 1``) are scaled
            by ``line_length`` and truncated with ``int()``, like Keras.
            Default ``[0.45, 0.85, 1.0]`` / ``[0.33, 0.55, 0.67, 1.0]``.
        sequential_like: choose the 3-column or the 4-column ("Connected to")
            layout.
        show_trainable: add an 11-character "Trainable" column (Keras 2.12
            ``show_trainable=True``).

    Returns:
        The list of lines (no trailing newlines); Keras calls ``print_fn`` once
        for each of them.
    """
    if sequential_like:
        line_length = line_length or _SEQUENTIAL_LINE_LENGTH
        positions = positions or _SEQUENTIAL_POSITIONS
        header = list(_SEQUENTIAL_HEADER)
    else:
        line_length = line_length or _FUNCTIONAL_LINE_LENGTH
        positions = positions or _FUNCTIONAL_POSITIONS
        header = list(_FUNCTIONAL_HEADER)
    abs_positions = _resolve_positions(line_length, positions)
    if show_trainable:
        line_length += 11
        abs_positions.append(line_length)
        header.append("Trainable")

    n_fields = len(header)
    lines = [f'Model: "{model_name}"', "_" * line_length]
    lines += _format_row(header, abs_positions)
    lines.append("=" * line_length)
    for row in rows:
        row = list(row)
        if len(row) != n_fields:
            raise ValueError(
                f"summary row {row!r} has {len(row)} fields, expected {n_fields} "
                f"({', '.join(header)})")
        lines += _format_row(row, abs_positions)
        lines.append(" " * line_length)
    lines.append("=" * line_length)
    lines.append(f"Total params: {trainable_count + non_trainable_count:,}")
    lines.append(f"Trainable params: {trainable_count:,}")
    lines.append(f"Non-trainable params: {non_trainable_count:,}")
    lines.append("_" * line_length)
    return lines
