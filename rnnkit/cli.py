"""The ``rnnkit`` command line: ``rnnkit demo``, ``rnnkit explain``."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnnkit", description="Keras 2 style RNNs on PyTorch.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the seed notebook's cells and print what they print")
    demo.add_argument("--seed", type=int, default=0, help="random seed for the weights (default 0)")
    from .inspect import report as explain_command
    explain_command.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from . import demo as demo_module
        demo_module.run(seed=args.seed)
    elif args.command == "explain":
        return explain_command.main(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
