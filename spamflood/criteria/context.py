"""What the feature families read: one batch as columns, normalized once, scanned once.

:func:`columns_from` accepts the three input shapes the transformer takes (a
:class:`~spamflood.posts.PostBatch`, a pandas DataFrame with canonical columns, or texts alone)
and never fails on a missing optional field: the field is ``None`` and the features that need it
come out NaN. A post without an author (none given, or its own id, which a reader gives such a
post) is no account: its author is ``None``, and a batch where no post has one has no authors. :class:`Context` computes, lazily and once, what several families share: the
normalized texts, the Aho-Corasick scan, local days and minutes, author codes.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from itertools import repeat
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from spamflood.criteria.lexicon import LEXICON_DIR, Lexicon, Match, Scan, Scanner, load_lexicon
from spamflood.criteria.quotes import original
from spamflood.errors import ConfigError, InputError
from spamflood.posts import PostBatch, dense_codes, unknown_authors

if TYPE_CHECKING:
    from spamflood.accounts.evidence import AccountEvidence

__all__ = ["Columns", "Context", "columns_from", "lexicon", "scanner_for"]

TEXT_COLUMNS = ("author_name", "author_bio")
NUMBER_COLUMNS = ("author_created", "followers", "following", "statuses")


@dataclass
class Columns:
    """A batch as plain columns; ``None`` for a field the input does not have."""

    texts: list[str]
    authors: list[str | None] | None = None
    """Per post its account, ``None`` for a post without one; ``None`` when no post has one."""
    times: np.ndarray | None = None
    author_name: list[str | None] | None = None
    author_bio: list[str | None] | None = None
    author_created: np.ndarray | None = None
    followers: np.ndarray | None = None
    following: np.ndarray | None = None
    statuses: np.ndarray | None = None
    clusters: np.ndarray | None = None
    seconds_accounts: tuple[int, int] | None = None
    """When the batch is a part of a feed holding whole accounts (the Spark engine): the feed's
    accounts with a timed post and those with a time off the whole minute, from which
    ``auto_posting`` judges each account's timestamp precision; ``None``: the batch is the feed."""
    accounts: AccountEvidence | None = None
    """When the batch is a part of a feed (the Spark engine's tasks): the evidence of each of
    the feed's accounts among all the others, measured once over the whole feed, from which
    ``batch_accounts`` judges a post's own account; ``None``: the batch is the feed and its
    accounts are measured here."""
    template_shares: tuple[np.ndarray, np.ndarray] | None = None
    """Per post, the accounts and the posts that share its festival template, counted by the
    caller (the stream engine counts a post's near-duplicate cluster inside the window);
    ``None``: ``holiday_template`` counts them over the batch, by template skeleton."""
    account_codes: np.ndarray | None = None
    """Per post its account's code as :meth:`Context.author_codes` numbers them, when the
    caller has them (:meth:`~spamflood.posts.PostBatch.account_codes`, computed once per batch)."""

    def __len__(self) -> int:
        return len(self.texts)


