"""Accuracy curves: the point at 0 is evaluate's accuracy on the same images, progress is
reported per strength, and only 28×28 grey test sets are taken."""

import numpy as np
import pytest

from cnnviz import data, models, robustness, training
from cnnviz.corruptions import Corruption


@pytest.fixture(scope="module")
def shipped():
    return models.load(models.SHIPPED_MODEL)


def test_the_point_at_0_is_evaluate_on_the_first_images(shipped):
    ds = data.load("mnist")
    x, y = robustness.test_images(ds, 700)
    assert x.shape == (700, 28, 28) and (y == ds.y_test[:700]).all()
    seen = []
    curve = robustness.curve(shipped, Corruption.BLUR, x, y,
                             on_progress=lambda done, total: seen.append((done, total)))
    _, accuracy = training.evaluate_arrays(shipped, ds.x_test[:700], ds.y_test[:700])
    assert curve.at(0) == accuracy
    assert seen == [(i, len(Corruption.BLUR.curve)) for i in range(1, 8)]
    assert curve.to_dict() == {"corruption": "blur", "unit": "px",
                               "strengths": list(Corruption.BLUR.curve),
                               "accuracy": list(curve.accuracy), "images": 700}
    assert curve.at(3) < curve.at(0) - 0.2  # a σ = 3 px blur costs LeNet-5 a lot


def test_a_limit_beyond_the_test_set_takes_all_of_it():
    ds = data.load_sample("mnist")
    x, y = robustness.test_images(ds, 10**9)
    assert len(x) == len(y) == len(ds.y_test)


def test_colour_test_sets_are_refused_in_one_sentence():
    ds = data.Dataset(data.info("cifar10"), *(np.zeros((1, 32, 32, 3)), np.zeros(1)) * 2)
    with pytest.raises(ValueError, match="CIFAR-10 has colour images; the corruptions are made"):
        robustness.test_images(ds)


def test_strengths_outside_the_range_are_refused_before_any_prediction(shipped):
    with pytest.raises(ValueError, match="rotate strength must be between"):
        robustness.curve(shipped, Corruption.ROTATE, np.zeros((1, 28, 28)), np.zeros(1),
                         strengths=[0, 270])
