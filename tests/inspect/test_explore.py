"""The explorer page's data: every stored number decodes to what gates()/memory()/explain()
return, for every cell kind, Bidirectional and stacked layers, from recorded tf.keras 2.12
.h5 files; the size budget; the command line's data formats. (The page itself, in a
browser: test_explore_browser.py.)"""
import json
import os

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.cli import main as cli_main
from rnnkit.inspect import explore, gates, memory, trace
from rnnkit.inspect import explore_encode as enc
from rnnkit.inspect.explore_cli import load_data
from rnnkit.layers import GRU, LSTM, Dense, Embedding, SimpleRNN
from rnnkit.models import Sequential, load_model

HERE = os.path.dirname(__file__)
EXPLORE = os.path.join(HERE, "..", "fixtures", "keras2_explore")
MODELS = os.path.join(HERE, "..", "fixtures", "keras2", "models")


def decoded_detail(page, seq):
    """The page's stored tensors of one sequence, decoded as the page's script does."""
    raw = enc.inflate(page.data["detail"][str(seq)])
    out, at = [], 0
    for info in page.data["layers"]:
        per = {}
        for name in info["tensors"]:
            scale = info["detail_scale"][name]
            rows = page.steps + (1 if name in ("h", "c") else 0)
            size = rows * info["units"] * 2
            codes = enc.undelta(raw[at:at + size], "u2", (rows, info["units"]), time_axis=0)
            at += size
            values = np.asarray(scale["lo"]) + (codes.astype(np.float64) - 1) * np.asarray(
                scale["step"])
            per[name] = np.where(codes == 0, np.nan, values)
        out.append(per)
    assert at == len(raw)
    return out


def decoded_tier(page, layer):
    info = page.data["layers"][layer]
    codes = enc.unpack(page.data["tier"][layer], "u1",
                       (page.sequences, page.steps, info["units"]), time_axis=1)
    values = np.asarray(info["tier"]["lo"]) + (codes.astype(np.float64) - 1) * np.asarray(
        info["tier"]["step"])
    return np.where(codes == 0, np.nan, values)


def layer_traces(model, x):
    """gates() of every recurrent layer (each direction), fed what the model feeds it."""
    tr = trace(model, x)
    out = []
    for layer, row in zip([l for l in model.layers], tr.rows):
        if hasattr(layer, "forward_layer"):
            out += [gates(layer.forward_layer, row.input), gates(layer.backward_layer, row.input)]
        elif hasattr(layer, "cell"):
            out.append(gates(layer, row.input))
    return out


def check_page_against_gates(page, model, x):
    traces = layer_traces(model, x)
    assert len(traces) == len(page.data["layers"])
    tol_detail = page.data["detail_error"] * 1.01 + 1e-7
    tol_tier = page.data["tier_error"] * 1.01 + 1e-7
    for seq in page.detail:
        stored = decoded_detail(page, seq)
        for l, (t, info) in enumerate(zip(traces, page.data["layers"])):
            assert info["order"] == list(t.time_index)
            for name in info["tensors"]:
                want = t[name][seq].numpy().astype(np.float64)
                got = stored[l][name]
                if name in t.states:   # row 0: the state the first step started from
                    k = info["tensors"].index(name)
                    np.testing.assert_allclose(got[0], t.initial_states[k][seq].numpy(),
                                               atol=tol_detail)
                    got = got[1:]
                np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
                ok = ~np.isnan(want)
                np.testing.assert_allclose(got[ok], want[ok], atol=tol_detail, rtol=0)
    for l, t in enumerate(traces):
        np.testing.assert_allclose(decoded_tier(page, l), t.h.numpy(), atol=tol_tier, rtol=0)


@pytest.fixture(scope="module")
def brackets():
    model = load_model(os.path.join(EXPLORE, "brackets.h5"))
    ref = np.load(os.path.join(EXPLORE, "brackets.npz"))
    return model, ref


def test_bracket_fixture_loads_as_tf_keras_computed_it(brackets):
    model, ref = brackets
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], atol=2e-5)
    lstm, gru = layer_traces(model, ref["x"])[:2]
    np.testing.assert_allclose(lstm.h.numpy(), ref["lstm_h"], atol=2e-5)
    np.testing.assert_allclose(gru.h.numpy(), ref["gru_h"], atol=2e-5)
    # the planted unit: on (tanh(1) = 0.76) inside the brackets, off elsewhere
    inside = np.zeros(ref["x"].shape, dtype=bool)
    for s, a, b in ref["bracket_ranges"]:
        inside[s, a:b + 1] = True
    assert (lstm.h[..., 0].numpy()[inside] > 0.7).all()
    assert (np.abs(lstm.h[..., 0].numpy()[~inside]) < 0.05).all()


