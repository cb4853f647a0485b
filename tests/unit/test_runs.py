"""Reading run folders back: every broken file is named in one sentence, never with a path."""

import json
import logging
from pathlib import Path

import pytest

from cnnviz import runs

CONFIG = {"preset": "lenet5", "dataset": "mnist", "epochs": 1}
HISTORY = {"history": {"loss": [0.5, 0.25], "accuracy": [0.9, 1]}, "test_accuracy": 0.97,
           "test_loss": 0.1, "seconds": 12, "stopped_early": False, "dataset_is_sample": False}


def make_run(folder: Path, config=CONFIG, history=HISTORY, model=True) -> Path:
    folder.mkdir(parents=True)
    for name, obj in (("config.json", config), ("history.json", history)):
        if isinstance(obj, bytes):
            (folder / name).write_bytes(obj)
        elif obj is not None:
            (folder / name).write_text(obj if isinstance(obj, str) else json.dumps(obj))
    if model:
        (folder / "model.keras").write_bytes(b"PK")
    return folder


def test_a_good_run_reads_as_a_record(tmp_path):
    record = runs.read_run(make_run(tmp_path / "20250101-000000-lenet5-mnist"))
    assert record == runs.RunRecord(
        name="20250101-000000-lenet5-mnist", path=tmp_path / "20250101-000000-lenet5-mnist",
        config=CONFIG, history={"loss": [0.5, 0.25], "accuracy": [0.9, 1.0]},
        test_accuracy=0.97, test_loss=0.1, seconds=12.0, stopped_early=False,
        dataset_is_sample=False)
    assert isinstance(record.seconds, float) and isinstance(record.history["accuracy"][1], float)


def test_optional_keys_get_defaults(tmp_path):
    old = {k: v for k, v in HISTORY.items() if k not in ("test_loss", "dataset_is_sample")}
    record = runs.read_run(make_run(tmp_path / "old", history=old))
    assert record.test_loss is None and record.dataset_is_sample is False


def without(d, key):
    return {k: v for k, v in d.items() if k != key}


def but(d, **changes):
    return {**d, **changes}


@pytest.mark.parametrize("config, history, model, message", [
    (None, HISTORY, True, "config.json is missing"),
    (CONFIG, None, True, "history.json is missing"),
    (CONFIG, HISTORY, False, "model.keras is missing"),
    ("{ not json", HISTORY, True, "config.json is not valid JSON"),
    (CONFIG, "", True, "history.json is not valid JSON"),
    (CONFIG, b"\xff\xfe{}", True, "history.json is not valid JSON"),  # not UTF-8
    (CONFIG, "[1, 2]", True, "history.json is not a JSON object"),
    ("null", HISTORY, True, "config.json is not a JSON object"),
    ('"lenet5"', HISTORY, True, "config.json is not a JSON object"),
    (without(CONFIG, "dataset"), HISTORY, True, "config.json has no 'dataset'"),
    (without(CONFIG, "preset"), HISTORY, True, "config.json has no 'preset'"),
    (but(CONFIG, preset=5), HISTORY, True, "'preset' in config.json is not a string"),
    (but(CONFIG, dataset=None), HISTORY, True, "'dataset' in config.json is not a string"),
    (CONFIG, without(HISTORY, "history"), True, "history.json has no 'history'"),
    (CONFIG, but(HISTORY, history=[0.5]), True,
     "'history' in history.json is not lists of numbers by name"),
    (CONFIG, but(HISTORY, history={"loss": 0.5}), True,
     "'history' in history.json is not lists of numbers by name"),
    (CONFIG, but(HISTORY, history={"loss": ["0.5"]}), True,
     "'history' in history.json is not lists of numbers by name"),
    (CONFIG, but(HISTORY, history={"loss": [True]}), True,
     "'history' in history.json is not lists of numbers by name"),
    (CONFIG, without(HISTORY, "test_accuracy"), True, "history.json has no 'test_accuracy'"),
    (CONFIG, but(HISTORY, test_accuracy="97%"), True,
     "'test_accuracy' in history.json is not a number"),
    (CONFIG, but(HISTORY, test_accuracy=True), True,
     "'test_accuracy' in history.json is not a number"),
    (CONFIG, but(HISTORY, test_loss="low"), True, "'test_loss' in history.json is not a number"),
    (CONFIG, without(HISTORY, "seconds"), True, "history.json has no 'seconds'"),
    (CONFIG, but(HISTORY, seconds=[1]), True, "'seconds' in history.json is not a number"),
    (CONFIG, without(HISTORY, "stopped_early"), True, "history.json has no 'stopped_early'"),
    (CONFIG, but(HISTORY, stopped_early="no"), True,
     "'stopped_early' in history.json is not true or false"),
    (CONFIG, but(HISTORY, stopped_early=0), True,
     "'stopped_early' in history.json is not true or false"),
    (CONFIG, but(HISTORY, dataset_is_sample=1), True,
     "'dataset_is_sample' in history.json is not true or false"),
])
def test_a_broken_run_names_the_file_and_what_is_wrong(tmp_path, config, history, model,
                                                      message):
    folder = make_run(tmp_path / "secret-server-folder" / "run", config, history, model)
    with pytest.raises(runs.RunError) as err:
        runs.read_run(folder)
    assert str(err.value) == message
    assert "secret-server-folder" not in str(err.value)


