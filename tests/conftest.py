"""Point Keras at the real datasets (read-only, via a writable temp KERAS_HOME) before it loads."""

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("DATA_DIR", ROOT.parent / "shared" / "data" / "keras" / "datasets"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "KERAS_HOME" not in os.environ and DATA_DIR.is_dir():
    home = Path(tempfile.mkdtemp(prefix="keras-home-"))
    (home / "datasets").symlink_to(DATA_DIR.resolve())
    os.environ["KERAS_HOME"] = str(home)


def real_data_available() -> bool:
    home = os.environ.get("KERAS_HOME")
    return bool(home) and (Path(home) / "datasets" / "mnist.npz").is_file()


requires_data = pytest.mark.skipif(
    not real_data_available(),
    reason="the real datasets are not linked in KERAS_HOME/datasets (see README, 'Data')",
)
