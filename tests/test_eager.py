"""Layer outputs from calls on NumPy data: ``rnnkit.eager.EagerTensor`` (tf.keras 2's printing,
``.shape`` and ``.numpy()``), plain torch tensors from calls on torch tensors."""
from __future__ import annotations

import copy
import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.eager import EagerTensor, Shape, to_eager
from rnnkit.layers import LSTM, Dense, Masking, SimpleRNN
from rnnkit.models import Model, Sequential

SEED = (Path(__file__).parent / "fixtures" / "seed_notebook.txt").read_text()


@pytest.fixture
def x():
    return np.random.default_rng(0).random((2, 4, 5), dtype=np.float32)


# ---------------------------------------------------------------------- which calls
def test_numpy_in_eager_out_torch_in_torch_out(x):
    rnn = SimpleRNN(3)
    eager, plain = rnn(x), rnn(torch.from_numpy(x))
    assert type(eager) is EagerTensor and type(plain) is torch.Tensor
    torch.testing.assert_close(eager.as_subclass(torch.Tensor), plain)
    assert type(rnn(x.tolist())) is EagerTensor  # nested Python lists, as NumPy
    # A chain of layers called by hand keeps the Keras printing; torch tensors stay plain.
    assert type(Dense(2)(eager)) is EagerTensor
    assert type(Dense(2)(plain)) is torch.Tensor
    assert type(Dense(2)(torch.nn.Parameter(plain))) is torch.Tensor


def test_models_called_on_numpy(x):
    model = Sequential([SimpleRNN(3, input_shape=(4, 5)), Dense(2)])
    assert type(model(x)) is EagerTensor and model(x).shape == (2, 2)
    assert type(model(torch.from_numpy(x))) is torch.Tensor
    # Symbolic calls build the graph as before: no EagerTensor anywhere.
    inputs = rnnkit.Input((4, 5))
    out = Dense(2)(SimpleRNN(3)(inputs))
    assert not isinstance(out, torch.Tensor)
    assert Model(inputs, out)(torch.from_numpy(x)).shape == (2, 2)


class _Recording(Sequential):
    """A Sequential that records the type of every output of its own calls."""

    def __call__(self, *args, **kwargs):
        out = super().__call__(*args, **kwargs)
        self.__dict__.setdefault("_seen", []).append(type(out))
        return out


