"""Every run-folder defect × the pages that list runs: the bad run is named with its reason (or
left out of a model list), every other run still works."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import runs
from tests import model_kinds
from tests.conftest import ROOT

CONFIG = {"preset": "custom", "dataset": "mnist", "optimizer": "adam", "learning_rate": 0.001,
          "batch_size": 64}
HISTORY = {"history": {"loss": [0.5], "accuracy": [0.9]}, "test_accuracy": 0.9,
           "test_loss": 0.3, "seconds": 3, "stopped_early": False}
GOOD = "20260101-000000-custom-mnist"
BAD = "20260102-000000-custom-mnist"

M = {"model.keras": "PK"}  # a model file is there (the readers check it exists, not what it is)
DEFECTS = {  # name: (files of the bad run, what the Runs page says)
    "config missing": ({"history.json": HISTORY, **M}, "config.json is missing"),
    "history not JSON": ({"config.json": CONFIG, "history.json": "{ half", **M},
                         "history.json is not valid JSON"),
    "history a list": ({"config.json": CONFIG, "history.json": [1, 2], **M},
                       "history.json is not a JSON object"),
    "no dataset key": ({"config.json": {"preset": "lenet5"}, "history.json": HISTORY, **M},
                       "config.json has no 'dataset'"),
    "accuracy a string": ({"config.json": CONFIG, "history.json": {**HISTORY,
                                                                  "test_accuracy": "90%"}, **M},
                          "'test_accuracy' in history.json is not a number"),
    "model missing": ({"config.json": CONFIG, "history.json": HISTORY},
                      "model.keras is missing"),
    "empty folder": ({}, "config.json is missing"),
}


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "DEFAULT_RUNS_DIR", tmp_path)
    good = tmp_path / GOOD
    good.mkdir()
    model_kinds.save("functional", good).rename(good / "model.keras")
    write(good, {"config.json": CONFIG, "history.json": HISTORY})
    (tmp_path / ".partial-20260103-000000-custom-mnist-x1y2").mkdir()  # a run being written
    return tmp_path


def write(folder, files: dict) -> None:
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / name).write_text(text)


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / f"pages/{name}.py"), default_timeout=180).run()


@pytest.mark.parametrize("defect", DEFECTS)
def test_runs_page_names_the_bad_run_and_shows_the_good_one(runs_dir, defect):
    files, reason = DEFECTS[defect]
    write(runs_dir / BAD, files)
    at = page("runs")
    assert not at.exception
    assert [w.value for w in at.warning] == [f"Run {BAD} cannot be read: {reason}. It is left out."]
    assert at.dataframe[0].value["run"].tolist() == [GOOD]
    assert {m.label: m.value for m in at.metric}["Test accuracy"]  # the good run's report
    assert str(runs_dir) not in " ".join(w.value for w in at.warning)


# every page with the model picker, and the picker's key there
PICKERS = {"draw": "draw_model", "inside": "inside_model", "map": "map_model",
           "robustness": "robust_model"}


@pytest.mark.parametrize("name", PICKERS)
@pytest.mark.parametrize("defect", DEFECTS)
def test_model_lists_offer_only_readable_runs(runs_dir, defect, name):
    write(runs_dir / BAD, DEFECTS[defect][0])
    at = page(name)
    assert not at.exception
    assert at.selectbox(key=PICKERS[name]).options == ["LeNet-5 (shipped)", f"Run {GOOD}"]


@pytest.mark.parametrize("name", PICKERS)
def test_a_run_whose_model_file_is_not_a_model_is_refused_in_one_sentence(runs_dir, name):
    write(runs_dir / BAD, {"config.json": CONFIG, "history.json": HISTORY,
                           "model.keras": "not a zip"})
    at = AppTest.from_file(str(ROOT / f"pages/{name}.py"), default_timeout=180)
    at.session_state["chosen_model"] = f"Run {BAD}"
    at.session_state["draw_source"] = "MNIST test digit"
    at.run()
    assert not at.exception
    assert at.error[0].value == (f"Run {BAD} cannot classify 28×28 digits: model.keras is not "
                                 "a valid .keras file (it is not a zip archive). Choose another "
                                 "model.")


def test_a_run_deleted_after_it_was_listed_is_refused_in_one_sentence(runs_dir):
    at = AppTest.from_file(str(ROOT / "pages/inside.py"), default_timeout=180)
    at.session_state["chosen_model"] = f"Run {GOOD}"
    at.run()
    assert at.selectbox(key="inside_model").value == f"Run {GOOD}"
    (runs_dir / GOOD / "model.keras").unlink()  # another replica removed it meanwhile
    at.run()
    assert not at.exception
    # the run is no longer listed, so the page falls back to the shipped model
    assert at.selectbox(key="inside_model").value == "LeNet-5 (shipped)"
