"""The ``rnnkit`` command line: ``rnnkit demo``, ``rnnkit explain``, ``rnnkit explore``."""
from __future__ import annotations

import argparse
import os
import sys


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand but ``bench`` (which parses its own options)."""
    parser = argparse.ArgumentParser(prog="rnnkit", description="Keras 2 style RNNs on PyTorch.")
    parser.add_argument("--version", action="version", version=_version_line())
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("bench", help="time rnnkit against torch (and Keras): rnnkit bench --help")
    demo = commands.add_parser("demo", help="run the seed notebook's cells and print what they print",
                               description="Run the seed notebook's cells with rnnkit in place "
                                           "of tf.keras and print what they print.")
    demo.add_argument("--seed", type=int, default=0, help="random seed for the weights (default 0)")
    from .commands import explain as explain_command
    explain_command.add_parser(commands)
    from .inspect import explore_cli
    explore_cli.add_parser(commands)
    from .commands import train as train_command
    train_command.add_parser(commands)
    from .io import cli_commands as file_commands
    file_commands.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader closed the pipe (`rnnkit summary m.keras | head`): stop quietly, as a
        # Unix tool stopped by SIGPIPE does, and keep Python from complaining at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a real file (captured)
            pass
        return 141


def _main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # the benchmark suite has its own options
        from .bench import main as bench_main
        return bench_main(argv[1:])
    parser = build_parser()
    from .commands import explain as explain_command
    from .commands import train as train_command
    from .inspect import explore_cli
    from .io import cli_commands as file_commands
    args = parser.parse_args(argv)
    if args.command == "demo":
        from . import demo as demo_module
        demo_module.run(seed=args.seed)
    elif args.command == "explain":
        return explain_command.main(args)
    elif args.command == "explore":
        return explore_cli.main(args)
    elif args.command == "train":
        train_command.run(args)
    elif args.command in ("summary", "convert"):
        return file_commands.run(args)
    return 0


def _version_line() -> str:
    import platform

    import torch

    from . import __version__
    return f"rnnkit {__version__} (torch {torch.__version__}, Python {platform.python_version()})"


if __name__ == "__main__":
    sys.exit(main())
