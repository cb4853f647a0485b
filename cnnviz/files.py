"""Atomic writes: readers see the old file or the new one, never half of one, and a run folder
whole or not at all."""

from __future__ import annotations

import contextlib
import errno
import glob
import itertools
import json
import os
import tempfile
from pathlib import Path

PARTIAL_PREFIX = ".partial-"  # hidden: folder listings skip names starting with a dot


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temp path beside `path`; on success rename it over `path`, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; the final file is an ordinary one
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path, obj) -> Path:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
    return Path(path)


def read_json(path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# --- folders written as a whole ---------------------------------------------------------------


def _numbered(path: Path):
    """`path`, then `path-2`, `path-3`, ..."""
    yield path
    for n in itertools.count(2):
        yield path.with_name(f"{path.name}-{n}")


def free_dir_name(path) -> Path:
    """The first of `path`, `path-2`, ... that is neither a folder nor being written as one."""
    def taken(candidate: Path) -> bool:
        partials = candidate.parent.glob(f"{PARTIAL_PREFIX}{glob.escape(candidate.name)}-*")
        return candidate.exists() or next(partials, None) is not None

    return next(c for c in _numbered(Path(path)) if not taken(c))


def partial_dir(path) -> Path:
    """A new hidden folder beside `path`, to fill and then `publish_dir` under that name.

    Its name starts with the final one, so `free_dir_name` sees the final name as taken."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f"{PARTIAL_PREFIX}{path.name}-"))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the final folder is an ordinary one
    return tmp


def publish_dir(tmp, path) -> Path:
    """Rename the filled folder `tmp` to `path` in one step and return where it went.

    If another writer took `path` meanwhile, the next free `path-2`, ... is used instead: a
    rename would otherwise replace an empty folder of that name or fail on a full one."""
    candidates = _numbered(Path(path))
    while True:
        candidate = next(candidates)
        if candidate.exists():
            continue
        try:
            os.rename(tmp, candidate)
            return candidate
        except OSError as err:
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):  # not a lost race: a real error
                raise
