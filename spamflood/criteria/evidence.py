"""Evidence behind the criteria: which features hit in a post, and what they matched.

:func:`evaluate` computes the features once and returns values, per-label rule scores and, for
every post, the evidence of its fired labels: ``(feature, label, value, snippet)`` where the
snippet quotes what was found (``price "¥99"``, ``"中秋" 2 days before Mid-Autumn Festival
(2026-09-25)``). :func:`reasons` turns a post's evidence into one sentence per label.

>>> ev = explain(["限时特价¥99，加V抢购"])[0]
>>> reasons(ev)[0]
'soft_ad: price "¥99"; discount "特价"; disguised handle "加V"; call to action "抢购"; urgency "限时"'
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from spamflood._memory import collector_paused
from spamflood.criteria.compute import (
    build_context,
    compute_values,
    family_module,
    resolve_parameters,
)
from spamflood.criteria.lexicon import Scan
from spamflood.criteria.registry import FAMILIES, FEATURES, feature_names
from spamflood.criteria.rules import RULES, Rules
from spamflood.errors import ConfigError

__all__ = ["Evaluation", "Evidence", "evaluate", "explain", "reasons"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One hitting, reported feature of one post, with a human snippet of what it found."""

    feature: str
    label: str
    value: float
    snippet: str

    def __str__(self) -> str:
        return f"{self.label}: {self.snippet}"


@dataclass
class Evaluation:
    """Values (n x k, columns ``names``), per-label scores, and per-post evidence.

    ``found`` holds the evidence of the posts that have any (post -> list; posts whose evidence
    is the same, a cluster's, may hold one list: read it, do not change it); ``evidence`` is
    the same as one list of its own per post.
    """

    names: list[str]
    values: np.ndarray
    labels: dict[str, np.ndarray]
    found: dict[int, list[Evidence]]

    @property
    def evidence(self) -> list[list[Evidence]]:
        """Per post, its evidence (an empty list for most posts)."""
        out: list[list[Evidence]] = [[] for _ in range(self.values.shape[0])]
        for i, items in self.found.items():
            out[i] = list(items)
        return out

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]

    def sentences(self) -> dict[str, dict[int, str]]:
        """Per label, the reason sentence of every post where it has evidence (see
        :func:`reasons`): what a scorer shows, without one list per post."""
        out: dict[str, dict[int, str]] = {}
        said: dict[tuple[tuple[str, str], ...], list[tuple[str, str]]] = {}
        by_list: dict[int, list[tuple[str, str]]] = {}  # a list several posts hold: read once
        with collector_paused():
            for i, items in self.found.items():
                found = by_list.get(id(items))
                if found is None:
                    key = tuple((e.label, e.snippet) for e in items)
                    found = said.get(key)
                    if found is None:  # posts with the same evidence share one sentence object
                        found = said[key] = [(s.split(":", 1)[0], s) for s in reasons(items)]
                    by_list[id(items)] = found
                for label, sentence in found:
                    out.setdefault(label, {})[i] = sentence
        return out