def test_a_run_deleted_between_listing_and_reading(tmp_path):
    folder = make_run(tmp_path / "run")
    listed = runs.scan_runs(tmp_path)
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
    assert listed[0].record is not None
    with pytest.raises(runs.RunError, match="^the run folder no longer exists$"):
        runs.read_run(listed[0].path)


@pytest.mark.parametrize("error, message", [
    (PermissionError(13, "Permission denied", "/srv/runs/run/history.json"),
     "history.json cannot be read (permission denied)"),
    (OSError(5, "Input/output error", "/srv/runs/run/history.json"),
     "history.json cannot be read (Input/output error)"),
    (FileNotFoundError(2, "No such file or directory", "/srv/runs/run/history.json"),
     "history.json is missing"),  # deleted after the folder was listed
])
def test_an_unreadable_file_is_named_without_its_path(tmp_path, monkeypatch, error, message):
    folder = make_run(tmp_path / "run")

    def fake_open(path, *args, **kwargs):
        if Path(path).name == "history.json":
            raise error
        return open(path, *args, **kwargs)

    monkeypatch.setattr(runs, "open", fake_open, raising=False)
    with pytest.raises(runs.RunError) as err:
        runs.read_run(folder)
    assert str(err.value) == message


def test_scan_lists_every_run_newest_first_with_record_or_problem(tmp_path):
    make_run(tmp_path / "20250101-000000-lenet5-mnist")
    make_run(tmp_path / "20250301-000000-lenet5-mnist", history="[]")
    make_run(tmp_path / "20250201-000000-mnist_cnn-mnist", config=but(CONFIG, preset="mnist_cnn"))
    make_run(tmp_path / ".partial-20250401-000000-lenet5-mnist-abc123")  # being written
    (tmp_path / "notes.txt").write_text("not a run")
    scanned = runs.scan_runs(tmp_path)
    assert [(e.name, e.record is not None, e.problem) for e in scanned] == [
        ("20250301-000000-lenet5-mnist", False, "history.json is not a JSON object"),
        ("20250201-000000-mnist_cnn-mnist", True, None),
        ("20250101-000000-lenet5-mnist", True, None),
    ]
    assert scanned[1].record.config["preset"] == "mnist_cnn"
    assert runs.list_runs(tmp_path) == [tmp_path / "20250201-000000-mnist_cnn-mnist",
                                        tmp_path / "20250101-000000-lenet5-mnist"]


def test_a_missing_runs_folder_has_no_runs(tmp_path):
    assert runs.scan_runs(tmp_path / "nowhere") == [] and runs.list_runs(tmp_path / "nowhere") == []


def test_the_default_runs_folder_is_used(tmp_path, monkeypatch):
    make_run(tmp_path / "run")
    monkeypatch.setattr(runs, "DEFAULT_RUNS_DIR", tmp_path)
    assert [e.name for e in runs.scan_runs()] == ["run"]


@pytest.mark.parametrize("make", [
    lambda p: p.write_text("a file, not a folder"),
    lambda p: p.mkdir(),  # made unreadable below
])
def test_an_unlistable_runs_folder_shows_no_runs_and_logs_why(tmp_path, monkeypatch, caplog,
                                                             make):
    folder = tmp_path / "runs"
    make(folder)
    if folder.is_dir():
        def denied(self):
            raise PermissionError(13, "Permission denied", str(self))
        monkeypatch.setattr(Path, "iterdir", denied)
    with caplog.at_level(logging.WARNING, logger="cnnviz"):
        assert runs.scan_runs(folder) == []
    assert "cannot list the runs folder" in caplog.text
