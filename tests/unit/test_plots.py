import numpy as np

from cnnviz import plots


def test_training_curves_hide_validation_when_there_is_none_and_refill_in_place():
    fig = plots.training_curves([1.0, 0.5], [0.1, 0.2], [{"loss": 1.0, "accuracy": 0.2}], 2)
    shown = {t.name: t.visible for t in fig.data}
    assert shown == {"batch": True, "batch, smoothed": True, "epoch (train)": True,
                     "epoch (validation)": False}
    logs = [{"loss": 1.0, "accuracy": 0.2, "val_loss": 1.1, "val_accuracy": 0.3}]
    same = plots.training_curves([1.0, 0.5, 0.4], [0.1, 0.2, 0.3], logs, 3, fig)
    assert same is fig and all(t.visible for t in fig.data)
    np.testing.assert_array_equal(fig.data[0].y, [1.0, 0.5, 0.4])
