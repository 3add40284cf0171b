"""rnnkit's import layering, written down once, and the check that enforces it.

Every module of the package belongs to one layer; a module may import modules of its
own layer and of the layers below it, never above, inside functions too. From the
bottom up (docs/architecture.md):

    basics -> kernels -> layers -> data helpers -> training -> io (and ONNX export)
           -> inspect -> models -> the command line, bench, demo (and ``rnnkit/__init__``,
           the public API)

Run it on its own with ``python tests/import_rules.py [ROOT]``; ``tests/test_import_rules.py``
runs it in the suite. It reads the source with ``ast`` and imports nothing.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

# The layers, bottom first. A module belongs to the layer of the longest prefix that
# names it (a package or a module); ``rnnkit`` itself (the public API) is the top. A new
# module outside every prefix is reported: give it a layer here.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("basics", ("rnnkit.activations", "rnnkit.initializers", "rnnkit.backend",
                "rnnkit.regularizers", "rnnkit.constraints", "rnnkit.eager", "rnnkit.backend_ops",
                "rnnkit.backend_rnn",
                "rnnkit._keras_objects", "rnnkit._files", "rnnkit.keras_weight", "rnnkit.mixed_precision")),
    ("kernels", ("rnnkit.kernels",)),
    ("layers", ("rnnkit.layers",)),
    ("data helpers", ("rnnkit.utils", "rnnkit.preprocessing", "rnnkit.datasets")),
    ("training", ("rnnkit.training", "rnnkit.losses", "rnnkit.metrics",
                  "rnnkit.optimizers", "rnnkit.callbacks")),
    # ONNX export is a file format too: the models' ``export`` method calls it.
    ("io", ("rnnkit.io", "rnnkit.export")),
    ("inspect", ("rnnkit.inspect",)),
    ("models", ("rnnkit.models",)),
    ("command line", ("rnnkit.cli", "rnnkit.commands", "rnnkit.bench", "rnnkit.demo",
                      "rnnkit.__main__", "rnnkit")),
)

# Upward imports that stay for now, each with its reason. Keep this list short.
ALLOWED: dict[tuple[str, str], str] = {}


def layer_of(module: str) -> int | None:
    """Index into LAYERS of ``module`` (a dotted name), or None outside rnnkit."""
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            # "rnnkit" names the package's own __init__ only, not everything in it
            inside = module.startswith(prefix + ".") and prefix != "rnnkit"
            if (module == prefix or inside) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool):
    """``(line, imported dotted name)`` for every import in ``tree``, functions included."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[:-(node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base == "rnnkit" or (node.level and not node.module):
                # ``from rnnkit import layers`` / ``from . import x``: the names may be modules
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}"
            else:
                yield node.lineno, base


def violations(root: Path) -> list[str]:
    """``file:line: message`` for every import of ``root/rnnkit`` that climbs a layer."""
    found = []
    for path in sorted((root / "rnnkit").rglob("*.py")):
        module = module_name(path, root)
        own = layer_of(module)
        if own is None:
            found.append(f"{path.relative_to(root)}:1: module {module} has no layer in "
                         "tests/import_rules.py LAYERS")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target in imported_modules(tree, module, path.name == "__init__.py"):
            other = layer_of(target)
            if other is None or other <= own:
                continue
            if (module, target) in ALLOWED:
                continue
            found.append(f"{path.relative_to(root)}:{line}: {module} ({LAYERS[own][0]}) "
                         f"imports {target} ({LAYERS[other][0]}), a higher layer")
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    found = violations(root)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
