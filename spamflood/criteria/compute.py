"""The criteria computed as plain functions: which lexicons families read, one scan of the
texts for all of them, a :class:`Context` over a batch, and every feature's values.

:class:`~spamflood.criteria.transformer.CriteriaFeatures` (the scikit-learn face) and
:func:`~spamflood.criteria.evaluate` both run on these, so scoring a batch needs no
scikit-learn import.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from spamflood import _params
from spamflood.criteria.context import Columns, Context, columns_from, scanner_for
from spamflood.criteria.lexicon import Scan
from spamflood.criteria.registry import COMPUTED_HERE, feature_names
from spamflood.criteria.rules import PARAMETERS
from spamflood.errors import ConfigError

__all__ = ["build_context", "compute_values", "family_module", "resolve_parameters", "scan_names", "scan_texts"]


def resolve_parameters(
    families: Sequence[str] | None = None,
    *,
    tz: Any = "UTC",
    min_posts: Any = PARAMETERS["min_posts"],
    min_accounts: Any = PARAMETERS["min_accounts"],
    created_window: Any = "1d",
) -> tuple[tuple[str, ...], dict[str, float]]:
    """The families to compute (registry order) and their settings, from the parameters of
    :class:`~spamflood.criteria.transformer.CriteriaFeatures`; a clear error for a bad one."""
    owner = "CriteriaFeatures"
    if families is None:
        chosen = COMPUTED_HERE
    else:
        if isinstance(families, str) or not isinstance(families, Iterable):
            _params.fail(owner, "families", "None or a list of family names", families)
        chosen = tuple(families)
        if not chosen:
            _params.fail(owner, "families", "None or a list naming at least one family", list(chosen))
        if any(f not in COMPUTED_HERE for f in chosen):
            expected = f"None or a list of families among {list(COMPUTED_HERE)} (mass_share and repetition come from the cluster stage)"
            _params.fail(owner, "families", expected, families)
        chosen = tuple(f for f in COMPUTED_HERE if f in chosen)
    _params.time_zone(owner, "tz", tz)
    min_posts = _params.integer(owner, "min_posts", min_posts, 2)
    min_accounts = _params.integer(owner, "min_accounts", min_accounts, 2)
    window = _params.duration(owner, "created_window", created_window)
    settings = {"min_posts": float(min_posts), "min_accounts": float(min_accounts), "created_window": window}
    return chosen, settings


@functools.cache
def family_module(family: str) -> ModuleType:
    """The module computing ``family`` (one of :data:`~spamflood.criteria.registry.COMPUTED_HERE`)."""
    if family not in COMPUTED_HERE:
        raise ConfigError(
            f"The feature family {family!r} is not computed by spamflood.criteria; "
            f"expected one of {list(COMPUTED_HERE)} (mass_share and repetition come from the cluster stage)"
        )
    return importlib.import_module(f"spamflood.criteria.{family}")


def _sources(families: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The lexicons and patterns the families read, by name (shared: do not modify)."""
    return _sources_of(tuple(families))


