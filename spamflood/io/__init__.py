"""Reading feed exports into validated posts, and writing results.

One module per idea: :mod:`.fieldmap` (where fields live), :mod:`.timestamps` (time formats),
:mod:`.counts` (count formats), :mod:`.rows` (validation and rejects), :mod:`.layout` (plain
inputs: line formats, header-less columns, files with constant fields), :mod:`.readers` and
:mod:`.writers` (file formats).
"""

from spamflood.io.counts import parse_count
from spamflood.io.fieldmap import FieldMap, preset_names
from spamflood.io.layout import InputFile, Layout
from spamflood.io.readers import (
    FORMATS,
    ReadStats,
    Truncated,
    detect_format,
    iter_chunks,
)
from spamflood.io.rows import FieldWarnings, Reject, RowParser
from spamflood.io.timestamps import parse_time
from spamflood.io.writers import RecordWriter, open_writer, write_records

__all__ = [
    "FORMATS",
    "FieldMap",
    "FieldWarnings",
    "InputFile",
    "Layout",
    "ReadStats",
    "RecordWriter",
    "Reject",
    "RowParser",
    "Truncated",
    "detect_format",
    "iter_chunks",
    "open_writer",
    "parse_count",
    "parse_time",
    "preset_names",
    "write_records",
]
