"""Plain-text model summaries in the tf.keras 2.7 - 2.12 layout.

:func:`format_summary` is a pure formatter: it knows nothing about layers or models (the
helpers below it, :func:`layer_row` and :func:`nested_rows`, read layers by duck typing).
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

``expand_nested=True`` (rows given as :class:`Nested`): a nested model's own rows follow
its row inside a box, one ``|`` per nesting level on each side; the box opens with a line
of ``¯`` between ``level + 1`` bars and closes with one between ``level`` bars. Keras prints
no blank line between a nested model's last row and the closing line, nor after the
closing line (its ``is_nested_last`` flag stays set), so an expanded model is followed
directly by the next row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Callable, NamedTuple

__all__ = ["format_summary", "format_shape", "Nested", "nested_rows", "layer_range_bounds",
           "layer_row", "summary_class_name"]

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
        if isinstance(shape, tuple):  # a layer that returned a tuple of tensors
            return "(" + ", ".join(format_shape(s) for s in items) + \
                ("," if len(items) == 1 else "") + ")"
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
# nested models and layer ranges
# --------------------------------------------------------------------------- #
class Nested(NamedTuple):
    """A row whose layer is a model expanded below it (``expand_nested=True``): ``fields``
    is the row itself, ``rows`` the nested model's rows (fields or ``Nested`` again)."""

    fields: Sequence[Any]
    rows: Sequence[Any]


def nested_rows(container: Any, layers: Sequence[Any],
                row_of: Callable[[Any, Any], Sequence[Any]], expand_nested: bool) -> list:
    """The rows of ``layers`` (the layers of ``container``): ``row_of(container, layer)``
    for each, and with ``expand_nested`` a layer that has ``layers`` of its own (a model;
    Keras 2.12 tests ``hasattr(layer, "layers")``, so wrappers stay closed) becomes a
    :class:`Nested` row holding its layers' rows, recursively."""
    rows = []
    for layer in layers:
        fields = row_of(container, layer)
        children = getattr(layer, "layers", None) if expand_nested else None
        if children:
            fields = Nested(fields, nested_rows(layer, children, row_of, expand_nested))
        rows.append(fields)
    return rows


def layer_row(container: Any, layer: Any, show_trainable: bool = False,
              connections: Sequence[str] | None = None) -> tuple:
    """The fields of ``layer``'s row, ``layer`` being one of ``container``'s layers: name and
    class, output shape (a functional container knows it from its own nodes, else the
    layer's ``output_shape``, ``"multiple"`` when it has none), parameter count
    (``"0 (unused)"`` for a layer never built), then ``connections`` (functional layout) and
    ``"Y"``/``"N"`` (``show_trainable``) when asked for."""
    if getattr(container, "_is_graph_network", False) and hasattr(container,
                                                                  "_output_shape_text"):
        shape = container._output_shape_text(layer)
    else:
        try:
            shape = format_shape(layer.output_shape)
        except AttributeError:
            shape = "multiple"
    params = layer.count_params() if layer.built else "0 (unused)"
    row = (f"{layer.name} ({summary_class_name(layer)})", shape, str(params))
    if connections is not None:
        row += (str(list(connections)),)
    if show_trainable:
        row += ("Y" if layer.trainable else "N",)
    return row


def summary_class_name(layer: Any) -> str:
    """The class a summary row names: a functional ``Model`` prints as ``Functional``, the
    class tf.keras 2 builds for ``Model(inputs, outputs)``; any other layer its own class."""
    cls = type(layer)
    if cls.__name__ == "Model" and getattr(layer, "_is_graph_network", False):
        return "Functional"
    return cls.__name__


def layer_range_bounds(names: Sequence[str], layer_range: Any) -> tuple[int, int]:
    """``[start, stop)`` of the rows ``summary(layer_range=(first, last))`` prints, with
    tf.keras 2.12's rules and messages (``get_layer_index_bound_by_layer_name``): ``first``
    and ``last`` are ``re.match`` patterns on the top-level layer names; the range runs from
    the first layer matching ``first`` to the last one matching ``last`` (swapped when they
    come in the other order); nested models' layers are not searched."""
    if layer_range is None:
        return 0, len(names)
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [k for k, name in enumerate(names) if re.match(layer_range[0], name)]
    upper = [k for k, name in enumerate(names) if re.match(layer_range[1], name)]
    if not lower or not upper:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def _box_line(char: str, level: int, line_length: int) -> str:
    """A line of ``char`` between ``level`` bars on each side, ``line_length`` wide."""
    return "|" * level + char * (line_length - 2 * level) + "|" * level


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
            ``show_trainable``. Every field is passed through ``str()``. A
            :class:`Nested` entry is a model expanded in a box (``expand_nested``).
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

    def emit(row: Any, level: int, last: bool) -> None:
        # Keras's print_layer: the row, the box of an expanded model, then a blank line
        # unless the row is the last of its box or an expanded model (see the docstring).
        children = row.rows if isinstance(row, Nested) else ()
        fields = list(row.fields if isinstance(row, Nested) else row)
        if len(fields) != n_fields:
            raise ValueError(
                f"summary row {fields!r} has {len(fields)} fields, expected {n_fields} "
                f"({', '.join(header)})")
        lines.extend(_format_row(fields, abs_positions, level))
        if children:
            lines.append(_box_line("¯", level + 1, line_length))
            for k, child in enumerate(children):
                emit(child, level + 1, k == len(children) - 1)
            lines.append(_box_line("¯", level, line_length))
        elif not last:
            lines.append(_box_line(" ", level, line_length))

    for row in rows:
        emit(row, 0, False)
    lines.append("=" * line_length)
    lines.append(f"Total params: {trainable_count + non_trainable_count:,}")
    lines.append(f"Trainable params: {trainable_count:,}")
    lines.append(f"Non-trainable params: {non_trainable_count:,}")
    lines.append("_" * line_length)
    return lines