def test_page_holds_what_gates_memory_and_explain_return(brackets, tmp_path):
    model, ref = brackets
    path = tmp_path / "page.html"
    page = explore(model, ref["x"], path=path)
    assert path.read_text(encoding="utf-8") == page.html
    assert page.layers == ["lstm", "gru", "bidirectional · forward", "bidirectional · backward"]
    assert page.detail == list(range(12))
    assert [i["cell"] for i in page.data["layers"]] == ["LSTM", "GRU", "SimpleRNN", "SimpleRNN"]
    assert page.data["layers"][1]["reset_after"] is False
    assert page.data["layers"][3]["order"] == list(range(63, -1, -1))   # go_backwards
    check_page_against_gates(page, model, ref["x"])
    # memory: per sequence, with respect to the embedded vectors the LSTM reads
    curves = enc.unpack_floats(page.data["memory"]["curves"], (1, 12, 64))
    # by hand: the gradient of the output with respect to the embedded vectors, mask kept
    embedded = model.layers[0](torch.as_tensor(ref["x"]))
    e = embedded.detach().requires_grad_(True)
    h = e
    h._keras_mask = embedded._keras_mask
    for layer in model.layers[1:]:
        h = layer(h, training=False)
    (grad,) = torch.autograd.grad(h.sum(), e)
    np.testing.assert_allclose(curves[0], grad.norm(dim=-1).numpy(), rtol=1e-4, atol=1e-9)
    assert page.data["memory"]["outputs"] == ["all outputs"]
    lines = []
    model.summary(print_fn=lines.append, explain=True)
    assert page.data["formulas"] == lines
    # self-contained: no address the page could fetch
    for needle in ("http://", "https://", "src=", "href=", "@import", "url("):
        assert needle not in page.html.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.parametrize("name", ["bidir", "gru_stack", "lstm_dense"])
def test_recorded_keras_models(name):
    """Bidirectional LSTM over GRU, stacked GRUs (reset_after=True), LSTM: the .h5 files
    tf.keras 2.12 wrote, the inputs it was given."""
    model = load_model(os.path.join(MODELS, f"{name}.h5"))
    x = np.load(os.path.join(MODELS, f"{name}.npz"))["x"]
    page = explore(model, x)
    check_page_against_gates(page, model, x)
    outputs = np.asarray(page.data["outputs"])
    np.testing.assert_allclose(outputs, np.load(os.path.join(MODELS, f"{name}.npz"))["y"],
                               atol=2e-5)
    # several outputs: one memory curve of each, beside the one of all of them
    n_out = outputs.shape[1]
    assert page.data["memory"]["outputs"] == (["all outputs"] + [f"output {k}" for k in
                                                                  range(n_out)]
                                              if n_out > 1 else ["all outputs"])
    curves = enc.unpack_floats(page.data["memory"]["curves"], (-1,) + x.shape[:2])
    for k in range(1, n_out + 1 if n_out > 1 else 1):
        want = memory(model, x, output=k - 1).per_sequence
        np.testing.assert_allclose(curves[k], want, rtol=1e-4, atol=1e-9)


def test_stacked_simple_rnn_and_masks():
    rnnkit.utils.set_random_seed(3)
    model = Sequential([Embedding(20, 4, mask_zero=True, input_length=9),
                        SimpleRNN(5, return_sequences=True), SimpleRNN(3), Dense(2)])
    x = np.array([[0, 0, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9]])
    page = explore(model, x, labels=[list("..abcdefg"), list("hijklmnop")],
                   names=["short", "long"])
    check_page_against_gates(page, model, x)
    assert page.data["labels"][1][:3] == ["h", "i", "j"]
    assert page.data["names"] == ["short", "long"]
    assert [i["tensors"] for i in page.data["layers"]] == [["h", "pre_activation"]] * 2