def evaluate(
    data: Any,
    clusters: Any = None,
    *,
    families: Sequence[str] | None = None,
    tz: str = "UTC",
    normalized: bool = False,
    labels: Literal["fired", "all"] = "fired",
    rules: Rules | None = None,
    scan: Scan | None = None,
    dtype: Any = np.float64,
    originals: Sequence[str] | None = None,
) -> Evaluation:
    """Features, label scores and evidence for a batch in one pass.

    ``labels="fired"`` gives evidence only for labels whose rule fired (what a reason shows);
    ``"all"`` for every reported feature that hits. ``scan``: the texts' lexicon scan computed
    earlier (:func:`~spamflood.criteria.compute.scan_texts`), so that the texts are not
    normalized and scanned again. ``dtype``: of the values matrix (``float32`` halves its
    memory; every text feature is a small count, exact in either). ``originals``: with
    ``normalized=True``, the texts as written, which evidence quotes (without them it quotes
    the matching form).
    """
    if labels not in ("fired", "all"):
        raise ValueError(f"The 'labels' parameter must be 'fired' or 'all'. Got {labels!r} instead.")
    chosen, settings = _resolved(families, tz)
    rules = (rules or RULES).bind(min_posts=settings["min_posts"], min_accounts=settings["min_accounts"])
    ctx = build_context(
        data, clusters, chosen, tz=tz, normalized=normalized, settings=settings, scan=scan, originals=originals
    )
    computed = compute_values(ctx, chosen)
    layout = _layout(chosen)
    names = layout.names
    n = ctx.n
    # column-major: each feature's column is contiguous, so the per-feature views handed on
    # (rules, evidence, a scorer's feature columns) read memory in order, not a line per value
    matrix = np.stack([computed[name] for name in names], dtype=dtype).T if names else np.empty((n, 0), dtype)
    if matrix.dtype != np.float64:
        for j, name in enumerate(names):
            if not np.array_equal(matrix[:, j], computed[name], equal_nan=True):
                raise ConfigError(
                    f"The 'dtype' parameter {np.dtype(dtype).name} cannot hold the values of {name} exactly; "
                    f"use float64 for this family."
                )
    # read the matrix from here on: the computed columns and the counts behind them can go
    del computed
    ctx.forget_counts()
    values = {name: matrix[:, j] for j, name in enumerate(names)}
    plan = rules.plan(names)
    hit = plan.hits(matrix)  # each condition once; the labels follow from the hits
    fired = plan.fired(hit)
    scores = {label: on.astype(np.float64) for label, on in fired.items()}
    # per family: its reported features that hit, on the posts that get evidence (a family
    # whose label fired nowhere is skipped; a label fires only where its reported features hit)
    plans = []
    wanted = np.zeros(n, dtype=bool)
    for family, fam_names, reported, reported_at, quotes in layout.families:
        rows = fired[family] if labels == "fired" else hit[:, reported_at].any(axis=1)
        posts = np.flatnonzero(rows)
        if posts.size:
            plans.append((family, fam_names, reported, hit[np.ix_(posts, reported_at)], posts))
            if quotes:  # its snippets quote the text's matches
                wanted[posts] = True
    found: dict[int, list[Evidence]] = {}
    with collector_paused():
        if wanted.any() and ctx.scanner is not None:
            ctx.prefetch_matches(np.flatnonzero(wanted).tolist())
        for family, fam_names, reported, hit_rows, posts in plans:
            module = family_module(family)
            columns = [values[nm] for nm in fam_names]
            keyed = getattr(module, "evidence_keys", None)
            if keyed is not None:
                # snippets that follow from the values (and a key such as the author) are built
                # once per distinct row: every post of a cluster shares its sentence
                posts, hit_rows, share = _distinct_rows(posts, hit_rows, columns, keyed(ctx))
            else:
                share = None
            for i, row_values, row_hits in _rows(posts, columns, hit_rows):
                hit_names = [nm for nm, on in zip(reported, row_hits) if on]
                row = dict(zip(fam_names, row_values))
                snippets = module.snippets(ctx, i, hit_names, row)
                items = [Evidence(nm, family, row[nm], snippets[nm]) for nm in hit_names if nm in snippets]
                if not items:
                    continue
                for j in share[i] if share is not None else (i,):
                    held = found.get(j)  # a post of another family's shared list gets a new one
                    found[j] = items if held is None else held + items
    return Evaluation(names, matrix, scores, {i: found[i] for i in sorted(found)})


def _resolved(families: Sequence[str] | None, tz: str) -> tuple[tuple[str, ...], dict[str, float]]:
    """:func:`resolve_parameters` of ``families`` and ``tz``, validated once per choice (a
    stream evaluates one post per call)."""
    if isinstance(tz, str) and (families is None or isinstance(families, (tuple, list))):
        try:
            chosen, settings = _resolved_once(None if families is None else tuple(families), tz)
        except TypeError:  # an unhashable family name: validated (and refused) below
            pass
        else:
            return chosen, dict(settings)
    return resolve_parameters(families, tz=tz)


@functools.lru_cache(maxsize=64)
def _resolved_once(families: tuple[str, ...] | None, tz: str) -> tuple[tuple[str, ...], dict[str, float]]:
    return resolve_parameters(families, tz=tz)


