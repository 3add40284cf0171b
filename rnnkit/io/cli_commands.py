"""``rnnkit summary FILE`` and ``rnnkit convert IN OUT`` (no TensorFlow needed).

``summary`` prints the tf.keras 2 summary of a ``.keras`` or full-model ``.h5`` file; for a
weights-only file (which has no architecture) it lists the stored layers, arrays and shapes.
``convert`` loads a model file and saves it in the format the output name asks for
(``.keras``, ``.h5``, ``.weights.h5``); ``--like MODEL`` supplies the architecture when the
input holds weights only.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from .errors import FileFormatError


def add_parsers(commands: Any) -> None:
    summary = commands.add_parser("summary", help="print the Keras summary of a .keras/.h5 file",
                                  description="Print the Keras summary of a .keras/.h5 file.")
    summary.add_argument("file", help="a .keras archive or a tf.keras .h5 file")
    summary.add_argument("--line-length", type=int, default=None, help="table width (default: Keras's, 65 for a Sequential model, 98 for a functional one)")
    convert = commands.add_parser("convert", help="convert between .keras, .h5 and .weights.h5",
                                  description="Convert between .keras, .h5 and .weights.h5.")
    convert.add_argument("input", help="a .keras or .h5 model file (or weights with --like)")
    convert.add_argument("output", help="output: .keras (Keras 3), .h5 (tf.keras 2), "
                                        ".weights.h5 (Keras 3 weights)")
    convert.add_argument("--like", default=None,
                         help="a model file whose architecture a weights-only input fills")


def run(args: argparse.Namespace, print_fn: Callable[[str], Any] = print) -> int:
    try:
        if args.command == "summary":
            summarize_file(args.file, print_fn=print_fn, line_length=args.line_length)
        else:
            convert_file(args.input, args.output, like=args.like)
            print_fn(f"wrote {args.output}")
    except BrokenPipeError:
        raise  # a closed pipe (`| head`) is not a file error: the CLI stops quietly
    except (FileFormatError, ValueError, OSError) as error:
        print(f"rnnkit {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


def summarize_file(path: Any, print_fn: Callable[[str], Any] = print,
                   line_length: int | None = None) -> None:
    from . import safe_read
    from .saving import load_model

    label = repr(str(path))
    if safe_read.file_kind(path) == "hdf5":
        lines: list[str] = []
        with safe_read.library_errors(label), safe_read.open_h5(path, label) as handle:
            if safe_read.read_attribute(handle, "model_config") is None:
                _print_weights_table(handle, label, lines.append)
        if lines:  # printed once the file is closed (and its errors handled)
            for line in lines:
                print_fn(line)
            return
    model = load_model(path)
    model.summary(line_length=line_length, print_fn=print_fn)


def _print_weights_table(handle: Any, label: str, print_fn: Callable[[str], Any]) -> None:
    """A weights-only file: what it stores, layer by layer."""
    from . import keras_h5, safe_read

    print_fn(f"{label}: weights only (no architecture); stored arrays:")
    total = 0
    root = keras_h5.weights_root(handle)
    if keras_h5.is_legacy_weights_root(root):
        for name, arrays in keras_h5.read_saved_layers(root, label):
            count = sum(a.size for a in arrays)
            total += count
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays) or "no weights"
            print_fn(f"  {name}: {shapes}  ({count:,} params)")
    else:
        def visit(name: str, obj: Any) -> None:
            nonlocal total
            if not safe_read.is_group(obj):
                array = safe_read.read_array(obj, name)
                total += array.size
                print_fn(f"  {name}: {tuple(array.shape)}")
        handle.visititems(visit)
    print_fn(f"Total params: {total:,}")


def convert_file(source: Any, target: Any, like: Any = None) -> None:
    from .saving import load_model

    if like is not None:
        model = load_model(like)
        model.load_weights(source)
    else:
        model = load_model(source)
    if str(target).endswith(".weights.h5"):
        model.save_weights(target)
    else:
        model.save(target)
