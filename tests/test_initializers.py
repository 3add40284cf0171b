"""rnnkit.initializers: Keras 2 statistics, fans, orthogonal draw, seeding, (de)serialisation."""
import json
import math
import zipfile
from pathlib import Path

import pytest
import torch

from rnnkit import initializers as inits

FIXTURES = Path(__file__).parent / "fixtures"
D, H = 64, 128            # an LSTM kernel (D, 4H): 32768 samples
KERNEL = (D, 4 * H)
TRUNC_STD = 0.87962566103423978


def test_compute_fans_keras_rules():
    assert inits.compute_fans(()) == (1, 1)
    assert inits.compute_fans((7,)) == (7, 7)
    assert inits.compute_fans(KERNEL) == (D, 4 * H)          # the whole matrix, not per gate
    assert inits.compute_fans((3, 5, 4, 8)) == (4 * 15, 8 * 15)


def test_glorot_uniform_whole_matrix_limit_and_variance():
    torch.manual_seed(0)
    w = inits.get("glorot_uniform")(KERNEL)
    limit = math.sqrt(6.0 / (D + 4 * H))     # per-gate fans would give sqrt(6/(D+H)) = 0.177
    assert w.shape == KERNEL and w.dtype == torch.float32 and not w.requires_grad
    assert w.abs().max() <= limit
    assert w.abs().max() > 0.99 * limit       # and the whole range is used
    # sample variance of U(-a, a): relative s.e. ~0.5% for 32768 draws -> 3% is ~6 sigma
    assert w.var().item() == pytest.approx(limit ** 2 / 3, rel=0.03)
    assert abs(w.mean().item()) < 0.002


@pytest.mark.parametrize("name, shape, target_std", [
    ("glorot_normal", KERNEL, math.sqrt(2.0 / (D + 4 * H))),
    ("he_normal", (256, 128), math.sqrt(2.0 / 256)),
    ("lecun_normal", (256, 128), math.sqrt(1.0 / 256)),
])
def test_truncated_normal_presets_have_target_std(name, shape, target_std):
    torch.manual_seed(1)
    w = inits.get(name)(shape)
    bound = 2 * target_std / TRUNC_STD        # cut at two (pre-truncation) stddevs
    assert w.abs().max() <= bound * (1 + 1e-6)
    assert w.abs().max() > 0.95 * bound
    assert w.std().item() == pytest.approx(target_std, rel=0.02)


@pytest.mark.parametrize("name, shape, limit", [
    ("he_uniform", (256, 128), math.sqrt(6.0 / 256)),
    ("lecun_uniform", (256, 128), math.sqrt(3.0 / 256)),
])
def test_uniform_presets(name, shape, limit):
    torch.manual_seed(2)
    w = inits.get(name)(shape)
    assert w.abs().max() <= limit and w.abs().max() > 0.99 * limit
    assert w.var().item() == pytest.approx(limit ** 2 / 3, rel=0.03)


def test_variance_scaling_modes_and_distributions():
    torch.manual_seed(3)
    shape = (100, 400)
    w = inits.VarianceScaling(scale=3.0, mode="fan_out", distribution="untruncated_normal")(shape)
    assert w.std().item() == pytest.approx(math.sqrt(3.0 / 400), rel=0.02)
    assert w.abs().max() > 2.5 * math.sqrt(3.0 / 400)   # not truncated
    w = inits.VarianceScaling(scale=2.0, mode="fan_avg", distribution="uniform")(shape)
    assert w.abs().max() <= math.sqrt(3 * 2.0 / 250)
    assert inits.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    with pytest.raises(ValueError, match="scale"):
        inits.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="mode"):
        inits.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        inits.VarianceScaling(distribution="cauchy")


def test_random_normal_uniform_truncated():
    torch.manual_seed(4)
    w = inits.TruncatedNormal(mean=1.0, stddev=0.5)((200, 200))
    assert w.min() >= 0.0 and w.max() <= 2.0
    assert w.mean().item() == pytest.approx(1.0, abs=0.01)
    assert w.std().item() == pytest.approx(0.5 * TRUNC_STD, rel=0.02)
    w = inits.RandomNormal(mean=-2.0, stddev=0.1)((200, 200))
    assert w.mean().item() == pytest.approx(-2.0, abs=0.002)
    assert w.std().item() == pytest.approx(0.1, rel=0.02)
    w = inits.RandomUniform()((200, 200))      # Keras default range +-0.05
    assert w.min() >= -0.05 and w.max() < 0.05 and w.max() > 0.049