@dataclass(frozen=True)
class _Layout:
    """What follows from the families alone: the feature columns and, per family with
    reported features, its features, the reported ones and their columns, and whether its
    evidence quotes the text."""

    names: list[str]
    families: list[tuple[str, list[str], list[str], np.ndarray, bool]]


@functools.lru_cache(maxsize=64)
def _layout(chosen: tuple[str, ...]) -> _Layout:
    names = feature_names(chosen)
    at = {name: j for j, name in enumerate(names)}
    families = []
    for family in chosen:
        fam_names = [nm for nm in names if FEATURES[nm].label == family]
        reported = [nm for nm in fam_names if FEATURES[nm].reported]
        if reported:
            columns = np.array([at[nm] for nm in reported], dtype=np.intp)
            families.append((family, fam_names, reported, columns, bool(family_module(family).LISTS)))
    return _Layout(names, families)


def _distinct_rows(
    posts: np.ndarray, hit_rows: np.ndarray, columns: list[np.ndarray], keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[int, list[int]]]:
    """One post per distinct (hits, values, key) row, and for each such post every post that has
    its row (equal bytes: NaN equals NaN), in order."""
    rows = np.column_stack([hit_rows.astype(np.float64)] + [col[posts].astype(np.float64) for col in columns]
                           + [keys[posts].astype(np.float64)])
    first, inverse = _group_rows(rows)
    order = np.argsort(first, kind="stable")  # groups in the order of their first post
    firsts = posts[first[order]]
    rank = np.empty(order.shape[0], dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    members: list[list[int]] = [[] for _ in range(order.shape[0])]
    for post, group in zip(posts.tolist(), rank[inverse].tolist()):
        members[group].append(post)
    share = dict(zip(firsts.tolist(), members))
    return firsts, hit_rows[first[order]], share


def _group_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows of float64: the first row of each group of equal rows (equal bits) and each
    row's group, via a 64-bit hash of the row checked against the group's first row (a sort of
    whole rows, ``np.unique(axis=0)``, is several times slower)."""
    bits = np.ascontiguousarray(rows).view(np.uint64).reshape(rows.shape[0], -1)
    with np.errstate(over="ignore"):
        h = np.full(rows.shape[0], 0x9E3779B97F4A7C15, dtype=np.uint64)
        for j in range(bits.shape[1]):
            h = (h ^ bits[:, j]) * np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(31)
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if np.array_equal(bits, bits[first[inverse]]):
        return first, inverse
    _, first, inverse = np.unique(bits, axis=0, return_index=True, return_inverse=True)  # a collision
    return first, inverse.reshape(-1)


def _rows(
    posts: np.ndarray, columns: list[np.ndarray], hit_rows: np.ndarray, block: int = 65536
) -> Iterator[tuple[int, list[float], list[bool]]]:
    """Per post: its index, its values as Python floats, its hits as bools; made a block at a
    time so that a million posts never become a million lists at once."""
    for lo in range(0, posts.shape[0], block):
        at = posts[lo : lo + block]
        stacked = np.column_stack([col[at] for col in columns]).astype(np.float64, copy=False)
        yield from zip(at.tolist(), stacked.tolist(), hit_rows[lo : lo + block].tolist())


def explain(
    data: Any, clusters: Any = None, *, families: Sequence[str] | None = None, tz: str = "UTC"
) -> list[list[Evidence]]:
    """Per post, the evidence of the labels that fired (see :func:`evaluate`)."""
    return evaluate(data, clusters, families=families, tz=tz).evidence


def reasons(evidence: Sequence[Evidence]) -> list[str]:
    """One sentence per label, in label order: ``'soft_ad: price "¥99"; contact handle "加v"'``
    (features separated by ``;``, several matches of one feature by ``,``)."""
    by_label: dict[str, list[str]] = {}
    for e in evidence:
        by_label.setdefault(e.label, []).append(e.snippet)
    return [f"{label}: " + "; ".join(by_label[label]) for label in FAMILIES if label in by_label]
