"""``plot_model`` and ``model_to_dot`` (``keras.utils.plot_model``, ``keras.utils.vis_utils``).

tf.keras 2.12 draws the layer graph with pydot and Graphviz and, without them, raises
``ImportError`` with the message below (in a notebook it prints it and returns). rnnkit
writes the Graphviz DOT text itself (no pydot) and renders it with Graphviz's ``dot``
program when that is on the PATH; ``to_file="model.dot"`` writes the DOT text and needs no
Graphviz. Without ``dot``, other formats raise tf.keras 2.12's ``ImportError``.
``model_to_dot`` returns the DOT text (a string; tf.keras 2.12 returns a ``pydot.Dot``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

__all__ = ["plot_model", "model_to_dot"]

_NO_GRAPHVIZ = ("You must install pydot (`pip install pydot`) and install graphviz (see "
                "instructions at https://graphviz.gitlab.io/download/) for plot_model to work.")


def _shape_text(shape: Any) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return str(tuple(shape)).replace("None", "?") if shape is not None else "?"


def _label(layer: Any, show_shapes: bool, show_dtype: bool, show_layer_names: bool,
           show_layer_activations: bool, show_trainable: bool) -> str:
    kind = type(layer).__name__
    text = f"{layer.name}|{kind}" if show_layer_names else kind
    if show_layer_activations and hasattr(layer, "activation"):
        activation = getattr(layer.activation, "__name__", str(layer.activation))
        text += f"|{activation}"
    if show_dtype:
        text += f"|{getattr(layer, 'dtype', '?')}"
    if show_shapes:
        inputs = getattr(layer, "_build_input_shape", None)
        outputs = getattr(layer, "_output_shape", None)
        text += f"|{{input:|output:}}|{{{_shape_text(inputs)}|{_shape_text(outputs)}}}"
    if show_trainable:
        text += f"|Trainable: {'Y' if getattr(layer, 'trainable', True) else 'N'}"
    return "{" + text.replace('"', '\\"') + "}"


def _edges(model: Any, layers: list) -> list[tuple[int, int]]:
    """Pairs of layer indices: from each node's input layers to its layer (a functional
    model), or one after the other (a Sequential)."""
    ids = {id(layer): k for k, layer in enumerate(layers)}
    network = model.__dict__.get("_network_nodes")
    if network is None:
        return [(k, k + 1) for k in range(len(layers) - 1)]
    pairs = []
    for layer in layers:
        for node in layer.__dict__.get("_inbound_nodes", ()):
            if id(node) not in network:
                continue
            for tensor in node.keras_inputs:
                parent = tensor._keras_history.layer
                if id(parent) in ids:
                    pairs.append((ids[id(parent)], ids[id(layer)]))
    return pairs


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False,
                 dpi: int = 96, subgraph: bool = False, layer_range: Any = None,
                 show_layer_activations: bool = False, show_trainable: bool = False) -> str:
    """The model's layer graph as Graphviz DOT text."""
    layers = list(model.layers)
    input_layer = model.__dict__.get("_input_layer")
    tensors = model.__dict__.get("_graph_tensors")
    if input_layer is None and tensors:  # a Sequential's InputLayer (<first>_input)
        input_layer = tensors[0]._keras_history.layer
    if input_layer is not None and input_layer not in layers:
        layers = [input_layer] + layers
    lines = [f"digraph G {{", f'  graph [rankdir={rankdir}, dpi={int(dpi)}];',
             "  node [shape=record];"]
    for k, layer in enumerate(layers):
        label = _label(layer, show_shapes, show_dtype, show_layer_names,
                       show_layer_activations, show_trainable)
        lines.append(f'  n{k} [label="{label}"];')
    for a, b in _edges(model, layers):
        lines.append(f"  n{a} -> n{b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def plot_model(model: Any, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 96, layer_range: Any = None,
               show_layer_activations: bool = False, show_trainable: bool = False) -> Any:
    """Draw the model to ``to_file`` (see the module docstring for what it needs)."""
    dot_text = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                            show_layer_names=show_layer_names, rankdir=rankdir,
                            expand_nested=expand_nested, dpi=dpi, layer_range=layer_range,
                            show_layer_activations=show_layer_activations,
                            show_trainable=show_trainable)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    if extension in ("dot", "gv"):
        with open(to_file, "w", encoding="utf-8") as handle:
            handle.write(dot_text)
        return None
    dot = shutil.which("dot")
    if dot is None:
        if "IPython.core.magics.namespace" in sys.modules:
            print(_NO_GRAPHVIZ)  # tf.keras 2.12: a notebook gets the message, not an error
            return None
        raise ImportError(_NO_GRAPHVIZ)
    subprocess.run([dot, f"-T{extension}", "-o", to_file], input=dot_text.encode("utf-8"),
                   check=True, capture_output=True)
    if extension != "pdf":
        try:  # tf.keras 2.12 returns an IPython Image in a notebook
            from IPython import display
            return display.Image(filename=to_file)
        except ImportError:
            pass
    return None
