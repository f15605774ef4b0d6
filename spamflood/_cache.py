"""Tables derived from the package's own files, kept on disk between runs.

Normalization's tables come from a scan of the Unicode database and the data files, about half
a second of every run before any post is read (on one core: the workers fork after it). They
depend only on their sources, so the first run keeps them beside the package's compiled code
(``__pycache__``, as numba keeps its kernels) under a key that is the SHA-256 of every source:
the code that builds them, the data files, the Unicode version. A changed source is a new key;
an unreadable, foreign or cut-short file is rebuilt; a folder that cannot be written is simply
not used. The file holds arrays and JSON (:mod:`spamflood._arrays_file`), never a pickle.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spamflood._arrays_file import pack, unpack

__all__ = ["CACHE_DIR", "key_of", "load", "save"]

CACHE_DIR = Path(__file__).resolve().parent / "__pycache__"
"""Where the tables are kept (a test points it elsewhere)."""

_MAGIC = b"spamflood cached tables 1\n"


def key_of(files: Iterable[Path]) -> str:
    """The SHA-256 of ``files``' bytes, this Python's version and its Unicode database's."""
    digest = hashlib.sha256(f"{sys.version}|{unicodedata.unidata_version}".encode())
    for path in files:
        digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _path(name: str, key: str) -> Path:
    return CACHE_DIR / f"{name}.{key[:24]}.tables"


def load(name: str, key: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The header and arrays kept as ``name`` under ``key``, or ``None`` (none kept, or unreadable)."""
    try:
        header, arrays = unpack(_MAGIC, _path(name, key).read_bytes())
    except (OSError, ValueError, UnicodeDecodeError, KeyError, TypeError):
        return None
    return (header, arrays) if header.get("key") == key else None


def save(name: str, key: str, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Keep ``header`` and ``arrays`` as ``name`` under ``key`` (written whole, then renamed into
    place: a reader sees the old file or the new one), and drop the files of other keys. Any
    failure to write is ignored: the tables are built again next time."""
    target = _path(name, key)
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=CACHE_DIR, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pack(_MAGIC, {**header, "key": key}, arrays))
            os.chmod(temporary, 0o644)  # readable as the package's other files are
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for stale in CACHE_DIR.glob(f"{name}.*.tables"):
            if stale != target:
                stale.unlink(missing_ok=True)
    except OSError:
        pass
