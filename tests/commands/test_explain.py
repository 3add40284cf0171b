"""``rnnkit explain``: runs on the seed example in a short setting and writes the PNGs."""
import pytest

from rnnkit import cli

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # headless, whatever the environment says
from matplotlib.image import imread  # noqa: E402

from rnnkit.commands.explain import FILES  # noqa: E402


def test_explain_command_writes_every_png(tmp_path, capsys):
    out = tmp_path / "aids"
    code = cli.main(["explain", "--out", str(out), "--steps", "12", "--recall-steps", "5",
                     "--epochs", "2"])
    assert code == 0
    text = capsys.readouterr().out
    assert "simple_rnn (SimpleRNN): 3 × (10 + 3 + 1) = 42" in text
    assert "in:  (batch=1, time=4, features=5)" in text
    assert "the last hidden state equals last_states: True" in text
    assert "SimpleRNN(8)  influence shrinks" in text
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    for name in FILES:
        pixels = imread(out / name)
        assert pixels.shape[0] > 150 and pixels[..., :3].std() > 0.05, name


def test_explain_command_rejects_bad_lengths(tmp_path, capsys):
    assert cli.main(["explain", "--out", str(tmp_path), "--steps", "2"]) == 2
    assert "rnnkit explain: --steps must be at least 3, got 2." in capsys.readouterr().err