def test_orthogonal_rows_columns_and_gain():
    u = 16
    w = inits.Orthogonal()((u, 4 * u))          # recurrent kernel: orthonormal ROWS
    torch.testing.assert_close(w @ w.T, torch.eye(u), atol=1e-5, rtol=0)
    assert not torch.allclose(w.T @ w, torch.eye(4 * u), atol=1e-2)
    w = inits.Orthogonal()((4 * u, u))          # tall: orthonormal columns
    torch.testing.assert_close(w.T @ w, torch.eye(u), atol=1e-5, rtol=0)
    w = inits.Orthogonal(gain=2.0)((u, 4 * u))
    torch.testing.assert_close(w @ w.T, 4 * torch.eye(u), atol=1e-4, rtol=0)
    w = inits.Orthogonal()((2, 3, 4))            # flattened to (6, 4)
    flat = w.reshape(6, 4)
    torch.testing.assert_close(flat.T @ flat, torch.eye(4), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        inits.Orthogonal()((5,))


def test_orthogonal_is_drawn_as_keras_draws_it():
    u = 8
    torch.manual_seed(5)
    w = inits.Orthogonal(gain=1.5)((u, 4 * u))
    torch.manual_seed(5)
    a = torch.randn(4 * u, u)                    # normal of shape (max, min)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r))
    torch.testing.assert_close(w, 1.5 * q.T)     # transposed since rows < cols


def test_seeded_initializer_repeats_and_global_seed_reproduces():
    for init in (inits.GlorotUniform(seed=7), inits.Orthogonal(seed=7), inits.HeNormal(seed=7),
                 inits.RandomUniform(seed=7), inits.RandomNormal(seed=7), inits.TruncatedNormal(seed=7)):
        first, second = init((6, 24)), init((6, 24))
        torch.testing.assert_close(first, second, rtol=0, atol=0)
        assert not torch.equal(first, type(init)(seed=8)((6, 24)))
    # same seed, new instance: same values
    torch.testing.assert_close(inits.GlorotUniform(seed=7)((6, 24)), inits.GlorotUniform(seed=7)((6, 24)))
    # unseeded: successive calls differ; torch.manual_seed makes them reproducible
    init = inits.GlorotUniform()
    torch.manual_seed(11)
    a, b = init((6, 24)), init((6, 24))
    assert not torch.equal(a, b)
    torch.manual_seed(11)
    torch.testing.assert_close(init((6, 24)), a, rtol=0, atol=0)


def test_set_random_seed_reproduces():
    from rnnkit.utils import set_random_seed
    set_random_seed(3)
    a = inits.Orthogonal()((4, 16))
    set_random_seed(3)
    torch.testing.assert_close(inits.Orthogonal()((4, 16)), a, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float64, "float64"])
def test_float64_is_honoured(dtype):
    for name in ("glorot_uniform", "glorot_normal", "orthogonal", "zeros", "ones", "identity",
                 "random_normal", "random_uniform", "truncated_normal"):
        w = inits.get(name)((8, 8), dtype=dtype)
        assert w.dtype == torch.float64, name
    w = inits.Orthogonal()((8, 32), dtype=torch.float64)
    torch.testing.assert_close(w @ w.T, torch.eye(8, dtype=torch.float64), atol=1e-12, rtol=0)


def test_constant_ones_zeros_identity():
    assert torch.equal(inits.Zeros()((2, 3)), torch.zeros(2, 3))
    assert inits.Zeros()((2,), dtype=torch.int64).dtype == torch.int64
    assert torch.equal(inits.get("one")((4,)), torch.ones(4))
    assert torch.equal(inits.Constant(0.5)((2, 2)), torch.full((2, 2), 0.5))
    assert inits.Constant([1, 2, 3, 4])((2, 2)).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="cannot fill"):
        inits.Constant([1, 2, 3])((2, 2))
    assert torch.equal(inits.Identity(gain=3.0)((2, 3)), 3.0 * torch.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        inits.Identity()((2, 2, 2))
    with pytest.raises(ValueError, match="floating point"):
        inits.GlorotUniform()((2, 2), dtype=torch.int32)


def test_keras2_configs_exact():
    assert inits.serialize(inits.GlorotUniform()) == {"class_name": "GlorotUniform", "config": {"seed": None}}
    assert inits.serialize(inits.Orthogonal()) == {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}}
    assert inits.serialize(inits.Zeros()) == {"class_name": "Zeros", "config": {}}
    assert inits.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert inits.TruncatedNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert inits.VarianceScaling().get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None}
    assert inits.Constant().get_config() == {"value": 0}
    assert inits.Identity().get_config() == {"gain": 1.0}
    for cls in (inits.GlorotNormal, inits.HeUniform, inits.HeNormal, inits.LecunUniform, inits.LecunNormal):
        assert cls(seed=4).get_config() == {"seed": 4}