def test_size_budget_100_sequences_200_steps_128_units(big_page_model_and_data):
    """The issue's size: 100 sequences of 200 steps, an LSTM of 128 units, under 5 MB; the
    hidden states of all of them, the gates of as many as fit."""
    model, x, page = big_page_model_and_data
    assert page.size < 5_000_000
    assert len(page.detail) >= 3
    assert page.detail == list(range(len(page.detail)))
    traces = layer_traces(model, x)
    np.testing.assert_allclose(decoded_tier(page, 0), traces[0].h.numpy(),
                               atol=page.data["tier_error"] * 1.01)
    last = page.detail[-1]
    stored = decoded_detail(page, last)[0]
    np.testing.assert_allclose(stored["c"][1:], traces[0]["c"][last].numpy(),
                               atol=page.data["detail_error"] * 1.01)
    # asking for particular sequences stores those first
    picked = explore(model, x[:10], detail=[7, 2], max_bytes=5_000_000)
    assert set(picked.detail) == {7, 2}


def test_quantize_and_pack_round_trip():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3, 50, 4)) * np.array([1.0, 10.0, 1e-3, 0.0])
    values[0, 5, 1] = np.nan
    for bits, dtype in ((8, "u1"), (16, "u2")):
        q = enc.quantize(values, bits)
        back = enc.unpack(enc.pack(q.codes, time_axis=1), dtype, q.codes.shape, time_axis=1)
        np.testing.assert_array_equal(back, q.codes)
        got = q.values()
        assert np.isnan(got[0, 5, 1]) and np.isnan(got).sum() == 1
        ok = ~np.isnan(values)
        err = np.abs(got - values)[ok]
        assert err.max() <= q.max_error * 1.0001 + 1e-12
        # a constant unit comes back exactly
        assert (got[..., 3] == 0).all()


def test_bad_input_messages():
    rnnkit.utils.set_random_seed(0)
    model = Sequential([LSTM(3, input_shape=(5, 2))])
    x = np.zeros((2, 5, 2), dtype=np.float32)
    with pytest.raises(TypeError, match="explore\\(\\) takes an rnnkit model"):
        explore("model.h5", x)
    with pytest.raises(ValueError, match="labels must give one label per time step"):
        explore(model, x, labels=[["a"] * 5, ["b"] * 4])
    with pytest.raises(ValueError, match="detail names sequences \\[5\\]"):
        explore(model, x, detail=[5])
    with pytest.raises(ValueError, match="names must name each of the 2 sequences"):
        explore(model, x, names=["one"])
    with pytest.raises(ValueError, match="has no SimpleRNN, LSTM or GRU layer"):
        explore(Sequential([Dense(2, input_shape=(5, 2))]), x)
    with pytest.raises(ValueError, match="output must be a non-negative unit index"):
        memory(model, x, output=-1)
    with pytest.raises(ValueError, match="output 7 is out of range"):
        memory(model, x, output=7)


