"""Help text for the ``rnnkit`` subcommands: every option says what it means and its default.

Standard library only, so any layer's subcommand (``train``, ``explain``, ``summary``) may
use it without importing the command line itself.
"""
from __future__ import annotations

import argparse


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless the help already says it, or the
    default is nothing to show (None, False: an unset option or an off flag)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        if not action.option_strings:
            return text
        return text + " (default: %(default)s)"