def test_fit_evaluate_predict_run_on_plain_tensors(x):
    model = _Recording([SimpleRNN(3, input_shape=(4, 5)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    y = np.ones((2, 1), np.float32)
    model.fit(x, y, epochs=2, batch_size=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert isinstance(model.predict(x, verbose=0), np.ndarray)
    model.train_on_batch(x, y)
    model.test_on_batch(x, y)
    assert isinstance(model.predict_on_batch(x), np.ndarray)
    assert len(model._seen) >= 8 and set(model._seen) == {torch.Tensor}


# ---------------------------------------------------------------------- shape
def test_shape_prints_as_tensorflow_and_works_as_torch_size(x):
    out = SimpleRNN(3)(x[:1])
    shape = out.shape
    assert isinstance(shape, Shape)
    assert f"hidden(output) shape : {shape}" in SEED  # what tf.keras 2 printed
    assert str(shape) == repr(shape) == "(1, 3)"
    assert shape == (1, 3) and shape == torch.Size([1, 3]) and torch.Size([1, 3]) == shape
    assert shape != (3, 1)
    batch, units = shape
    assert (batch, units, shape[-1], shape[1:]) == (1, 3, 3, (3,))
    assert torch.zeros(shape).shape == shape and out.view(shape).shape == shape
    assert torch.zeros(2, 3).new_ones(shape).size() == torch.Size([1, 3])
    assert shape.numel() == out.numel() == 3 and shape.as_list() == [1, 3]
    assert out.size() == torch.Size([1, 3]) and out.ndim == 2 and len(out) == 1
    assert str(to_eager(torch.zeros(3)).shape) == "(3,)"
    assert str(to_eager(torch.tensor(1.0)).shape) == "()"


# ---------------------------------------------------------------------- printing
def _tensorflow_blocks():
    """The seed notebook's printed tensors: (printed text, its values as float32)."""
    blocks = re.findall(r"^tf\.Tensor\(.*?, dtype=float32\)", SEED, re.S | re.M)
    found = []
    for text in blocks:
        shape = tuple(int(d) for d in re.search(r"shape=\(([\d, ]*)\)", text)[1].split(","))
        numbers = re.findall(r"-?\d+\.\d*(?:e[-+]\d+)?", text.split(", shape=")[0])
        found.append((text, np.array(numbers, dtype=np.float32).reshape(shape)))
    return found


def test_str_reproduces_the_notebook_printing():
    blocks = _tensorflow_blocks()
    assert len(blocks) == 15
    for text, values in blocks:
        # TensorFlow's text with `tensor` for `tf.Tensor`: same digits, spacing and lines.
        assert str(to_eager(torch.from_numpy(values))) == "tensor" + text[len("tf.Tensor"):]


def test_str_and_repr_follow_numpy(x):
    out = SimpleRNN(3, return_sequences=True)(x[:1])
    array = out.detach().numpy()
    assert str(out) == f"tensor(\n{np.array2string(array)}, shape=(1, 4, 3), dtype=float32)"
    assert f"{out}" == str(out)
    assert repr(out) == (f"<tensor: shape=(1, 4, 3), dtype=float32, numpy=\n"
                         f"{np.array_repr(array)}>")
    assert repr([out]) == f"[{repr(out)}]"  # a list shows its items' repr, as in TensorFlow
    assert "grad_fn" not in str(out) + repr(out)


def test_printing_matches_tensorflow_2_12():
    # Strings printed by tf.keras 2.12's eager tensors (tf.constant(...)), `tf.` dropped.
    values = torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7
    assert str(to_eager(values)) == (
        "tensor(\n[[0.         0.14285715 0.2857143 ]\n"
        " [0.42857143 0.5714286  0.71428573]], shape=(2, 3), dtype=float32)")
    assert repr(to_eager(values)) == (
        "<tensor: shape=(2, 3), dtype=float32, numpy=\n"
        "array([[0.        , 0.14285715, 0.2857143 ],\n"
        "       [0.42857143, 0.5714286 , 0.71428573]], dtype=float32)>")
    assert str(to_eager(torch.tensor(3.0))) == "tensor(3.0, shape=(), dtype=float32)"
    assert repr(to_eager(torch.tensor([1, 2], dtype=torch.int32))) == (
        "<tensor: shape=(2,), dtype=int32, numpy=array([1, 2], dtype=int32)>")
    assert f"{to_eager(torch.tensor(1.5)):.2f}" == "1.50"


def test_bfloat16_prints_its_values():
    text = str(to_eager(torch.tensor([1.5, -2.0], dtype=torch.bfloat16)))
    assert text == "tensor([ 1.5 -2. ], shape=(2,), dtype=bfloat16)"


# ---------------------------------------------------------------------- NumPy, autograd
def test_numpy_works_while_the_output_requires_grad(x):
    out = SimpleRNN(3)(x)
    assert out.requires_grad
    expected = out.detach().numpy()
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(np.asarray(out), expected)
    assert np.asarray(out, dtype=np.float64).dtype == np.float64
    with pytest.raises(RuntimeError, match="requires grad"):
        out.as_subclass(torch.Tensor).numpy()  # what torch alone says


def test_gradients_flow_through_eager_outputs(x):
    rnn = SimpleRNN(3)
    out = rnn(x)
    (out ** 2).sum().backward()
    eager_grad = rnn.cell.kernel.grad.clone()
    rnn.zero_grad()
    (rnn(torch.from_numpy(x)) ** 2).sum().backward()
    torch.testing.assert_close(eager_grad, rnn.cell.kernel.grad)
    assert eager_grad.abs().sum() > 0


def test_torch_operations_return_plain_tensors(x):
    out = SimpleRNN(3)(x)
    for result in (out + 1, out[0], out.detach(), out.clone(), torch.cat([out, out]),
                   out.sum(), torch.nn.functional.relu(out), out.to(torch.float64)):
        assert type(result) is torch.Tensor
    assert out.detach().data_ptr() == out.data_ptr()


# ---------------------------------------------------------------------- saving, copies
def test_torch_save_writes_a_plain_tensor(x, tmp_path):
    out = SimpleRNN(3)(x)
    torch.save({"hidden": out, "list": [out]}, tmp_path / "out.pt")
    loaded = torch.load(tmp_path / "out.pt", weights_only=True)
    assert type(loaded["hidden"]) is torch.Tensor and type(loaded["list"][0]) is torch.Tensor
    torch.testing.assert_close(loaded["hidden"].detach(), out.detach().as_subclass(torch.Tensor))
    buffer = io.BytesIO()
    torch.save(out, buffer)
    buffer.seek(0)
    assert type(torch.load(buffer, weights_only=True)) is torch.Tensor


def test_copies(x):
    masked = x.copy()
    masked[:, -1] = 0.0
    out = Masking()(masked)
    deep = copy.deepcopy(out)
    assert type(deep) is EagerTensor and not deep.requires_grad
    assert deep.data_ptr() != out.data_ptr()
    torch.testing.assert_close(deep.as_subclass(torch.Tensor), out.as_subclass(torch.Tensor))
    assert torch.equal(deep._keras_mask, out._keras_mask)
    assert deep._keras_mask is not out._keras_mask
    pair = copy.deepcopy([out, out])
    assert pair[0] is pair[1]  # the memo: one copy of one tensor
    assert type(copy.copy(out)) is torch.Tensor  # through pickling: the plain tensor


# ---------------------------------------------------------------------- masks, several outputs
def test_masks_stay_on_eager_outputs(x):
    masked = x.copy()
    masked[0, 2:] = 0.0
    out = Masking()(masked)
    assert type(out) is EagerTensor
    assert out._keras_mask.tolist() == [[True, True, False, False], [True] * 4]
    rnn = LSTM(3, return_sequences=True)
    eager = rnn(out)  # the next layer picks the mask up, as in Keras
    plain = rnn(Masking()(torch.from_numpy(masked)))
    assert type(eager) is EagerTensor
    torch.testing.assert_close(eager.as_subclass(torch.Tensor), plain)
    assert torch.equal(eager._keras_mask, plain._keras_mask)
    torch.testing.assert_close(eager[0, 3], eager[0, 1])  # masked steps repeat the output


def test_every_output_of_a_call_is_converted(x):
    lstm = LSTM(3, return_sequences=True, return_state=True)
    outputs = lstm(x)
    plain = lstm(torch.from_numpy(x))
    assert isinstance(outputs, list) and len(outputs) == 3
    assert all(type(o) is EagerTensor for o in outputs)
    assert [str(o.shape) for o in outputs] == ["(2, 4, 3)", "(2, 3)", "(2, 3)"]
    for ours, theirs in zip(outputs, plain):
        torch.testing.assert_close(ours.as_subclass(torch.Tensor), theirs)
    nested = to_eager({"a": (torch.ones(1), [torch.zeros(1), 3])})
    assert type(nested["a"]) is tuple and type(nested["a"][0]) is EagerTensor
    assert type(nested["a"][1][0]) is EagerTensor and nested["a"][1][1] == 3


def test_merge_layers_called_on_numpy_print_as_keras():
    from rnnkit.layers import Add, Concatenate
    a = np.ones((2, 3), dtype="float32")
    assert str(Add()([a, a]).shape) == "(2, 3)"
    assert isinstance(Concatenate()([a, a]), EagerTensor)
    plain = Add()([torch.ones(2, 3), torch.ones(2, 3)])
    assert type(plain) is torch.Tensor


def test_functional_models_called_on_numpy_print_as_keras():
    import rnnkit
    from rnnkit.layers import LSTM, Dense
    from rnnkit.models import Model
    inputs = rnnkit.Input(shape=(4, 5))
    sequences, last, cell = LSTM(3, return_sequences=True, return_state=True)(inputs)
    model = Model(inputs, [Dense(2)(last), cell])
    x = np.ones((1, 4, 5), dtype="float32")
    outputs = model(x)
    assert [str(o.shape) for o in outputs] == ["(1, 2)", "(1, 3)"]
    assert all(isinstance(o, EagerTensor) for o in outputs)
    assert all(type(o) is torch.Tensor for o in model(torch.from_numpy(x)))


def test_cells_called_on_numpy_print_as_keras():
    from rnnkit.layers import LSTMCell, RNN, SimpleRNNCell, StackedRNNCells
    x = np.ones((2, 5), dtype="float32")
    output, (h, c) = LSTMCell(3)(x)
    assert [str(t.shape) for t in (output, h, c)] == ["(2, 3)"] * 3
    assert isinstance(output, EagerTensor) and isinstance(c, EagerTensor)
    output, states = StackedRNNCells([SimpleRNNCell(4), SimpleRNNCell(3)])(x)
    assert str(output.shape) == "(2, 3)" and isinstance(states[0], EagerTensor)
    assert type(LSTMCell(3)(torch.ones(2, 5))[0]) is torch.Tensor
    # inside a layer the cells see tensors: the layer's own rule decides
    assert type(RNN(LSTMCell(3))(torch.ones(2, 4, 5))) is torch.Tensor
