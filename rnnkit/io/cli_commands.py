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

import numpy as np

from .errors import FileFormatError


def add_parsers(commands: Any) -> None:
    summary = commands.add_parser(
        "summary", help="print the Keras summary of a .keras/.h5/.npz file",
        description="Print the Keras summary of a .keras/.h5 file or an rnnkit .npz file.")
    summary.add_argument("file", help="a .keras archive, a tf.keras .h5 file or an rnnkit .npz")
    summary.add_argument("--line-length", type=int, default=None,
                         help="table width (default: Keras's, 65 for a Sequential model, "
                              "98 for a functional one)")
    convert = commands.add_parser(
        "convert", help="convert between .keras, .h5, .weights.h5 and rnnkit .npz",
        description="Convert between .keras, .h5, .weights.h5 and rnnkit's .npz "
                    "(e.g. rnnkit train's model.weights.npz into a .keras file).")
    convert.add_argument("input", help="a .keras, .h5 or rnnkit .npz model file "
                                       "(or weights with --like)")
    convert.add_argument("output", help="output: .keras (Keras 3), .h5 (tf.keras 2), "
                                        ".weights.h5 (Keras 3 weights), .npz (rnnkit)")
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
    kind = "npz" if str(path).endswith(".safetensors") else safe_read.model_file_kind(path, label)
    if kind == "npz":
        from . import native
        lines = []
        if native.summarize(path, lines.append):
            for line in lines:
                print_fn(line)
            return
    if kind == "hdf5":
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
    """A weights-only file: what it stores, layer by layer (shapes only: nothing is read)."""
    from . import keras_h5, safe_read

    print_fn(f"{label}: weights only (no architecture); stored arrays:")
    total = 0
    root = keras_h5.weights_root(handle)
    if keras_h5.is_legacy_weights_root(root):
        for layer in keras_h5.saved_layers(root, label):
            shapes = keras_h5.layer_shapes(layer)
            count = sum(int(np.prod(s, dtype=np.int64)) for s in shapes)
            total += count
            text = ", ".join(str(s) for s in shapes) or "no weights"
            print_fn(f"  {layer.name}: {text}  ({count:,} params)")
    else:
        from h5py import h5o

        budget = [100_000]  # objects listed at most: a file cannot make the walk endless
        seen: set[int] = set()  # hard links can make cycles: each group is listed once

        def visit(group: Any, prefix: str) -> None:
            nonlocal total
            address = h5o.get_info(group.id).addr
            if address in seen or prefix.count("/") > 64:
                return
            seen.add(address)
            for name in sorted(safe_read.child_names(group, repr(group.name))):
                budget[0] -= 1
                if budget[0] < 0:
                    raise FileFormatError(f"{label}: more than 100000 objects (corrupt or "
                                          "hostile).")
                child = safe_read.get_child(group, name, f"{prefix}{name}")
                if safe_read.is_group(child):
                    visit(child, f"{prefix}{name}/")
                else:
                    shape = safe_read.dataset_shape(child, f"{prefix}{name}")
                    total += int(np.prod(shape, dtype=np.int64))
                    print_fn(f"  {prefix}{name}: {shape}")
        visit(handle, "")
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
