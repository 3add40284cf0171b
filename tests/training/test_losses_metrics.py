"""Loss and metric behaviour the recorded values do not cover: names, shapes, masks, errors;
and the confusion counts against tf.keras 2.12 (fixtures/keras2_metric_counts)."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit import losses, metrics


def test_loss_names_resolve_to_keras_functions():
    for name in ["mse", "mae", "mape", "msle", "huber", "log_cosh", "binary_crossentropy",
                 "categorical_crossentropy", "sparse_categorical_crossentropy",
                 "kl_divergence", "poisson", "hinge", "cosine_similarity"]:
        assert callable(losses.get(name))
    with pytest.raises(ValueError, match="Unknown loss function: 'msee'"):
        losses.get("msee")


def test_targets_of_rank_one_against_one_unit_output_do_not_broadcast():
    y = torch.tensor([1.0, 2.0, 3.0])
    pred = torch.tensor([[1.0], [2.0], [5.0]])
    assert float(losses.MeanSquaredError()(y, pred)) == pytest.approx(4 / 3)


def test_mask_counts_only_valid_steps():
    y = torch.zeros(2, 3, 1)
    pred = torch.ones(2, 3, 1)
    mask = torch.tensor([[True, True, False], [True, False, False]])
    assert float(losses.MeanSquaredError()(y, pred, mask=mask)) == pytest.approx(1.0)
    pred[0, 2] = 100.0  # a masked step changes nothing
    assert float(losses.MeanSquaredError()(y, pred, mask=mask)) == pytest.approx(1.0)


def test_bad_reduction_and_bad_argument():
    with pytest.raises(ValueError, match="Invalid Reduction Key: mean"):
        losses.MeanSquaredError(reduction="mean")
    with pytest.raises(TypeError, match="BinaryCrossentropy: unexpected keyword argument "
                                        "'from_logit'"):
        losses.BinaryCrossentropy(from_logit=True)


def test_categorical_crossentropy_shape_error_suggests_sparse():
    with pytest.raises(ValueError, match="use sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(torch.tensor([0, 1]), torch.full((2, 3), 1 / 3))


def test_sparse_crossentropy_ignore_class():
    probs = torch.tensor([[0.7, 0.3], [0.2, 0.8]])
    loss = losses.sparse_categorical_crossentropy(torch.tensor([0, 1]), probs, ignore_class=1)
    assert loss[1] == 0 and loss[0] == pytest.approx(-np.log(0.7), rel=1e-5)


@pytest.mark.parametrize("y_shape,p_shape,expected", [
    ((4, 1), (4, 1), "binary_accuracy"),
    ((4,), (4, 3), "sparse_categorical_accuracy"),
    ((4, 1), (4, 3), "sparse_categorical_accuracy"),
    ((4, 3), (4, 3), "categorical_accuracy"),
])
def test_accuracy_resolved_from_shapes_as_keras_compile_does(y_shape, p_shape, expected):
    metric = metrics.get("accuracy", torch.zeros(y_shape), torch.zeros(p_shape))
    assert metric._fn.__name__ == expected and metric.name == "accuracy"
    assert metrics.get("acc", torch.zeros(y_shape), torch.zeros(p_shape)).name == "acc"


def test_metric_is_a_mean_over_samples_not_over_batches():
    m = metrics.BinaryAccuracy()
    m.update_state([[1.0]], [[0.9]])                         # 1 sample, right
    m.update_state([[1.0], [1.0], [1.0]], [[0.1], [0.2], [0.3]])  # 3 samples, wrong
    assert m.result() == pytest.approx(0.25)  # the mean of batch means would be 0.5
    m.reset_state()
    assert m.result() == 0.0


def test_unknown_metric_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown metric function: 'acuracy'"):
        metrics.get("acuracy")


def test_rmse_auc_precision_recall_by_name():
    assert isinstance(metrics.get("rmse"), metrics.RootMeanSquaredError)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    p = metrics.get("Precision")
    p.update_state([1, 0, 1], [0.9, 0.8, 0.1])
    assert p.result() == pytest.approx(0.5)


COUNTS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras2_metric_counts"
                     / "counts.json").read_text())


@pytest.mark.parametrize("case", COUNTS["cases"],
                         ids=[f"{c['class_name']}-{c['kwargs']}" for c in COUNTS["cases"]])
def test_confusion_counts_match_tf_keras(case):
    metric = getattr(metrics, case["class_name"])(**case["kwargs"])
    for (y_true, y_pred, weight), expected in zip(COUNTS["batches"], case["results"]):
        metric.update_state(np.array(y_true), np.array(y_pred),
                            sample_weight=None if weight is None else np.array(weight))
        assert metric.result() == pytest.approx(expected, rel=1e-5)
    assert metric.get_config()["thresholds"] == case["config"]["thresholds"]
    if "name" in case["kwargs"]:
        assert metric.name == case["kwargs"]["name"]
    rebuilt = metrics.deserialize(metrics.serialize(metric))
    assert type(rebuilt) is type(metric) and rebuilt.get_config() == metric.get_config()
    metric.reset_state()
    assert metric.result() == pytest.approx([0.0] * len(np.atleast_1d(expected)) if
                                            isinstance(expected, list) else 0.0)


def test_confusion_count_thresholds_are_checked():
    with pytest.raises(ValueError, match=r"TruePositives: `thresholds` must be numbers in "
                                         r"\[0, 1\].*1\.5"):
        metrics.TruePositives(thresholds=[0.2, 1.5])


def test_metrics_made_without_a_name_draw_the_next_free_one_as_tf_keras():
    from rnnkit import backend
    m = metrics
    backend.clear_session()
    made = [m.AUC(), m.AUC(), m.Precision(), m.Precision(), m.Recall(name="r"), m.Recall(),
            m.TruePositives(), m.TruePositives(), m.FalseNegatives(name="fn"),
            m.BinaryAccuracy(), m.BinaryAccuracy(), m.AUC(curve="PR")]
    backend.clear_session()
    made += [m.AUC(), m.Precision()]
    assert [metric.name for metric in made] == COUNTS["names"]
    # a name written as a string is the metric's own: compile's "AUC" logs `auc`
    assert metrics.get("AUC").name == "auc" and metrics.get("Precision").name == "precision"
