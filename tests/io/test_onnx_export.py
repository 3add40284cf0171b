"""rnnkit.export.onnx: onnxruntime computes what model.predict computes."""
import warnings
from pathlib import Path

import numpy as np
import pytest

from rnnkit import backend, export
from rnnkit.layers import GRU, LSTM, Bidirectional, Dense, Embedding, Masking, SimpleRNN
from rnnkit.models import Sequential

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

RNG = np.random.default_rng(11)


def _float_input(batch, steps, features, masked=False):
    x = RNG.normal(size=(batch, steps, features)).astype("float32")
    if masked:  # right padding, left padding and a hole in the middle
        x[0, -3:] = 0.0
        x[1, :2] = 0.0
        x[2, 3] = 0.0
    return x


CASES = {
    "lstm": lambda: Sequential([LSTM(5, input_shape=(6, 3)), Dense(2)]),
    "gru": lambda: Sequential([GRU(4, return_sequences=True, input_shape=(6, 3)),
                               GRU(3, reset_after=False)]),
    "simple_rnn": lambda: Sequential([SimpleRNN(4, activation="relu", input_shape=(6, 3)), Dense(1)]),
    "bidirectional": lambda: Sequential([Bidirectional(LSTM(3, return_sequences=True),
                                                       input_shape=(6, 3)),
                                         Bidirectional(GRU(2), merge_mode="sum")]),
    "masked": lambda: Sequential([Masking(0.0, input_shape=(6, 3)),
                                  LSTM(4, return_sequences=True), GRU(3, go_backwards=True)]),
}


def _randomise(model):
    for layer in model.layers:
        layer.set_weights([RNG.normal(scale=0.5, size=w.shape) for w in layer.get_weights()])


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_export_matches_predict(tmp_path, name):
    backend.clear_session()
    model = CASES[name]()
    _randomise(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's tracer warnings about Python branches
        export.onnx(model, tmp_path / "m.onnx")
    for batch in (1, 5):  # the batch axis is dynamic
        x = _float_input(batch if batch > 2 else 3, 6, 3, masked=name == "masked")[:batch]
        np.testing.assert_allclose(_run(tmp_path / "m.onnx", x), model.predict(x, verbose=0),
                                   atol=1e-5)


def test_onnx_export_of_an_embedding_with_mask_zero(tmp_path):
    backend.clear_session()
    model = Sequential([Embedding(10, 3, mask_zero=True, input_length=7), LSTM(4), Dense(2)])
    _randomise(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export.onnx(model, tmp_path / "m.onnx")
    ids = RNG.integers(1, 10, size=(4, 7))
    ids[0, 4:] = 0
    ids[1, :3] = 0
    ids[2, 2] = 0
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", ids), model.predict(ids, verbose=0),
                               atol=1e-5)


def test_unsupported_exports_are_refused_clearly(tmp_path):
    backend.clear_session()
    stateful = Sequential([LSTM(2, stateful=True, batch_input_shape=(2, 4, 3))])
    with pytest.raises(ValueError, match=r"ONNX export of stateful layers is not supported \(lstm"):
        export.onnx(stateful, tmp_path / "s.onnx")
    open_length = Sequential([LSTM(2, input_shape=(None, 3))])
    with pytest.raises(ValueError, match="pass sequence_length=..."):
        export.onnx(open_length, tmp_path / "o.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export.onnx(open_length, tmp_path / "o.onnx", sequence_length=5)
    x = _float_input(2, 5, 3)
    np.testing.assert_allclose(_run(tmp_path / "o.onnx", x), open_length.predict(x, verbose=0), atol=1e-5)
    assert not Path(tmp_path / "s.onnx").exists()


def test_model_export_method(tmp_path):
    backend.clear_session()
    model = CASES["gru"]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.export(tmp_path / "m.onnx", format="onnx")
    x = _float_input(2, 6, 3)
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", x), model.predict(x, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match=r"Unrecognized format='tf_saved_model': rnnkit exports 'onnx'"):
        model.export(tmp_path / "m", format="tf_saved_model")


def test_export_does_not_alarm_with_tracer_warnings(tmp_path):
    """The tracer warns at each shape check (fixed by design in the graph): not shown."""
    import torch
    model = CASES["lstm"]()
    with warnings.catch_warnings():
        warnings.simplefilter("error", torch.jit.TracerWarning)
        export.onnx(model, tmp_path / "m.onnx")
    x = _float_input(3, 6, 3)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-5)
