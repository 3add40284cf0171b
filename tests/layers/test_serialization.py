"""The layer registry: built-in layers, user registrations, and the model classes that
register themselves (io builds models through it)."""
from rnnkit.layers import LSTM, deserialize, serialization
from rnnkit.models import Model, Sequential


def test_the_models_are_registered_by_class_and_by_kind():
    assert serialization.model_class("Sequential") is Sequential
    assert serialization.model_class("Functional") is Model
    for name, cls in (("Sequential", Sequential), ("Model", Model), ("Functional", Model)):
        assert serialization.get_registered(name) is cls


def test_a_registration_before_first_use_keeps_the_built_in_layers(monkeypatch):
    monkeypatch.setattr(serialization, "_REGISTRY", {})
    monkeypatch.setattr(serialization, "_BUILTINS_REGISTERED", False)

    class MyLSTM(LSTM):
        pass

    serialization.register(MyLSTM, "LSTM")       # the user's class wins its name ...
    layer = deserialize({"class_name": "LSTM", "config": {"units": 2}})
    assert type(layer) is MyLSTM
    gru = deserialize({"class_name": "GRU", "config": {"units": 2}})  # ... the rest stay
    assert type(gru).__name__ == "GRU"