@functools.lru_cache(maxsize=64)
def _sources_of(families: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    lists: dict[str, Any] = {}
    patterns: dict[str, Any] = {}
    for family in families:
        module = family_module(family)
        lists.update(module.LISTS)
        patterns.update(module.PATTERNS)
    return lists, patterns


def _scan_names(lists: dict[str, Any], patterns: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The count names a scan over these sources has: list names, and pattern names (a
    :class:`~spamflood.criteria.lexicon.Router` fills several)."""
    scanner = scanner_for(lists, patterns)
    return list(scanner.list_names), list(scanner.pattern_names)


def build_context(
    data: Any,
    clusters: Any,
    families: Sequence[str],
    *,
    tz: str = "UTC",
    normalized: bool = False,
    settings: dict[str, float] | None = None,
    scan: Scan | None = None,
    originals: Sequence[str] | None = None,
) -> Context:
    """A :class:`Context` over ``data`` with one scanner for every list the families need.

    ``data``: what :func:`~spamflood.criteria.context.columns_from` reads, or :class:`Columns`
    made already (their clusters then stand, ``clusters`` must be None).
    ``scan``: the batch's scan computed earlier (:func:`scan_texts`); it must count every list
    and pattern the families read. ``originals``: the texts as written when ``data`` holds
    their matching form (``normalized``), for evidence to quote.
    """
    scanner = _scanner(tuple(families))
    if isinstance(data, Columns):
        if clusters is not None:
            raise ConfigError("Give the clusters in the Columns, not as 'clusters' too.")
        cols = data
    else:
        cols = columns_from(data, clusters)
    if scan is not None:
        if scan.n != len(cols):
            raise ConfigError(f"The 'scan' parameter covers {scan.n} posts; the data has {len(cols)}.")
        if scanner is not None:
            missing = [n for n in scanner.list_names if n not in scan.lists]
            missing += [n for n in scanner.pattern_names if n not in scan.patterns]
            if missing:
                raise ConfigError(
                    f"The 'scan' parameter lacks the counts of {missing}; compute it with "
                    f"scan_texts(texts, families) over these families ({list(families)})."
                )
    if originals is not None and len(originals) != len(cols):
        raise ConfigError(f"The 'originals' parameter holds {len(originals)} texts; the data has {len(cols)}.")
    return Context(
        cols, tz=tz, normalized=normalized, settings=settings or {}, scanner=scanner, given_scan=scan, originals=originals
    )


@functools.lru_cache(maxsize=64)
def _scanner(families: tuple[str, ...]) -> Any:
    """The scanner of every list and pattern ``families`` read (``None``: they read none)."""
    lists, patterns = _sources(families)
    return scanner_for(lists, patterns) if lists else None


def scan_texts(
    texts: Sequence[str], families: Sequence[str] | None = None, *, normalized: bool = False, keep_hits: bool = False
) -> Scan:
    """One lexicon scan of ``texts`` for every list and pattern ``families`` read (default:
    all), to hand to :func:`~spamflood.criteria.evaluate` later as ``scan=``.

    A pipeline that normalizes its texts in worker processes scans them there too, keeps
    :meth:`Scan.only` what the families evaluated later need, joins the chunks with
    :meth:`Scan.concat`, and so never normalizes or scans the batch again. ``keep_hits``:
    the scan also keeps where each match was, and the evidence of the texts evaluated with it
    is assembled from those hits (:class:`~spamflood.criteria.lexicon.ScanHits`).
    """
    chosen = COMPUTED_HERE if families is None else tuple(families)
    lists, patterns = _sources(chosen)
    if not lists:
        raise ConfigError(f"The families {list(chosen)} read no text; there is nothing to scan.")
    if isinstance(texts, str):
        raise ConfigError("scan_texts expects a sequence of texts; got a single str")
    if not normalized:
        from spamflood.normalize import normalize_many

        texts = normalize_many(texts)
    return scanner_for(lists, patterns).scan(texts, keep_hits=keep_hits)


def scan_names(families: Sequence[str]) -> tuple[list[str], list[str]]:
    """The list and pattern names ``families`` read: what :meth:`Scan.only` keeps for them."""
    lists, patterns = _sources(tuple(families))
    if not lists:
        return [], []
    return _scan_names(lists, patterns)


def compute_values(ctx: Context, families: Sequence[str]) -> dict[str, np.ndarray]:
    """Every feature of ``families`` over the context, by name."""
    out: dict[str, np.ndarray] = {}
    for family in families:
        values = family_module(family).compute(ctx)
        for name in feature_names([family]):
            if name not in values:
                raise AssertionError(f"family {family} did not compute {name}")  # a bug, not bad input
            out[name] = np.asarray(values[name], dtype=np.float64)
    return out
