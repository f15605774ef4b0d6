"""The HTML report: the floods on a timeline, for people to look at.

:func:`build_report` turns a :class:`~spamflood.result.ScoreResult` into one self-contained
HTML page (inline CSS and SVG, no script, no network); :func:`write_report` saves it. The page
is aggregated, not a dump: its size depends on ``top`` and ``max_rows``, not on the feed, so a
million-post feed still gives a page of a few hundred kilobytes.

>>> from spamflood import Detector
>>> result = Detector().score([{"id": "1", "text": "hello", "author": "a", "time": 0}])
>>> build_report(result, title="demo").startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from spamflood.report.build import ReportData, aggregate
from spamflood.report.html import render

__all__ = ["ReportData", "aggregate", "build_report", "render", "report_command", "write_report"]


def build_report(
    result: Any,
    *,
    title: str = "spamflood report",
    top: int = 10,
    max_rows: int = 200,
    source: str | None = None,
    tz: str = "UTC",
    bins: int = 60,
) -> str:
    """The report page for ``result`` as an HTML string.

    ``top`` floods get a timeline, their text and accounts; ``max_rows`` highest-scored posts
    go in the table; ``source`` (a file name) is shown under the title; times are shown in
    ``tz`` (an IANA name such as ``Asia/Shanghai``); timelines have at most ``bins`` buckets.
    """
    data = aggregate(result, title=title, top=top, max_rows=max_rows, source=source, tz=tz, bins=bins)
    return render(data)


def write_report(result: Any, path: str | os.PathLike[str], **kw: Any) -> Path:
    """Write :func:`build_report` to ``path`` (UTF-8); returns the path. The page appears whole
    or not at all: a failure raises :class:`~spamflood.errors.OutputError` and leaves any
    previous file at ``path`` as it was.

    Text that cannot be encoded (a lone surrogate from a lenient reader) is written as ``?``
    rather than failing the whole report.
    """
    return _write(build_report(result, **kw), path)[0]


def report_command(result: Any, output_path: str | os.PathLike[str], **kw: Any) -> dict[str, Any]:
    """What ``spamflood report`` runs after scoring: write the page (keywords as for
    :func:`build_report`) and return facts for the command's summary line: ``path``, ``bytes``,
    ``floods_shown`` and ``floods`` (all floods found)."""
    data = aggregate(result, **kw)
    out, size = _write(render(data), output_path)
    return {"path": str(out), "bytes": size, "floods_shown": len(data.floods), "floods": data.floods_total}


def _write(page: str, path: str | os.PathLike[str]) -> tuple[Path, int]:
    """Write the page whole or not at all (:class:`~spamflood.io.atomic.AtomicOutput`)."""
    from spamflood.io.atomic import AtomicOutput

    raw = page.encode("utf-8", errors="replace")
    with AtomicOutput(path) as fh:
        fh.write(raw)
    return Path(path), len(raw)
