"""Run folders on disk: naming a new one, and reading finished ones back with validation.

A run folder holds `config.json` (the TrainConfig), `history.json` (curves and results),
`model.keras` and `logs/` (TensorBoard). `training.train` writes it as a whole; readers here
still check every file, since a run folder may come from an older version, another replica on
shared storage, or a hand edit. Messages name the file and what is wrong, never a server path.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cnnviz import files

DEFAULT_RUNS_DIR = Path(os.environ.get("CNNVIZ_RUNS_DIR", "runs"))

log = logging.getLogger("cnnviz")


def new_run_dir(config, runs_dir=None) -> Path:
    """A free name for a new run of `config` (a TrainConfig); the folder is not created."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(runs_dir or DEFAULT_RUNS_DIR) / f"{stamp}-{config.preset}-{config.dataset}"
    return files.free_dir_name(base)


class RunError(ValueError):
    """A run folder that cannot be read; the message says which file and what is wrong."""


@dataclass(frozen=True)
class RunRecord:
    name: str
    path: Path
    config: dict
    history: dict  # metric name -> one float per epoch
    test_accuracy: float
    test_loss: float | None
    seconds: float
    stopped_early: bool
    dataset_is_sample: bool


@dataclass(frozen=True)
class RunEntry:
    """One folder of the runs folder: `record` if it reads, else `problem` says why not."""
    name: str
    path: Path
    record: RunRecord | None
    problem: str | None


def _read_object(path: Path) -> dict:
    name = path.name
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except FileNotFoundError:
        raise RunError(f"{name} is missing") from None
    except PermissionError:
        raise RunError(f"{name} cannot be read (permission denied)") from None
    except OSError as err:  # strerror, not str(err): that one holds the full path
        raise RunError(f"{name} cannot be read ({err.strerror or type(err).__name__})") from None
    except (ValueError, RecursionError):  # invalid JSON or text, or absurdly deep nesting
        raise RunError(f"{name} is not valid JSON") from None
    if not isinstance(obj, dict):
        raise RunError(f"{name} is not a JSON object")
    return obj


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_curves(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(curve, list) and all(map(_is_number, curve)) for curve in value.values())


_REQUIRED = object()


def _field(obj: dict, file: str, key: str, valid, what: str, default=_REQUIRED):
    if key not in obj:
        if default is _REQUIRED:
            raise RunError(f"{file} has no {key!r}")
        return default
    if not valid(obj[key]):
        raise RunError(f"{key!r} in {file} is not {what}")
    return obj[key]


def _number_or_none(value) -> bool:
    return value is None or _is_number(value)


def read_run(run_dir) -> RunRecord:
    """A finished run, checked file by file; RunError says what is wrong in one sentence."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunError("the run folder no longer exists")
    config = _read_object(path / "config.json")
    saved = _read_object(path / "history.json")
    if not (path / "model.keras").is_file():
        raise RunError("model.keras is missing")
    is_text = lambda v: isinstance(v, str)  # noqa: E731
    for key in ("preset", "dataset"):
        _field(config, "config.json", key, is_text, "a string")
    h = "history.json"
    test_loss = _field(saved, h, "test_loss", _number_or_none, "a number", None)
    return RunRecord(
        name=path.name, path=path, config=config,
        history={k: [float(v) for v in curve] for k, curve in
                 _field(saved, h, "history", _is_curves, "lists of numbers by name").items()},
        test_accuracy=float(_field(saved, h, "test_accuracy", _is_number, "a number")),
        test_loss=None if test_loss is None else float(test_loss),
        seconds=float(_field(saved, h, "seconds", _is_number, "a number")),
        stopped_early=_field(saved, h, "stopped_early", lambda v: isinstance(v, bool),
                             "true or false"),
        dataset_is_sample=_field(saved, h, "dataset_is_sample", lambda v: isinstance(v, bool),
                                 "true or false", False),
    )


def _entry(path: Path) -> RunEntry:
    try:
        return RunEntry(path.name, path, read_run(path), None)
    except RunError as err:
        return RunEntry(path.name, path, None, str(err))


def scan_runs(runs_dir=None) -> list[RunEntry]:
    """Every run folder, newest first (names start with their time), read or with its problem.

    Hidden folders (runs still being written) are not runs yet. A runs folder that is missing
    holds no runs; one that cannot be listed is logged and shows none rather than failing."""
    runs_dir = Path(runs_dir or DEFAULT_RUNS_DIR)
    try:
        folders = [p for p in runs_dir.iterdir() if not p.name.startswith(".") and p.is_dir()]
    except FileNotFoundError:
        return []
    except OSError as err:
        log.warning("cannot list the runs folder %s: %s", runs_dir, err)
        return []
    return [_entry(p) for p in sorted(folders, key=lambda p: p.name, reverse=True)]


def list_runs(runs_dir=None) -> list[Path]:
    """The folders of the runs that read without a problem, newest first."""
    return [entry.path for entry in scan_runs(runs_dir) if entry.record is not None]
