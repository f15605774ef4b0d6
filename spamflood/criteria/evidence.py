"""Evidence behind the criteria: which features hit in a post, and what they matched.

:func:`evaluate` computes the features once and returns values, per-label rule scores and, for
every post, the evidence of its fired labels: ``(feature, label, value, snippet)`` where the
snippet quotes what was found (``price "¥99"``, ``"中秋" 2 days before Mid-Autumn Festival
(2026-09-25)``). :func:`reasons` turns a post's evidence into one sentence per label.

>>> ev = explain(["限时特价¥99，加V抢购"])[0]
>>> reasons(ev)[0]
'soft_ad: price "¥99"; discount "特价"; disguised handle "加v"; call to action "抢购"; urgency "限时"'
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from spamflood.criteria.lexicon import Scan
from spamflood.criteria.registry import FAMILIES, FEATURES
from spamflood.criteria.rules import RULES, Rules, hits, label_scores
from spamflood.criteria.transformer import CriteriaFeatures, family_module
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

    ``found`` holds the evidence of the posts that have any (post -> list); ``evidence`` is
    the same as one list per post.
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
            out[i] = items
        return out

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]

    def sentences(self) -> dict[str, dict[int, str]]:
        """Per label, the reason sentence of every post where it has evidence (see
        :func:`reasons`): what a scorer shows, without one list per post."""
        out: dict[str, dict[int, str]] = {}
        said: dict[tuple[tuple[str, str], ...], list[tuple[str, str]]] = {}
        with _collector_paused():
            for i, items in self.found.items():
                key = tuple((e.label, e.snippet) for e in items)
                found = said.get(key)
                if found is None:  # posts with the same evidence share one sentence object
                    found = said[key] = [(s.split(":", 1)[0], s) for s in reasons(items)]
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
) -> Evaluation:
    """Features, label scores and evidence for a batch in one pass.

    ``labels="fired"`` gives evidence only for labels whose rule fired (what a reason shows);
    ``"all"`` for every reported feature that hits. ``scan``: the texts' lexicon scan computed
    earlier (:func:`~spamflood.criteria.transformer.scan_texts`), so that the texts are not
    normalized and scanned again. ``dtype``: of the values matrix (``float32`` halves its
    memory; every text feature is a small count, exact in either).
    """
    if labels not in ("fired", "all"):
        raise ValueError(f"The 'labels' parameter must be 'fired' or 'all'. Got {labels!r} instead.")
    rules = rules or RULES
    est = CriteriaFeatures(families=families, tz=tz, normalized=normalized).fit()
    ctx, values = est.transform_values(data, clusters, scan=scan)
    names = list(est.get_feature_names_out())
    n = ctx.n
    matrix = np.empty((n, len(names)), dtype=dtype)
    for j, name in enumerate(names):
        matrix[:, j] = values[name]
        if matrix.dtype != np.float64 and not np.array_equal(matrix[:, j], values[name], equal_nan=True):
            raise ConfigError(
                f"The 'dtype' parameter {np.dtype(dtype).name} cannot hold the values of {name} exactly; "
                f"use float64 for this family."
            )
    if matrix.dtype == np.float64:  # read the matrix from here on: the computed columns can go
        values = {name: matrix[:, j] for j, name in enumerate(names)}
        ctx.forget_counts()
    scores = label_scores(values, rules=rules)
    hit = hits(values, rules=rules)
    # per family: its reported features that hit, on the posts that get evidence
    plans = []
    wanted = np.zeros(n, dtype=bool)
    for family in est.families_:
        fam_names = [nm for nm in names if FEATURES[nm].label == family]
        reported = [nm for nm in fam_names if FEATURES[nm].reported]
        if not reported:
            continue
        hit_matrix = np.column_stack([hit[nm] for nm in reported])
        rows = hit_matrix.any(axis=1)
        if labels == "fired":
            rows &= scores[family] > 0
        posts = np.flatnonzero(rows)
        if posts.size:
            plans.append((family, fam_names, reported, hit_matrix[posts], posts))
            if family_module(family).LISTS:  # its snippets quote the text's matches
                wanted[posts] = True
    found: dict[int, list[Evidence]] = {}
    with _collector_paused():
        if wanted.any() and ctx.scanner is not None:
            ctx.prefetch_matches(np.flatnonzero(wanted).tolist())
        for family, fam_names, reported, hit_rows, posts in plans:
            module = family_module(family)
            snippets_of = module.snippets
            # families whose snippets follow from the values (and a key such as the author)
            # build them once per distinct row: every post of a cluster shares its sentence
            keyed = getattr(module, "evidence_key", None)
            memo: dict[Any, list[Evidence]] = {}
            for i, row_values, row_hits in _rows(posts, [values[nm] for nm in fam_names], hit_rows):
                key = None
                if keyed is not None:
                    key = (tuple(row_hits), tuple(v if v == v else None for v in row_values), keyed(ctx, i))
                    items = memo.get(key)
                    if items is not None:
                        if items:
                            found.setdefault(i, []).extend(items)
                        continue
                chosen = [nm for nm, on in zip(reported, row_hits) if on]
                row = dict(zip(fam_names, row_values))
                snippets = snippets_of(ctx, i, chosen, row)
                items = [Evidence(nm, family, row[nm], snippets[nm]) for nm in chosen if nm in snippets]
                if key is not None:
                    memo[key] = items
                if items:
                    found.setdefault(i, []).extend(items)
    return Evaluation(names, matrix, scores, {i: found[i] for i in sorted(found)})


def _rows(
    posts: np.ndarray, columns: list[np.ndarray], hit_rows: np.ndarray, block: int = 65536
) -> Iterator[tuple[int, list[float], list[bool]]]:
    """Per post: its index, its values as Python floats, its hits as bools; made a block at a
    time so that a million posts never become a million lists at once."""
    for lo in range(0, posts.shape[0], block):
        at = posts[lo : lo + block]
        stacked = np.column_stack([col[at] for col in columns]).astype(np.float64, copy=False)
        yield from zip(at.tolist(), stacked.tolist(), hit_rows[lo : lo + block].tolist())


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while evidence is built: it makes many small objects
    without cycles (refcounting frees them), and each collection it would trigger walks every
    object of the process, which for a large batch costs more than the evidence itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
