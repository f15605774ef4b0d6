"""Named arrays and a JSON header in one byte string, read back without running any code.

The layout of a compiled model's trees file (:mod:`spamflood.model.compiled_file`) and of the
tables cached between runs (:mod:`spamflood._cache`): a first line naming the format, an 8-byte
little-endian header length, the JSON header (with each array's dtype, shape and offset), then
the arrays' bytes, each aligned to 16. The same header and arrays give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["pack", "unpack"]

_ALIGN = 16


def pack(magic: bytes, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """``header`` (JSON-able; its key ``"arrays"`` is this function's) and ``arrays`` as bytes."""
    table: dict[str, Any] = {}
    laid: list[np.ndarray] = []
    offset = 0
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        laid.append(array)
        table[name] = [array.dtype.str, list(array.shape), offset]
        offset += -(-array.nbytes // _ALIGN) * _ALIGN
    text = json.dumps({**header, "arrays": table}, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    out = bytearray(magic + len(text).to_bytes(8, "little") + text)
    out += bytes(-len(out) % _ALIGN)
    start = len(out)
    for (_, _, at), array in zip(table.values(), laid):
        out += bytes(start + at - len(out)) + array.tobytes()
    return bytes(out)


def unpack(magic: bytes, data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the (writable) arrays of ``data``; :class:`ValueError` if it is not such a
    byte string or is cut short."""
    if not data.startswith(magic):
        raise ValueError("not a file of this kind")
    at = len(magic)
    length = int.from_bytes(data[at : at + 8], "little")
    header = json.loads(data[at + 8 : at + 8 + length].decode("ascii"))
    start = at + 8 + length
    start += -start % _ALIGN
    buffer = bytearray(data[start:])  # writable arrays: compiled loops take them as written
    arrays = {}
    for name, (dtype, shape, offset) in header.pop("arrays").items():
        count = int(np.prod(shape, dtype=np.int64))
        arrays[name] = np.frombuffer(buffer, dtype=np.dtype(dtype), count=count, offset=offset).reshape(shape)
    return header, arrays
