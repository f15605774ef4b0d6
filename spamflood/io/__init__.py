"""Reading feed exports into validated posts, and writing results.

One module per idea: :mod:`.fieldmap` (where fields live), :mod:`.timestamps` (time formats),
:mod:`.rows` (validation and rejects), :mod:`.readers` and :mod:`.writers` (file formats).
"""

from spamflood.io.fieldmap import FieldMap, preset_names
from spamflood.io.readers import FORMATS, ReadStats, detect_format, iter_chunks
from spamflood.io.rows import Reject, RowParser
from spamflood.io.timestamps import parse_time
from spamflood.io.writers import RecordWriter, open_writer, write_records

__all__ = [
    "FORMATS",
    "FieldMap",
    "ReadStats",
    "RecordWriter",
    "Reject",
    "RowParser",
    "detect_format",
    "iter_chunks",
    "open_writer",
    "parse_time",
    "preset_names",
    "write_records",
]