@pytest.mark.parametrize("init", [
    inits.Zeros(), inits.Ones(), inits.Constant(2.5), inits.RandomNormal(1.0, 2.0, seed=3),
    inits.RandomUniform(-1, 1), inits.TruncatedNormal(stddev=0.3), inits.Identity(gain=2.0),
    inits.VarianceScaling(2.0, "fan_out", "uniform", seed=9), inits.GlorotUniform(), inits.GlorotNormal(1),
    inits.HeUniform(), inits.HeNormal(), inits.LecunUniform(), inits.LecunNormal(), inits.Orthogonal(0.5, 2),
])
def test_serialize_round_trip(init):
    config = inits.serialize(init)
    again = inits.get(config)
    assert type(again) is type(init)
    assert inits.serialize(again) == config
    assert json.loads(json.dumps(config)) == config


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", inits.GlorotUniform), ("glorot_normal", inits.GlorotNormal),
    ("he_uniform", inits.HeUniform), ("he_normal", inits.HeNormal),
    ("lecun_uniform", inits.LecunUniform), ("lecun_normal", inits.LecunNormal),
    ("orthogonal", inits.Orthogonal), ("zeros", inits.Zeros), ("zero", inits.Zeros),
    ("ones", inits.Ones), ("one", inits.Ones), ("constant", inits.Constant),
    ("random_normal", inits.RandomNormal), ("random_uniform", inits.RandomUniform),
    ("truncated_normal", inits.TruncatedNormal), ("variance_scaling", inits.VarianceScaling),
    ("identity", inits.Identity), ("GlorotUniform", inits.GlorotUniform), ("Orthogonal", inits.Orthogonal),
])
def test_get_by_name(name, cls):
    assert type(inits.get(name)) is cls


def test_get_other_identifiers():
    assert inits.get(None) is None
    init = inits.HeNormal()
    assert inits.get(init) is init
    assert type(inits.get(inits.Orthogonal)) is inits.Orthogonal     # a class is instantiated

    def my_init(shape, dtype=None):
        return torch.full(shape, 7.0)

    assert inits.get(my_init) is my_init
    assert inits.serialize(my_init) == "my_init"


def test_get_keras2_and_keras3_dicts():
    assert type(inits.get({"class_name": "GlorotUniform", "config": {"seed": None}})) is inits.GlorotUniform
    ortho = inits.get({"class_name": "Orthogonal", "config": {"gain": 2.0, "seed": 1}})
    assert (ortho.gain, ortho.seed) == (2.0, 1)
    keras3 = json.loads('{"module": "keras.initializers", "class_name": "GlorotUniform", '
                        '"config": {"seed": null, "input_axes": null, "output_axes": null}, '
                        '"registered_name": null}')
    init = inits.get(keras3)
    assert type(init) is inits.GlorotUniform and init.seed is None
    assert inits.serialize(init) == {"class_name": "GlorotUniform", "config": {"seed": None}}
    k3_ortho = {"module": "keras.initializers", "class_name": "Orthogonal",
                "config": {"seed": None, "gain": 1.0}, "registered_name": None, "shared_object_id": 1403}
    assert type(inits.get(k3_ortho)) is inits.Orthogonal
    # a non-None Keras 3 option rnnkit does not implement is refused, not silently dropped
    with pytest.raises(ValueError, match="input_axes"):
        inits.get({"class_name": "GlorotUniform", "config": {"seed": None, "input_axes": [0]}})
    with pytest.raises(TypeError, match="'bogus'"):
        inits.get({"class_name": "GlorotUniform", "config": {"seed": None, "bogus": 1}})
    # Keras's from_config drops "dtype"
    assert type(inits.get({"class_name": "Zeros", "config": {"dtype": "float32"}})) is inits.Zeros


def test_bad_names():
    with pytest.raises(ValueError) as err:
        inits.get("glorot")
    assert "'glorot'" in str(err.value) and "glorot_uniform" in str(err.value)
    with pytest.raises(ValueError, match="'Xavier'"):
        inits.get({"class_name": "Xavier", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        inits.get({"config": {}})
    with pytest.raises(ValueError, match="Could not interpret"):
        inits.get(3.5)


def _initializer_dicts(config):
    """Every ``*_initializer`` dict inside a (nested) Keras model config."""
    if isinstance(config, dict):
        for key, value in config.items():
            if key.endswith("_initializer") and isinstance(value, dict):
                yield value
            else:
                yield from _initializer_dicts(value)
    elif isinstance(config, list):
        for value in config:
            yield from _initializer_dicts(value)


def test_real_keras2_h5_configs_round_trip():
    h5py = pytest.importorskip("h5py")
    files = sorted((FIXTURES / "keras2" / "models").glob("*.h5"))
    if not files:
        pytest.skip("no Keras 2 .h5 fixtures")
    seen = 0
    for path in files:
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                continue
            raw = f.attrs["model_config"]
            config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        for entry in _initializer_dicts(config):
            assert inits.serialize(inits.get(entry)) == entry   # tf.keras 2.12 wrote these
            seen += 1
    assert seen > 0


def test_real_keras3_archive_configs_load():
    files = sorted((FIXTURES / "keras3").glob("*.keras"))
    if not files:
        pytest.skip("no Keras 3 .keras fixtures")
    seen = 0
    for path in files:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
        for entry in _initializer_dicts(config):
            init = inits.get(entry)
            assert type(init).__name__ == entry["class_name"]
            seen += 1
    assert seen > 0
