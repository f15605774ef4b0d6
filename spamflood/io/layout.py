"""Plain inputs: how the lines of a text export, or the cells of a header-less CSV, become records.

Many labelled corpora are not JSON or CSV with a header: one message a line with its label
after ``==``, a ``label<TAB>text`` file without a header, a file per class. A :class:`Layout`
says how to read them, and :class:`InputFile` adds constant fields to every row of one file
(its label, when the file is the label):

- ``line_format``: a template such as ``"{text}=={label}"`` or ``"{label}\\t{text}"`` for the
  ``lines`` format (one record a line). The field ``text`` takes what the other fields leave:
  the others hold no separator, so ``{text}=={label}`` splits on the *last* ``==`` and
  ``{label},{text}`` on the *first* comma. A line that does not match is a bad row, rejected
  with the field whose separator is missing.
- ``columns``: the column names of a CSV/TSV without a header line (every line is a row).
- ``unsegment``: the text was word-segmented (jieba writes ``帅哥 约 吗``): its spaces are
  removed, except a space between two Latin letters or digits (``v 信 ab12 cd`` -> ``v信ab12 cd``).

Rows read through a layout carry :data:`ROW_KEY`, where they were read (``FILE:LINE``), to use
as their id (``--map id=@row``) when the file has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spamflood.errors import ConfigError

__all__ = ["ROW_KEY", "InputFile", "Layout", "LineFormat"]

ROW_KEY = "@row"
"""The field a layout gives each row: ``FILE:LINE``, where it was read (an id for files without one)."""

_PLACEHOLDER = re.compile(r"\{([A-Za-z_@][\w.@-]*)\}")
_ESCAPES = {"\\t": "\t", "\\\\": "\\"}
_SEGMENT_SPACE = re.compile(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])")


def unsegment(text: str) -> str:
    """``text`` without its word-segmentation spaces (kept between two Latin letters or digits).

    >>> unsegment(" v 信 ab12 cd 你 懂 的 ")
    'v信ab12 cd你懂的'
    """
    return _SEGMENT_SPACE.sub("", text.strip())


class LineFormat:
    """A compiled line template (plain structure: checks the template at construction).

    >>> LineFormat("{text}=={label}").split("a==b==1")
    {'text': 'a==b', 'label': '1'}
    >>> LineFormat("{label}\\\\t{text}").split("spam\\tWin a prize")
    {'label': 'spam', 'text': 'Win a prize'}
    """

    def __init__(self, template: str) -> None:
        self.template = template
        parts = _PLACEHOLDER.split(re.sub(r"\\\\|\\t", lambda m: _ESCAPES[m.group()], template))
        literals, names = parts[0::2], parts[1::2]  # literal, name, literal, ..., literal
        if not names:
            raise ConfigError(f"Line format '{template}' names no field; write fields in braces, e.g. '{{text}}=={{label}}'.")
        if len(set(names)) < len(names):
            raise ConfigError(f"Line format '{template}' names a field twice.")
        if any(not literal for literal in literals[1:-1]):
            raise ConfigError(
                f"Line format '{template}': two fields with nothing between them cannot be told apart; "
                "put a separator between them (e.g. '{label}\\t{text}')."
            )
        if any(c in literal for literal in literals for c in "{}"):
            raise ConfigError(f"Line format '{template}': a brace outside a field name; fields look like {{text}}.")
        self.names: tuple[str, ...] = tuple(names)
        self._literals = literals
        # the pattern up to each field's closing literal: the last one is the whole line's, the
        # others tell which separator a line that does not match lacks (:meth:`missing`)
        pattern = re.escape(literals[0])
        self._prefixes: list[re.Pattern[str]] = []
        for name, literal in zip(names, literals[1:]):
            pattern += ("(.*)" if name == "text" else "(.*?)") + re.escape(literal)
            self._prefixes.append(re.compile(pattern, re.DOTALL))
        self._regex = self._prefixes[-1]

    def split(self, line: str) -> dict[str, str] | None:
        """The fields of ``line`` (without its line end), or ``None`` when it does not match."""
        match = self._regex.fullmatch(line)
        return None if match is None else dict(zip(self.names, match.groups()))

    def missing(self, line: str) -> tuple[str, str]:
        """For a line that does not match: the field that cannot be found, and why."""
        if not line.startswith(self._literals[0]):
            return self.names[0], f"the line does not start with {self._literals[0]!r}"
        for k, (name, prefix) in enumerate(zip(self.names, self._prefixes)):
            literal = self._literals[k + 1]
            if literal and not prefix.match(line):
                after = self.names[k + 1] if k + 1 < len(self.names) else name
                return after, f"no {literal!r} in the line (before '{after}' in the line format '{self.template}')"
        return self.names[-1], f"the line does not end as the line format '{self.template}' says"

    def __repr__(self) -> str:
        return f"LineFormat({self.template!r})"


@dataclass(frozen=True)
class Layout:
    """How plain inputs become records: a line format (the ``lines`` format), the columns of a
    header-less CSV/TSV, and whether texts are word-segmented. Plain structure: checked at
    construction."""

    line_format: str | None = None
    columns: tuple[str, ...] | None = None
    unsegment: bool = False

    def __post_init__(self) -> None:
        if self.line_format is not None:
            object.__setattr__(self, "_lines", LineFormat(self.line_format))
        if self.columns is not None:
            names = [c.strip() for c in self.columns]
            if not names or any(not c for c in names) or len(set(names)) < len(names):
                raise ConfigError(f"--columns needs distinct, non-empty column names (e.g. label,text). Got {','.join(self.columns)!r}.")
            object.__setattr__(self, "columns", tuple(names))

    @classmethod
    def parse(cls, *, line_format: str | None = None, columns: str | None = None, unsegment: bool = False) -> Layout:
        """A layout from command-line text (``--columns label,text``)."""
        return cls(line_format=line_format, columns=None if columns is None else tuple(columns.split(",")), unsegment=unsegment)

    @property
    def lines(self) -> LineFormat:
        """The compiled line format (``{text}``, one message a line, when none was given)."""
        return getattr(self, "_lines", None) or LineFormat("{text}")

    def check(self, kind: str) -> None:
        """Refuse options that mean nothing for the input format ``kind``."""
        if kind != "lines" and (self.line_format is not None or self.unsegment):
            option = "--line-format" if self.line_format is not None else "--unsegment"
            raise ConfigError(f"{option} reads plain-text lines: give --format lines (the input is read as {kind}).")
        if kind not in ("csv", "tsv") and self.columns is not None:
            raise ConfigError(f"--columns names the cells of a header-less CSV/TSV; the input is read as {kind}.")

    def rows(self, lines: Iterator[tuple[int, str]], path: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """Records of the ``lines`` format: ``(line number, record)``; a line that does not
        match carries its reason and field under the reader's error keys."""
        from spamflood.io.rows import CSV_ERROR_FIELD_KEY, CSV_ERROR_KEY, CSV_RAW_KEY

        form = self.lines
        join = self.unsegment
        for number, line in lines:
            record: dict[str, Any] | None = form.split(line)
            if record is None:
                name, reason = form.missing(line)
                yield number, {CSV_ERROR_KEY: reason, CSV_ERROR_FIELD_KEY: name, CSV_RAW_KEY: [line]}
                continue
            if join and "text" in record:
                record["text"] = unsegment(record["text"])
            record[ROW_KEY] = f"{path}:{number}"
            yield number, record


@dataclass(frozen=True)
class InputFile:
    """One input file and the constant fields every one of its rows gets (``spam.txt:label=1``)."""

    path: str
    fields: Mapping[str, str] = field(default_factory=dict)

    _SPEC = re.compile(r"(?P<path>.+?):(?P<fields>[A-Za-z_@][\w.@-]*=[^,]*(?:,[A-Za-z_@][\w.@-]*=[^,]*)*)")

    @classmethod
    def parse(cls, spec: str) -> InputFile:
        """``PATH`` or ``PATH:FIELD=VALUE[,FIELD=VALUE...]``; a path that exists as written is a
        path, even with a colon in it.

        >>> InputFile.parse("postspam.log.seg:label=1")
        InputFile(path='postspam.log.seg', fields={'label': '1'})
        """
        match = cls._SPEC.fullmatch(spec)
        if match is None or spec == "-" or Path(spec).exists():
            return cls(spec)
        pairs = (item.partition("=") for item in match.group("fields").split(","))
        return cls(match.group("path"), {name: value for name, _, value in pairs})

    def __str__(self) -> str:
        return self.path if not self.fields else self.path + ":" + ",".join(f"{k}={v}" for k, v in self.fields.items())
