"""The command line a newcomer meets: every option's help says what it means and its
default, `bench --quick` explains its table, a closed pipe ends quietly, explain shows
progress while it trains."""
import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnkit import cli
from rnnkit.bench import suite

ROOT = Path(__file__).resolve().parents[1]


def _subparsers():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parsers = dict(action.choices)
    parsers["bench"] = suite.build_parser()  # bench parses its own options
    return parsers


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_every_option_says_what_it_means_and_its_default(name):
    parser = _subparsers()[name]
    text = parser.format_help()
    assert "``" not in text, text
    assert parser.prog == f"rnnkit {name}"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"rnnkit {name} {action.dest}: no help text"
        shown = parser._get_formatter()._expand_help(action) if action.help else ""
        if action.option_strings and action.default not in (None, False, []):
            assert "default" in shown, f"rnnkit {name} {action.option_strings}: {shown!r}"


def test_bench_help_explains_the_workloads():
    text = suite.build_parser().format_help()
    for name in suite.WORKLOADS:
        assert f"  {name} " in text or f"  {name}  " in text
    assert "--quick" in text and "(B=64, T=200, D=128, H=128)" in text


def test_bench_quick_explains_its_table_and_hides_meaningless_columns(capsys):
    assert suite.main(["--quick", "--cells", "simple_rnn", "--repeats", "1",
                       "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "W1   (B=1, T=4, D=5, H=3): the seed's tiny case" in out
    assert "ratio: the median over rounds of rnnkit's time / torch's time" in out
    rows = {line.split()[0]: line for line in out.splitlines()
            if line.split()[:2] in (["W1", "simple_rnn"], ["W2", "simple_rnn"])}
    assert set(rows) == {"W1", "W2"}  # --quick: W1 and W2
    assert rows["W1"].split()[-3:] == ["-", "-", "-"]  # floor and peak: noise at this size
    assert rows["W2"].split()[-1] != "-" and "%" in rows["W2"]


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    from rnnkit.layers import LSTM, Dense
    from rnnkit.models import Sequential
    path = tmp_path / "m.keras"
    Sequential([LSTM(4, input_shape=(5, 3)), Dense(1)]).save(str(path))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(f"{sys.executable} -m rnnkit summary {path} | head -1", shell=True,
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.stdout.startswith("Model:"), done.stdout
    assert done.stderr == "", done.stderr  # no "[Errno 32] Broken pipe", no traceback


def test_explain_shows_progress_while_it_trains(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert cli.main(["explain", "--out", str(tmp_path), "--steps", "5", "--recall-steps", "4",
                     "--epochs", "4"]) == 0
    err = capsys.readouterr().err
    for label in ("SimpleRNN", "LSTM"):
        assert f"training {label}: epoch 4/4, loss" in err
        assert f"training {label}: epoch 1/4, loss" in err  # a line at each quarter in a log