# ------------------------------------------------------------------------ command line
def test_cli_csv_windows_as_the_model_expects(tmp_path, capsys):
    out = tmp_path / "series.html"
    code = cli_main(["explore", os.path.join(EXPLORE, "series.h5"), "--data",
                     os.path.join(EXPLORE, "series.csv"), "--column", "value",
                     "--max-sequences", "49", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "49 sequences × 12 steps" in capsys.readouterr().out
    ref = np.load(os.path.join(EXPLORE, "series.npz"))
    model = load_model(os.path.join(EXPLORE, "series.h5"))
    x, labels, names, _ = load_data(model, os.path.join(EXPLORE, "series.csv"), column="value",
                                    limit=49)
    np.testing.assert_array_equal(x, ref["x"])
    assert names[0] == "rows 0\u201311" and labels is None
    html = out.read_text(encoding="utf-8")
    data = json.loads(html.split('id="explorer-data">')[1].split("</script>")[0]
                      .replace("<\\/", "</"))
    np.testing.assert_allclose(np.asarray(data["outputs"]), ref["y"], atol=2e-5)
    assert data["layers"][0]["cell"] == "GRU" and data["layers"][0]["reset_after"] is True


def test_cli_text_with_a_tokenizer_labels_the_time_axis(tmp_path, capsys):
    out = tmp_path / "text.html"
    code = cli_main(["explore", os.path.join(EXPLORE, "brackets.h5"), "--data",
                     os.path.join(EXPLORE, "brackets.txt"), "--word-index",
                     os.path.join(EXPLORE, "brackets_tokenizer.json"), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    model = load_model(os.path.join(EXPLORE, "brackets.h5"))
    x, labels, names, _ = load_data(model, os.path.join(EXPLORE, "brackets.txt"),
                                    word_index=os.path.join(EXPLORE, "brackets_tokenizer.json"))
    ref = np.load(os.path.join(EXPLORE, "brackets.npz"))
    np.testing.assert_array_equal(x, ref["x"])       # as tf.keras's tokenizer and padding
    with open(os.path.join(EXPLORE, "brackets.txt"), encoding="utf-8") as f:
        first = f.readline().rstrip("\n")
    assert "".join(labels[0]) == first.lower()
    assert names[0] == "line 1"
    # a plain {word: id} index works too
    index = json.loads(json.loads(open(os.path.join(EXPLORE, "brackets_tokenizer.json"))
                                  .read())["config"]["word_index"])
    plain = tmp_path / "index.json"
    plain.write_text(json.dumps(index))
    x2, labels2, _, _ = load_data(model, os.path.join(EXPLORE, "brackets.txt"),
                                  word_index=str(plain), char_level=True)
    np.testing.assert_array_equal(x2, x)
    assert labels2 == labels


def test_cli_npz_and_bad_data(tmp_path, capsys):
    h5 = os.path.join(MODELS, "lstm_dense.h5")
    out = tmp_path / "p.html"
    assert cli_main(["explore", h5, "--data", os.path.join(MODELS, "lstm_dense.npz"),
                     "--out", str(out)]) == 0
    assert out.exists()
    capsys.readouterr()
    cases = [(["--data", os.path.join(MODELS, "lstm_dense.npz"), "--key", "nope"],
              "holds arrays"),
             (["--data", os.path.join(EXPLORE, "series.csv"), "--column", "nope"],
              "--column nope"),
             (["--data", os.path.join(EXPLORE, "series.csv"), "--column", "value"],
              "takes 4 features per step"),
             (["--data", os.path.join(EXPLORE, "record.py")], "expected a .csv, .npz"),
             (["--data", os.path.join(MODELS, "lstm_dense.npz"), "--detail", "a,b"],
              "--detail takes sequence numbers")]
    for extra, message in cases:
        assert cli_main(["explore", h5, "--out", str(tmp_path / "x.html")] + extra) == 2
        assert message in capsys.readouterr().err


def test_gates_records_the_initial_state():
    layer = LSTM(3, return_sequences=True)
    x = torch.randn(2, 4, 5)
    h0, c0 = torch.randn(2, 3), torch.randn(2, 3)
    t = gates(layer, x, initial_state=[h0, c0])
    torch.testing.assert_close(t.initial_states[0], h0)
    torch.testing.assert_close(t.initial_states[1], c0)
    torch.testing.assert_close(t["c"][:, 0], t["f"][:, 0] * c0 + t["i"][:, 0] * t["c_tilde"][:, 0])
    assert (gates(GRU(2), x).initial_states[0] == 0).all()


@pytest.mark.parametrize("name", ["k3_embed_bigru", "k3_stacked_simplernn"])
def test_keras3_archives_from_the_command_line(name, tmp_path, capsys):
    """A Keras 3 .keras archive (an Embedding under a bidirectional GRU; stacked
    SimpleRNNs) through `rnnkit explore` with its recorded input as .npz."""
    folder = os.path.join(HERE, "..", "fixtures", "keras3")
    out = tmp_path / "k3.html"
    assert cli_main(["explore", os.path.join(folder, f"{name}.keras"), "--data",
                     os.path.join(folder, f"{name}.npz"), "--out", str(out)]) == 0, \
        capsys.readouterr().err
    model = load_model(os.path.join(folder, f"{name}.keras"))
    x = np.load(os.path.join(folder, f"{name}.npz"))["x"]
    html = out.read_text(encoding="utf-8")
    data = json.loads(html.split('id="explorer-data">')[1].split("</script>")[0]
                      .replace("<\\/", "</"))
    traces = layer_traces(model, x)
    assert len(data["layers"]) == len(traces)
    for info, t in zip(data["layers"], traces):
        codes = enc.unpack(data["tier"][data["layers"].index(info)], "u1",
                           (len(x), x.shape[1], info["units"]), time_axis=1)
        values = np.asarray(info["tier"]["lo"]) + (codes - 1.0) * np.asarray(
            info["tier"]["step"])
        np.testing.assert_allclose(values, t.h.numpy(), atol=data["tier_error"] * 1.01)