def _epoch(values: Any, name: str) -> np.ndarray:
    """Seconds since the epoch from numbers, datetimes or pandas datetime columns (NaN if missing)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas comes with the parquet extra
        pd = None
    if pd is not None and isinstance(values, pd.Series):
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            ts = values.dt.tz_convert("UTC") if values.dt.tz is not None else values.dt.tz_localize("UTC")
            seconds = (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds()  # any resolution (ns, us, s)
            return seconds.to_numpy(dtype=np.float64, na_value=np.nan)
        values = values.to_list()
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v is None:
            continue
        if hasattr(v, "timestamp"):
            try:
                if getattr(v, "tzinfo", None) is None and hasattr(v, "replace"):

                    v = v.replace(tzinfo=UTC)  # naive datetimes are read as UTC
                out[i] = float(v.timestamp())
            except (ValueError, OverflowError, OSError):
                continue
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise InputError(f"expected epoch seconds or a datetime, got {v!r}", line=i + 1, field=name) from None
    return out


def _strings(values: Any) -> list[str | None]:
    """A column as str or None (None for missing: None, NaN, pandas NA)."""
    if hasattr(values, "notna"):  # a pandas Series: mask missing values at C speed
        values = values.astype(object).where(values.notna(), None).tolist()
    return [v if v is None or type(v) is str else (None if isinstance(v, float) and math.isnan(v) else str(v)) for v in values]


def _clusters(values: Any, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.shape[0] != n:
        raise ConfigError(f"The 'clusters' parameter must hold one id per post ({n}). Got {arr.shape[0]} instead.")
    return np.where(np.isnan(arr), -1, arr).astype(np.int64)


def columns_from(data: Any, clusters: Any = None) -> Columns:
    """The batch in ``data`` (a PostBatch, a DataFrame, texts or Columns) as :class:`Columns`;
    ``clusters`` overrides a ``cluster`` column."""
    cols: Columns
    if isinstance(data, Columns):  # already columns (an engine that read the fields itself)
        cols = data
    elif isinstance(data, PostBatch):
        accounts = data.account_codes()
        cols = Columns(
            texts=list(data.texts),
            authors=_accounts(data.authors, accounts < 0),
            account_codes=accounts,
            times=np.asarray(data.times, dtype=np.float64),
            author_name=list(data.author_name) if any(x is not None for x in data.author_name) else None,
            author_bio=list(data.author_bio) if any(x is not None for x in data.author_bio) else None,
        )
        for name in NUMBER_COLUMNS:
            col = np.asarray(getattr(data, name), dtype=np.float64)
            setattr(cols, name, col if not np.isnan(col).all() else None)
        if clusters is None and "cluster" in data.extra:
            clusters = [np.nan if c is None else c for c in data.extra["cluster"]]
    elif hasattr(data, "columns") and hasattr(data, "iloc"):  # a pandas DataFrame
        if "text" not in data.columns:
            raise ConfigError(
                f"A DataFrame for the criteria needs a 'text' column; it has {list(map(str, data.columns))}"
            )
        texts = _strings(data["text"])
        cols = Columns(texts=[t if t is not None else "" for t in texts])
        if "author" in data.columns:
            ids = _strings(data["id"]) if "id" in data.columns else [None] * len(cols)
            authors = _strings(data["author"])
            cols.authors = _accounts(authors, unknown_authors(authors, ids))
        if "time" in data.columns:
            cols.times = _epoch(data["time"], "time")
        for name in TEXT_COLUMNS:
            if name in data.columns:
                setattr(cols, name, _strings(data[name]))
        for name in NUMBER_COLUMNS:
            if name in data.columns:
                values = _epoch(data[name], name) if name == "author_created" else _numbers(data[name], name)
                setattr(cols, name, values)
        if clusters is None and "cluster" in data.columns:
            clusters = data["cluster"].to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        if isinstance(data, str):
            raise ConfigError("Expected a sequence of texts, a PostBatch or a DataFrame; got a single str")
        arr = np.asarray(data, dtype=object)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ConfigError(
                f"Expected a sequence of texts (1-D), a PostBatch or a DataFrame; got an array of shape {arr.shape}"
            )
        items: list[str] = []
        for i, t in enumerate(arr):
            if not isinstance(t, str):
                raise InputError(f"expected a str, got {type(t).__name__}", line=i + 1, field="text")
            items.append(t)
        cols = Columns(texts=items)
    if clusters is not None:
        cols.clusters = _clusters(clusters, len(cols))
    return cols


def _accounts(authors: Sequence[str | None], unknown: np.ndarray) -> list[str | None] | None:
    """The authors with ``None`` for a post without one (``unknown``: see
    :func:`~spamflood.posts.unknown_authors`), or ``None`` when no post has one."""
    if unknown.all():
        return None
    out: list[str | None] = list(authors)
    for i in np.flatnonzero(unknown).tolist():
        out[i] = None
    return out


def _numbers(values: Any, name: str) -> np.ndarray:
    try:
        import pandas as pd

        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    except (ImportError, TypeError):  # pragma: no cover
        return np.asarray(values, dtype=np.float64)


# --------------------------------------------------------------------------- lexicons, scanners

_LEXICONS: dict[str, Any] = {}
_SCANNERS: dict[tuple[str, ...], Scanner] = {}


def lexicon(name: str, tags: Iterable[str] | None = None) -> Lexicon:
    """The lexicon file ``name`` (``.txt`` in the lexicon folder), loaded once per process."""
    found = _LEXICONS.get(name)
    if found is None:
        found = _LEXICONS[name] = load_lexicon(LEXICON_DIR / f"{name}.txt", tags=tags)
    return found


def scanner_for(
    lists: dict[str, Callable[[], Iterable[str]] | None], patterns: dict[str, Callable[[], Any]]
) -> Scanner:
    """One :class:`Scanner` per set of lists and patterns, built on first use and kept."""
    key = tuple(sorted(lists)) + ("|",) + tuple(sorted(patterns))
    found = _SCANNERS.get(key)
    if found is None:
        lexicons = [lexicon(name, None if tags is None else tags()) for name, tags in sorted(lists.items())]
        found = _SCANNERS[key] = Scanner(lexicons, {name: make() for name, make in sorted(patterns.items())})
    return found


# --------------------------------------------------------------------------- the context


@dataclass
class Context:
    """One batch, as every family sees it. Everything derived is computed on first use.

    ``scan``: the batch's lexicon scan when it was computed earlier (see
    :func:`~spamflood.criteria.compute.scan_texts`); the texts are then normalized only
    for the few posts whose evidence or template is read.
    """

    cols: Columns
    tz: str = "UTC"
    normalized: bool = False
    settings: dict[str, float] = field(default_factory=dict)
    scanner: Scanner | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    given_scan: Scan | None = None
    originals: Sequence[str] | None = None
    """The texts as written, when ``cols.texts`` are their matching form (``normalized``):
    what evidence quotes (see :meth:`quote`)."""

    @property
    def n(self) -> int:
        return len(self.cols.texts)

    @property
    def texts(self) -> list[str]:
        """The matching form of every text (see :func:`spamflood.normalize.normalize`)."""
        found = self.cache.get("texts")
        if found is None:
            if self.normalized:
                found = self.cols.texts
            else:
                from spamflood.normalize import normalize_many

                found = normalize_many(self.cols.texts)
            self.cache["texts"] = found
        return found

    def texts_at(self, index: Iterable[int]) -> list[str]:
        """The matching form of the texts at ``index``, normalizing only those (unless every
        text already is)."""
        index = list(index)
        found = self.cache.get("texts")
        if found is None and self.normalized:
            found = self.cols.texts
        if found is not None:
            return [found[i] for i in index]
        some: dict[int, str] = self.cache.setdefault("some_texts", {})
        todo = [i for i in dict.fromkeys(index) if i not in some]
        if todo:
            from spamflood.normalize import normalize_many

            some.update(zip(todo, normalize_many([self.cols.texts[i] for i in todo])))
        return [some[i] for i in index]

    def text(self, i: int) -> str:
        """The matching form of text ``i``."""
        if self.normalized:
            return self.cols.texts[i]
        found = self.cache.get("texts")
        return found[i] if found is not None else self.texts_at((i,))[0]

    @property
    def scan(self) -> Scan:
        found = self.cache.get("scan")
        if found is None:
            if self.given_scan is not None:
                found = self.given_scan
            elif self.scanner is None:
                raise ConfigError("This context was built without a scanner; text features need one")
            else:
                found = self.scanner.scan(self.texts)
            self.cache["scan"] = found
        return found

    def prefetch_matches(self, index: Iterable[int]) -> None:
        """Find the matches of the posts at ``index`` (see :meth:`matches`): from the hits the
        scan kept (``scan_texts(..., keep_hits=True)``), else by one pass over their texts, a
        text posted many times (a flood's copies) matched once, its posts sharing the list."""
        if self.scanner is None:
            return
        known: dict[int, list[Match]] = self.cache.setdefault("matches", {})
        todo = [i for i in dict.fromkeys(index) if i not in known]
        hits = self.cache.get("scan_hits")
        if todo and hits is not None:  # the scan kept where it found them
            found_at = hits.matches(todo)
            if hits.scanner is not self.scanner:  # it scanned for more families: their matches are not quoted here
                sources = set(self.scanner.list_names) | set(self.scanner.pattern_names)
                found_at = [[m for m in found if m.source in sources] for found in found_at]
            known.update(zip(todo, found_at))
        elif todo:
            texts = self.texts_at(todo)
            distinct = list(dict.fromkeys(texts))
            found = dict(zip(distinct, self.scanner.matches_many(distinct)))
            known.update(zip(todo, map(found.__getitem__, texts)))

    def matches(self, i: int) -> list[Match]:
        """Every lexicon and pattern match in post ``i`` (for evidence)."""
        known: dict[int, list[Match]] = self.cache.setdefault("matches", {})
        found = known.get(i)
        if found is None:
            if self.scanner is None:
                raise ConfigError("This context was built without a scanner; text evidence needs one")
            found = known[i] = self.scanner.matches(self.text(i))
        return found

    def quote(self, i: int, match: Match) -> str:
        """What ``match`` (of :meth:`matches`, or a span of :meth:`text`) quotes in post ``i``,
        as the post writes it (:func:`~spamflood.criteria.quotes.original`); its matching form
        when the texts as written were not given."""
        if not self.normalized:
            written = self.cols.texts[i]
        elif self.originals is not None:
            written = self.originals[i]
        else:
            return match.text
        return original(written, self.text(i), match.start, match.end)

    def raw_count(self, name: str) -> np.ndarray:
        """Matches per post of a list or pattern, as the scan holds them (an integer array; do
        not modify it)."""
        scan = self.scan
        arr = scan.lists.get(name)
        if arr is None:
            arr = scan.patterns[name]
        return arr

    def count(self, name: str) -> np.ndarray:
        """Matches per post of a list or pattern, as float64."""
        return self.raw_count(name).astype(np.float64)

    def forget_counts(self) -> None:
        """Drop the scan and the count sums kept for the features once they are computed:
        evidence reads matches, not counts, and a million posts' counts are large."""
        scan = self.given_scan if self.given_scan is not None else self.cache.get("scan")
        if scan is not None and scan.hits is not None and len(scan.hits.texts) == self.n:
            self.cache["scan_hits"] = scan.hits  # where the matches were, which evidence reads
        for key in ("scan", "soft_ad", "soft_ad_signals", "soft_ad_promotion"):
            self.cache.pop(key, None)
        self.given_scan = None

    # -- time ---------------------------------------------------------------------

    @property
    def has_times(self) -> bool:
        found = self.cache.get("has_times")
        if found is None:
            found = self.cache["has_times"] = self.cols.times is not None and not np.isnan(self.cols.times).all()
        return found

    def local_seconds(self) -> np.ndarray:
        """Seconds since the epoch shifted to local wall-clock time in ``tz`` (NaN if unknown)."""
        found = self.cache.get("local")
        if found is None:
            times = self.cols.times
            assert times is not None
            found = times.copy()
            if self.tz.upper() != "UTC":
                zone = ZoneInfo(self.tz)
                known = ~np.isnan(times)
                quarter = np.floor(times[known] / 900.0)
                uniq, inverse = np.unique(quarter, return_inverse=True)
                from datetime import datetime, timedelta

                offsets = np.array(
                    [
                        (datetime.fromtimestamp(q * 900.0, tz=UTC).astimezone(zone).utcoffset() or timedelta(0)).total_seconds()
                        for q in uniq
                    ]
                )
                found[known] = times[known] + offsets[inverse]
            self.cache["local"] = found
        return found

    def local_day(self) -> np.ndarray:
        """Local day number (days since 1970-01-01 in ``tz``) per post; -1 when the time is unknown."""
        found = self.cache.get("local_day")
        if found is None:
            local = self.local_seconds()
            found = np.where(np.isnan(local), -1, np.floor(np.nan_to_num(local) / 86400.0)).astype(np.int64)
            self.cache["local_day"] = found
        return found

    def local_minute(self) -> np.ndarray:
        """Local minute of the day (0..1439) per post; -1 when unknown. Computed once per batch:
        evidence asks for it post by post."""
        found = self.cache.get("local_minute")
        if found is None:
            local = self.local_seconds()
            found = np.where(
                np.isnan(local), -1, np.floor(np.mod(np.nan_to_num(local), 86400.0) / 60.0)
            ).astype(np.int64)
            self.cache["local_minute"] = found
        return found

    # -- authors ------------------------------------------------------------------

    def author_codes(self) -> np.ndarray | None:
        """Authors as dense int codes, -1 for a post without an author (no account), or
        ``None`` when no post has one."""
        authors = self.cols.authors
        if authors is None:
            return None
        found = self.cache.get("authors")
        if found is None and self.cols.account_codes is not None:
            found = self.cache["authors"] = self.cols.account_codes
        if found is None:
            found = dense_codes(authors)[0]
            none = np.fromiter(map(operator.is_, authors, repeat(None)), dtype=np.bool_, count=len(authors))
            if none.any():  # None took one code: it becomes -1, and the codes after it close up
                gone = found[int(np.argmax(none))]
                found = np.where(none, -1, found - (found > gone))
            self.cache["authors"] = found
        return found

