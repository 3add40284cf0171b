"""Corrupted, truncated and hostile files: every loader gives a clear rnnkit error.

None may crash, hang, allocate what the file does not hold, or run code. The fuzz test
prints how many inputs it tried (run pytest with -s to see it; it is also in the
assertion message on failure).
"""
import base64
import json
import marshal
import shutil
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from rnnkit import backend
from rnnkit.io import FileFormatError, UnsafeConfigError, WeightMismatchError
from rnnkit.layers import LSTM, Dense
from rnnkit.models import Sequential, load_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LSTM_H5 = FIXTURES / "keras2" / "models" / "lstm_dense.h5"
LSTM_KERAS = FIXTURES / "keras3" / "k3_lstm_dense.keras"


def _with_config(tmp_path, config, name="m.h5"):
    path = tmp_path / name
    shutil.copy(LSTM_H5, path)
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = json.dumps(config).encode()
    return path


def _config():
    with h5py.File(LSTM_H5) as f:
        return json.loads(f.attrs["model_config"])


def _keras_with(tmp_path, config=None, weights=None, name="m.keras", compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(LSTM_KERAS) as z:
        members = {n: z.read(n) for n in z.namelist()}
    if config is not None:
        members["config.json"] = config if isinstance(config, bytes) else json.dumps(config).encode()
    if weights is not None:
        members["model.weights.h5"] = weights
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for n, data in members.items():
            z.writestr(n, data)
    return path


# ---------------------------------------------------------------------- code-carrying configs
def test_lambda_layer_is_refused_and_its_code_never_runs(tmp_path):
    sentinel = tmp_path / "pwned"
    code = compile(f"open({str(sentinel)!r}, 'w').write('x')", "<lambda>", "exec")
    payload = base64.b64encode(marshal.dumps(code)).decode()
    config = _config()
    config["config"]["layers"].insert(2, {"class_name": "Lambda", "config": {
        "name": "evil", "function": [payload, None, None], "function_type": "lambda",
        "module": "__main__", "output_shape": None, "arguments": {}}})
    with pytest.raises(UnsafeConfigError, match=r"layer 'evil' is a Lambda, which carries Python "
                                                r"code; rnnkit never runs code from a file"):
        load_model(_with_config(tmp_path, config))
    assert not sentinel.exists()


def test_keras3_function_reference_is_refused(tmp_path):
    with zipfile.ZipFile(LSTM_KERAS) as z:
        config = json.loads(z.read("config.json"))
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": "os", "class_name": "function", "config": "system", "registered_name": "system"}
    with pytest.raises(UnsafeConfigError, match=r"refers to the Python function 'system' in "
                                                r"module 'os'; rnnkit never imports"):
        load_model(_keras_with(tmp_path, config))


def test_builtin_keras3_function_activation_is_fine(tmp_path):
    with zipfile.ZipFile(LSTM_KERAS) as z:
        config = json.loads(z.read("config.json"))
    config["config"]["layers"][2]["config"]["activation"] = {
        "module": "keras.activations", "class_name": "function", "config": "linear",
        "registered_name": "linear"}
    load_model(_keras_with(tmp_path, config))


@pytest.mark.parametrize("layer, message", [
    ({"class_name": "MyAttention", "config": {"name": "att"}},
     r"Unknown layer class 'MyAttention': rnnkit builds only known layers"),
    ({"module": "my_package.layers", "class_name": "MyAttention", "config": {"name": "att"}},
     r"comes from module 'my_package.layers'"),
])
def test_unknown_classes_are_refused(tmp_path, layer, message):
    config = _config()
    config["config"]["layers"].insert(2, layer)
    with pytest.raises(FileFormatError, match=message):
        load_model(_with_config(tmp_path, config))


def test_other_model_classes_and_broken_functional_configs_are_refused_clearly(tmp_path):
    config = {"class_name": "MyModel", "config": {"name": "model", "layers": []}}
    with pytest.raises(FileFormatError, match=r"the model is a 'MyModel'; rnnkit loads "
                                              r"Sequential and functional"):
        load_model(_with_config(tmp_path, config))
    config = {"class_name": "Functional", "config": {"name": "model", "layers": "lstm"}}
    with pytest.raises(FileFormatError, match=r"functional model config has no list of layers"):
        load_model(_with_config(tmp_path, config))


# ---------------------------------------------------------------------- declared sizes
def test_huge_layers_in_the_config_fail_before_any_allocation(tmp_path):
    config = _config()
    config["config"]["layers"][1]["config"]["units"] = 200_000  # 4H(D+H+1): 160 G floats
    start = time.perf_counter()
    with pytest.raises(WeightMismatchError, match=r"layer 'lstm' weight lstm/lstm_cell(_\d+)?/kernel:0 has "
                                                  r"shape \(4, 800000\) in the model, but the file "
                                                  r"stores shape \(4, 128\)"):
        load_model(_with_config(tmp_path, config))
    assert time.perf_counter() - start < 30


def test_overflowing_sizes_are_a_clear_error(tmp_path):
    config = _config()
    config["config"]["layers"][1]["config"]["units"] = 10 ** 12
    with pytest.raises(FileFormatError, match="cannot build the model from its config"):
        load_model(_with_config(tmp_path, config))


def test_dataset_declaring_more_than_the_file_stores_is_refused(tmp_path):
    path = tmp_path / "w.h5"
    shutil.copy(LSTM_H5, path)
    with h5py.File(path, "r+") as f:
        group = f["model_weights/lstm/lstm/lstm_cell"]
        del group["kernel:0"]
        # 4 TB declared, nothing stored: reading would allocate it all (fill values).
        group.create_dataset("kernel:0", shape=(10 ** 6, 10 ** 6), dtype="f4", chunks=(64, 64))
    with pytest.raises(FileFormatError, match=r"declares shape \(1000000, 1000000\) "
                                              r"\(4000000000000 bytes\) but the file stores 0 bytes"):
        load_model(path)


def test_non_numeric_weights_are_refused(tmp_path):
    path = tmp_path / "w.h5"
    shutil.copy(LSTM_H5, path)
    with h5py.File(path, "r+") as f:
        group = f["model_weights/dense/dense"]
        del group["bias:0"]
        group.create_dataset("bias:0", data=np.array([b"__import__('os')"], dtype=object),
                             dtype=h5py.string_dtype())
    with pytest.raises(FileFormatError, match=r"weights must be numeric arrays"):
        load_model(path)


def test_zip_bomb_config_is_refused(tmp_path):
    bomb = b"{" + b" " * (30 * 2 ** 20) + b"}"
    path = _keras_with(tmp_path, config=bomb, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(FileFormatError, match=r"'config.json' declares \d+ bytes from \d+ stored "
                                              r"\(corrupt or a zip bomb\)"):
        load_model(path)


def test_deeply_nested_json_is_refused(tmp_path):
    nested = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(FileFormatError, match="config.json"):
        load_model(_keras_with(tmp_path, config=nested))


def test_not_a_model_file(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(FileFormatError, match=r"notes.h5' is not a Keras model file"):
        load_model(text)
    with pytest.raises(FileFormatError, match=r"Cannot read .*missing.keras"):
        load_model(tmp_path / "missing.keras")
    with pytest.raises(FileFormatError, match="is a directory"):
        load_model(tmp_path)
    empty_zip = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty_zip, "w") as z:
        z.writestr("other.txt", "x")
    with pytest.raises(FileFormatError, match=r"ZIP without 'config.json'"):
        load_model(empty_zip)


# ---------------------------------------------------------------------- the fuzz
def _targets():
    """(name, bytes, loader) for every loader: full models and weights into built models."""
    keras2 = FIXTURES / "keras2" / "models"
    targets = []
    for path in sorted(keras2.glob("*.h5")) + sorted((FIXTURES / "keras3").glob("*.keras")):
        if path.name.endswith(".weights.h5"):
            continue
        targets.append((path.name, path.read_bytes(), "model"))
    targets.append(("lstm_dense.weights.h5", (keras2 / "lstm_dense.weights.h5").read_bytes(), "weights"))
    targets.append(("lstm_dense.h5 (weights)", (keras2 / "lstm_dense.h5").read_bytes(), "weights"))
    return targets


def _mutations(data: bytes, rng: np.random.Generator, count: int):
    size = len(data)
    for _ in range(count // 4):  # truncated anywhere, including inside the header
        yield "truncate", data[:int(rng.integers(0, size))]
    for _ in range(count // 2):  # a few random bytes overwritten
        buf = bytearray(data)
        for pos in rng.integers(0, size, size=int(rng.integers(1, 9))):
            buf[pos] = int(rng.integers(0, 256))
        yield "flip", bytes(buf)
    for _ in range(count - count // 4 - count // 2):  # a zeroed or 0xff block
        buf = bytearray(data)
        start = int(rng.integers(0, size))
        length = int(rng.integers(1, 512))
        buf[start:start + length] = bytes([int(rng.choice([0, 255]))]) * len(buf[start:start + length])
        yield "block", bytes(buf)


def test_fuzzed_files_give_clear_errors_or_load(tmp_path, capsys):
    rng = np.random.default_rng(20261128)
    backend.clear_session()
    weights_model = Sequential([LSTM(32, input_shape=(20, 4)), Dense(1)])
    tried, refused, loaded, slowest = 0, 0, 0, 0.0
    unexpected = []
    for name, data, kind in _targets():
        suffix = ".keras" if name.endswith(".keras") else ".h5"
        for how, mutated in _mutations(data, rng, 48):
            path = tmp_path / f"fuzz{suffix}"
            path.write_bytes(mutated)
            start = time.perf_counter()
            try:
                if kind == "model":
                    load_model(path)
                else:
                    weights_model.load_weights(path)
                loaded += 1
            except FileFormatError as error:
                refused += 1
                assert str(error), "an rnnkit error must say what is wrong"
            except Exception as error:  # anything else is a loader bug
                unexpected.append(f"{name} {how}: {type(error).__name__}: {error}")
            slowest = max(slowest, time.perf_counter() - start)
            tried += 1
    with capsys.disabled():
        print(f"\n[fuzz] {tried} corrupted/truncated inputs tried: {refused} refused with "
              f"FileFormatError, {loaded} still loaded; slowest {slowest:.2f} s")
    assert not unexpected, f"{len(unexpected)} of {tried} inputs raised non-rnnkit errors:\n" + \
        "\n".join(unexpected[:20])
    assert refused > tried // 2
    assert slowest < 20


HOSTILE_VALUES = [None, -1, 0, 10 ** 12, 2.5, "zzz", True, [], {}, [None, -3],
                  {"class_name": "Lambda", "config": {}}, {"class_name": "function", "config": "eval",
                                                           "module": "builtins"}]


def test_hostile_config_values_give_clear_errors(tmp_path, capsys):
    """Every key of every layer config replaced by wrong types, sizes, negative numbers and
    code references: each load either works or raises an rnnkit FileFormatError."""
    base = _config()
    tried, refused, unexpected = 0, 0, []
    for index, layer in enumerate(base["config"]["layers"]):
        for k, key in enumerate(layer["config"]):
            # Half of the values per key, alternating, keeps the run short on CI.
            for value in HOSTILE_VALUES[k % 2::2]:
                config = json.loads(json.dumps(base))
                config["config"]["layers"][index]["config"][key] = value
                path = tmp_path / "c.h5"
                shutil.copy(LSTM_H5, path)
                with h5py.File(path, "r+") as f:
                    f.attrs["model_config"] = json.dumps(config).encode()
                tried += 1
                try:
                    load_model(path)
                except FileFormatError:
                    refused += 1
                except Exception as error:
                    unexpected.append(f"{layer['class_name']}.{key}={value!r}: "
                                      f"{type(error).__name__}: {error}")
    with capsys.disabled():
        print(f"\n[fuzz] {tried} hostile config values tried: {refused} refused with FileFormatError")
    assert not unexpected, "\n".join(unexpected[:20])
    assert refused > tried // 3
