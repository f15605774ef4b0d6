"""From what was found to a verdict: the last step of every engine.

An engine (the batch :class:`~spamflood.detector.Detector`, the stream
:class:`~spamflood.stream.FloodMonitor`, the Spark engine) finds, for ``n`` posts, their
:class:`Findings`: the named feature columns (NaN where a feature's inputs are absent), per
label the posts where its own rule holds (``rules.toml``), and there the reason sentence that
quotes what was seen. :meth:`Decider.decide` turns findings into a :class:`Decision`:

* **labels are evidence**: a post lists exactly the labels whose rule fired on it, each with
  its sentence, like a SpamAssassin rule reports what it matched. The model never adds or
  hides one; its label heads only order them (strongest first);
* **the score** is the trained model's calibrated probability over the named features, or
  without a model the rule score of :mod:`spamflood.scoring` (``--rules``). Both list the same
  labels.

Which families an engine can run when follows from each label's scope in the registry
(:data:`~spamflood.criteria.registry.SCOPES`): :data:`POST_FAMILIES` read one post and run per
chunk; :data:`FEED_FAMILIES` read an author's posts or the whole feed and run once over the
batch; :data:`CLUSTER_FAMILIES` need the near-duplicate clusters. ``mass_share`` and
``repetition`` come from the cluster statistics (:class:`~spamflood.scoring.RuleScorer`),
``coordinated`` from the account network of :mod:`spamflood.coordination` (the batch detector
and Spark on its driver; the stream monitor grows it post by post, :mod:`spamflood.stream.coposting`).

A label fired on a post with none of its rules' features that the model's score weighs
hitting (no tree of the overall score splits on them: ``fan_farming`` for the bundled model,
whose training posts hardly ever show it, or ``soft_ad`` fired by a bank account to pay into
with no other soft_ad evidence) adds its rule strength to the model's score by noisy-or, so
its evidence flags a post even though the model cannot weigh it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spamflood._forked import Forked
from spamflood.criteria.registry import COMPUTED_HERE, FAMILIES, FEATURES, families_in
from spamflood.criteria.rules import Rules
from spamflood.errors import ConfigError
from spamflood.model.store import DeferredModel
from spamflood.scoring import RuleScorer, combine, rule_strength

__all__ = [
    "ACCOUNT_FAMILIES",
    "CLUSTER_FAMILIES",
    "FEED_FAMILIES",
    "FEED_WIDE_FAMILIES",
    "LABEL_FLOOR",
    "POST_FAMILIES",
    "WHOLE_BATCH_FAMILIES",
    "Decider",
    "Decision",
    "Findings",
    "cluster_findings",
]

POST_FAMILIES: tuple[str, ...] = tuple(f for f in families_in("post") if f in COMPUTED_HERE)
"""Families whose rule reads one post: computed per chunk, in the workers."""
FEED_FAMILIES: tuple[str, ...] = tuple(f for f in families_in("account", "batch") if f in COMPUTED_HERE)
"""Families that compare posts of an account or of the whole feed, not the clusters: computed
once over the batch, while the clusters are found."""
CLUSTER_FAMILIES: tuple[str, ...] = tuple(f for f in families_in("cluster") if f in COMPUTED_HERE)
"""Criteria families that read the clusters: computed once the clusters are known."""
ACCOUNT_FAMILIES: tuple[str, ...] = tuple(f for f in families_in("account") if f in COMPUTED_HERE)
"""Of the feed families, those that read one author's posts (an engine can run them per account)."""
FEED_WIDE_FAMILIES: tuple[str, ...] = tuple(f for f in families_in("batch") if f in COMPUTED_HERE)
"""Of the feed families, those that compare posts across the whole feed."""
WHOLE_BATCH_FAMILIES: tuple[str, ...] = tuple(f for f in COMPUTED_HERE if f in FEED_FAMILIES + CLUSTER_FAMILIES)
"""Every family computed over the whole batch (registry order)."""

_RANK = {name: i for i, name in enumerate(FEATURES)}
"""Each feature's place in the registry: the order of every engine's feature columns."""


def _rank(name: str) -> int:
    return _RANK.get(name, len(_RANK))

LABEL_FLOOR = 0.25
"""A trained model's label heads (which order the labels) run only where the overall score
reaches this (see :meth:`spamflood.model.FloodModel.score_all`)."""


@dataclass
class Findings:
    """What an engine found for ``n`` posts: feature columns (``values``), per label where its
    rule fired (``fired``), and per label the reason sentence of each post where it fired
    (``sentences``: sparse, since most posts have none and a million mostly-empty lists would
    be pickled from the workers and joined)."""

    values: dict[str, np.ndarray]
    fired: dict[str, np.ndarray]
    sentences: dict[str, dict[int, str]]
    n: int

    @classmethod
    def empty(cls, n: int) -> Findings:
        return cls({}, {}, {}, n)

    @classmethod
    def compute(
        cls,
        data: Any,
        clusters: np.ndarray | None,
        families: Sequence[str],
        tz: str,
        normalized: bool = False,
        scan: Any = None,
        dtype: Any = np.float64,
        originals: Sequence[str] | None = None,
    ) -> Findings:
        """The criteria ``families`` over ``data`` (see :func:`spamflood.criteria.evaluate`;
        ``originals``: the texts as written, which evidence quotes, when ``data`` is normalized)."""
        from spamflood.criteria import evaluate

        n = len(data)
        if not families or not n:
            return cls.empty(n)
        ev = evaluate(
            data, clusters, families=families, tz=tz, normalized=normalized, scan=scan, dtype=dtype, originals=originals
        )
        values = {name: ev.values[:, j] for j, name in enumerate(ev.names)}
        fired = {label: col > 0 for label, col in ev.labels.items() if label in families}
        return cls(values, fired, ev.sentences(), n)

    @classmethod
    def concat(cls, parts: list[Findings]) -> Findings:
        """Findings of consecutive posts, one after the other."""
        if not parts:
            return cls.empty(0)
        names = list(parts[0].values)
        labels = list(parts[0].fired)
        sentences: dict[str, dict[int, str]] = {}
        at = 0
        for part in parts:
            for label, said in part.sentences.items():
                sentences.setdefault(label, {}).update((i + at, s) for i, s in said.items())
            at += part.n
        return cls(
            {k: np.concatenate([p.values[k] for p in parts]) for k in names},
            {k: np.concatenate([p.fired[k] for p in parts]) for k in labels},
            sentences,
            at,
        )

    @classmethod
    def join(cls, parts: Sequence[Findings]) -> Findings:
        """Findings of other families for the same posts, side by side: features and labels in
        registry order, as one :meth:`compute` over all the families gives them."""
        if any(p.n != parts[0].n for p in parts):
            raise ValueError(f"findings of different lengths cannot be joined: {[p.n for p in parts]}")
        values = {k: v for p in parts for k, v in p.values.items()}
        fired = {k: v for p in parts for k, v in p.fired.items()}
        sentences = {k: v for p in parts for k, v in p.sentences.items()}
        return cls(
            {name: values[name] for name in sorted(values, key=_rank)},
            {label: fired[label] for label in FAMILIES if label in fired},
            sentences,
            parts[0].n if parts else 0,
        )

    def take(self, index: np.ndarray) -> Findings:
        """The findings of posts ``index``, in that order."""
        where: dict[int, list[int]] = {}
        for new, old in enumerate(index.tolist()):
            where.setdefault(old, []).append(new)
        sentences = {
            label: {new: s for old, s in said.items() for new in where.get(old, ())}
            for label, said in self.sentences.items()
        }
        return Findings(
            {k: v[index] for k, v in self.values.items()},
            {k: v[index] for k, v in self.fired.items()},
            sentences,
            len(index),
        )


def cluster_findings(
    scorer: RuleScorer, table: Any, author_codes: np.ndarray, authors: Sequence[str], times: np.ndarray
) -> Findings:
    """The cluster labels' findings (``mass_share``, ``repetition``) from cluster statistics
    (:func:`spamflood.cluster.cluster_stats`): their features, where their rules fire, and
    the reason there. ``author_codes`` below 0 are posts without a known author."""
    values = scorer.cluster_features(table, author_codes)
    scores = scorer.score(table, author_codes, list(authors), times, values)
    fired = {label: strength > 0 for label, strength in scores.strength.items()}
    return Findings(values, fired, dict(scores.reasons), len(author_codes))


@dataclass(frozen=True)
class Decision:
    """The verdict on ``n`` posts: the score, the labels (strongest first) with one reason each,
    and per label its sub-score on the posts that list it (0 where the label is not listed).

    ``label_scores``: without a model, the labels' rule strengths. With a model, a label's
    head, which only orders a post's labels: it runs where there is something to order, on
    the posts that list two or more labels and score at least :data:`LABEL_FLOOR`, and is 0
    elsewhere (a post listing one label has no sub-score); a label the model has no head for
    has its rule strength."""

    score: np.ndarray
    labels: list[list[str]]
    reasons: list[list[str]]
    label_scores: dict[str, np.ndarray]


class Decider:
    """Findings to a :class:`Decision`; every engine's last step (see the module docstring).

    Parameters
    ----------
    scorer : the rule scorer whose parameters (``min_authors``, ``min_copies``) bound the
        rules and give the rule score.
    model : a fitted :class:`~spamflood.model.FloodModel` (or a deferred one) giving the score;
        ``None``: the rule score.
    threshold : the score at which a post is flagged. A flagged post that lists no label (the
        model weighed features no rule fires on, such as a large cluster spread over months)
        gets one reason starting ``score:`` that names the features which raised its score,
        with their values: no flag without evidence, and still no label without its rule.
    """

    def __init__(self, scorer: RuleScorer, model: Any = None, threshold: float = 0.5) -> None:
        self.scorer = scorer
        self.model = model
        self.threshold = threshold
        self._compiled: tuple[Any, Any] | None = None  # (the model, its compiled form or None)
        self._weighed: tuple[Any, frozenset[str]] | None = None  # (the model, the features its score weighs)

    def _model_for(self, model: Any) -> Any:
        """What scores the posts: the model's trees compiled into one loop
        (:mod:`spamflood.model.compiled`: the same numbers, without a thread pool per tree, for
        one post and for a feed), or the model itself when it cannot be compiled exactly. A
        deferred model read with its trees file scores from those trees, never unpickled."""
        from spamflood.model.compiled import compile_model

        if isinstance(model, DeferredModel) and model.compiled is not None:
            return model.compiled
        model = model.result() if isinstance(model, DeferredModel) else model
        if self._compiled is None or self._compiled[0] is not model:
            self._compiled = (model, compile_model(model))
        return self._compiled[1] or model

    def _weighed_features(self, model: Any) -> frozenset[str]:
        """:func:`_weighed` of ``model``, found once per model (a stream decides post by post)."""
        if self._weighed is None or self._weighed[0] is not model:
            self._weighed = (model, _weighed(model))
        return self._weighed[1]

    @property
    def compiled(self) -> bool:
        """Whether the model scores through the compiled loop (:meth:`_model_for`), which
        starts no OpenMP thread pool: a process forked after scoring may then score with it
        (scikit-learn's trees may not: a forked copy can hang on the pool its parent started)."""
        from spamflood.model.compiled import CompiledModel

        return self.model is not None and isinstance(self._model_for(self.model), CompiledModel)

    def fitted_model(self) -> Any:
        """The model, once a deferred one has finished loading (``None`` without one)."""
        return self.model.result() if isinstance(self.model, DeferredModel) else self.model

    def decide(
        self,
        findings: Findings,
        *,
        texts: list[str] | None = None,
        text_scores: np.ndarray | None = None,
        beside: Callable[[Callable[[], list[str]]], Forked[list[str]]] | None = None,
    ) -> Decision:
        """Every post's score, its fired labels ordered strongest first, and their reasons.

        ``texts``: the raw texts, read only by a model with a text part. ``text_scores``: that
        part's probability of each post, where the engine computed it already (the chunks hold
        the matching forms: :mod:`spamflood.chunks`); a compiled model reads it instead of
        scoring the texts again. ``beside``: starts a call where the engine chooses (the batch
        detector: a forked copy, on the other core) and gives it as a :class:`~spamflood._forked.Forked`; the
        ``score:`` reasons of flagged posts without a label are made so while the labels'
        reasons are put together. ``None``: one after the other.
        """
        n = findings.n
        fired, strength = self._fired(findings)
        model = None if self.model is None else self._model_for(self.model)  # what scores: compiled where it can be
        if model is None:
            score = combine(strength, n)
            order = strength
            sub_scores = strength
        else:
            listed = np.count_nonzero(np.stack(list(fired.values())), axis=0) if fired else np.zeros(n, dtype=np.int64)
            score, heads = _model_scores(model, self._model_input(model, findings, texts, text_scores), n, listed >= 2, fired)
            score = self._raised(model, score, findings, fired, strength)
            sub_scores = {
                label: np.where(on, heads[label], 0.0) if label in heads else strength[label]
                for label, on in fired.items()
            }
            # labels in the order of their sub-scores (the heads where they ran); the rule
            # strength (> 0 wherever a label fired) breaks ties
            order = {label: np.where(on, sub_scores[label] + 1e-12 * strength[label], 0.0) for label, on in fired.items()}
            del heads, strength  # freed before explain makes two lists per post, scoring's largest allocation
        silent: list[int] = []
        if model is not None:  # flagged, and no label listed (explain lists those with order > 0)
            quiet = np.asarray(score) >= self.threshold
            for label_order in order.values():
                quiet &= np.asarray(label_order) <= 0
            silent = np.flatnonzero(quiet).tolist()
        said: Forked[list[str]] | None = None
        if silent:
            call = functools.partial(_score_sentences, model, findings, texts, silent)
            said = beside(call) if beside is not None else Forked(call, fork=False)
        try:
            labels, reasons = explain(order, findings.sentences, n, findings.values)
            if said is not None:
                for i, sentence in zip(silent, said.result()):
                    reasons[i] = [sentence]
        finally:
            if said is not None:
                said.close()
        return Decision(np.asarray(score, dtype=np.float64), labels, reasons, sub_scores)

    def score(self, findings: Findings, *, texts: list[str] | None = None, text_scores: np.ndarray | None = None) -> np.ndarray:
        """Every post's score as :meth:`decide` gives it, without the labels' order or any
        reason (what a benchmark or a cross-validation reads)."""
        fired, strength = self._fired(findings)
        model = None if self.model is None else self._model_for(self.model)
        if model is None:
            return np.asarray(combine(strength, findings.n), dtype=np.float64)
        score, _ = model.score_all(self._model_input(model, findings, texts, text_scores), label_floor=np.inf)
        return np.asarray(self._raised(model, score, findings, fired, strength), dtype=np.float64)

    def _fired(self, findings: Findings) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per label (registry order) the posts it fired on, and its rule strength."""
        fired = {label: np.asarray(findings.fired[label], dtype=bool) for label in FAMILIES if label in findings.fired}
        return fired, rule_strength(fired, findings.values, self.scorer)

    @staticmethod
    def _model_input(model: Any, findings: Findings, texts: list[str] | None, text_scores: np.ndarray | None) -> dict[str, Any]:
        """The model's ``X``: the feature columns, and for a model with a text part the texts
        (and their text scores where the engine has them)."""
        model_input: dict[str, Any] = dict(findings.values)
        if getattr(model, "text", False):
            if texts is None:
                raise ConfigError("This model reads the post text; pass texts= to decide().")
            model_input["text"] = texts
            if text_scores is not None:
                from spamflood.model.inputs import TEXT_FEATURE

                model_input[TEXT_FEATURE] = np.asarray(text_scores, dtype=np.float64)
        return model_input

    def _raised(
        self, model: Any, score: np.ndarray, findings: Findings, fired: dict[str, np.ndarray], strength: dict[str, np.ndarray]
    ) -> np.ndarray:
        """The model's ``score`` raised by the evidence it does not weigh (:func:`_unweighed`)."""
        unweighed = _unweighed(fired, findings.values, self.scorer.rules, self._weighed_features(model))
        return _with_uncovered(score, {label: np.where(on, strength[label], 0.0) for label, on in unweighed.items()})


def _weighed(model: Any) -> frozenset[str]:
    """The features the model's score weighs: those a tree of its overall score splits on
    (``weighed_features``); for a model that does not say, those it reads
    (``feature_names_in_``), or for one that does not name its inputs, the registry's model
    inputs (``model_input``)."""
    weighed = getattr(model, "weighed_features", None)
    if callable(weighed):
        return frozenset(weighed())
    declared = getattr(model, "feature_names_in_", None)
    if declared is None:
        return frozenset(f.name for f in FEATURES.values() if f.model_input)
    return frozenset(np.asarray(declared, dtype=object).tolist())


def _unweighed(
    fired: dict[str, np.ndarray], values: dict[str, np.ndarray], rules: Rules, weighed: frozenset[str]
) -> dict[str, np.ndarray]:
    """Per fired label, the posts it fired on by a rule the model's score is blind to (a rule
    over model inputs none of which the score weighs) with none of the label's weighed
    features hitting: evidence the model did not see. ``fan_farming`` for a model none of
    whose trees splits on its features; ``soft_ad`` fired by a bank account to pay into with
    no other soft_ad evidence, for a model that never split on ``SOFT_AD_PAY_ACCOUNT``. A rule
    over features that are no model inputs by design (``model_input = false``: the account's
    own batch signs) is left to the label's other evidence.

    The label fired, so one of its rules holds: where none of its weighed features hits, that
    rule is a blind one unless the label also has rules over no model input or rules whose
    columns are not all in ``values``, and only then are the blind rules checked again (with
    ``rules``' thresholds, which may differ from those that fired the label for a threshold
    the decision is not given, such as ``min_coposts``)."""
    out: dict[str, np.ndarray] = {}
    for label, on in fired.items():
        if not on.any():
            continue
        every = rules.labels.get(label, ())
        present = [rule for rule in every if all(name in values for name in rule)]
        blind = [rule for rule in present if _reads_inputs(rule) and not any(name in weighed for name in rule)]
        if not blind:
            continue
        unseen = on.copy()
        for name in dict.fromkeys(name for rule in every for name in rule if name in weighed and name in values):
            unseen &= ~rules.hits[name](values[name])
        # the rule that held may be a gate-only one, or one with a column not given here
        if len(present) < len(every) or not all(map(_reads_inputs, present)):
            holds = np.zeros(on.shape[0], dtype=bool)
            for rule in blind:
                this = np.ones(on.shape[0], dtype=bool)
                for name in rule:
                    this &= rules.hits[name](values[name])
                holds |= this
            unseen &= holds
        if unseen.any():
            out[label] = unseen
    return out


def _reads_inputs(rule: tuple[str, ...]) -> bool:
    """Whether a label rule reads a model input (``model_input``), not only gates such as the
    account's own batch signs."""
    return any(FEATURES[name].model_input for name in rule if name in FEATURES)


def _with_uncovered(score: np.ndarray, strength: dict[str, np.ndarray]) -> np.ndarray:
    """The model's score raised by ``strength`` (per label: its rule strength on the posts
    whose evidence for it the model's score did not weigh, :func:`_unweighed`; 0 elsewhere),
    by noisy-or: evidence the model cannot weigh still counts, and a post without such a label
    keeps the model's score to the last bit."""
    live = {label: s for label, s in strength.items() if s.any()}
    if not live:
        return score
    raised = combine(live, len(score))
    out = np.array(score, dtype=np.float64)
    on = raised > 0  # elsewhere 1 - (1 - score) can differ from the score in its last bit
    out[on] = 1.0 - (1.0 - out[on]) * (1.0 - raised[on])
    return out


_TEXT = "text"
"""The group of a model's text score among the families a ``score:`` reason weighs."""

def _score_sentences(model: Any, findings: Findings, texts: list[str] | None, rows: list[int]) -> list[str]:
    """For flagged posts that list no label: which family's features raised the score most (the
    score minus the score with that family's features at a typical non-spam post's values,
    :meth:`~spamflood.model.FloodModel.contributions`), quoted with their values. A text
    model's score counts as one more family, quoted by the n-grams that raised it most
    (:meth:`~spamflood.model.FloodModel.text_evidence`)."""
    at = np.asarray(rows, dtype=np.int64)
    X: dict[str, Any] = {k: np.asarray(v)[at] for k, v in findings.values.items()}
    groups = {label: [f.name for f in FEATURES.values() if f.label == label and f.name in X] for label in FAMILIES}
    ngrams: list[list[str]] = []
    if getattr(model, "text", False) and texts is not None:
        from spamflood.model.inputs import TEXT_FEATURE

        X["text"] = [texts[i] for i in rows]
        groups[_TEXT] = [TEXT_FEATURE]
        ngrams = model.text_evidence(X["text"])
    drops = model.contributions(X, {k: v for k, v in groups.items() if v})

    def said(label: str, j: int, i: int, *, zeros: bool) -> str:
        if label == _TEXT:
            return "text n-grams " + ", ".join(f'"{g}"' for g in ngrams[j]) if ngrams[j] else ""
        values = _quoted(groups[label], findings.values, i, zeros=zeros)[:3]
        return f"{label} features: " + "; ".join(values) if values else ""

    out = []
    for j, i in enumerate(rows):
        ranked = sorted(drops, key=lambda label: (-float(drops[label][j]), label))
        shown = []
        for label in ranked:
            if float(drops[label][j]) <= 0:
                break
            if sentence := said(label, j, i, zeros=False):
                shown.append(sentence)
            if len(shown) == 2:
                break
        if not shown:  # no family raised it alone: the one that weighed most, its known values
            for label in ranked:
                if sentence := said(label, j, i, zeros=True):
                    shown.append(sentence)
                    break
        out.append("score: raised by " + " / ".join(shown) if shown else "score: no named feature is known for this post")
    return out


def _model_scores(
    model: Any, X: dict[str, Any], n: int, many: np.ndarray, fired: dict[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The model's score of every post, and its label heads where they can order anything: on
    the posts that list two or more labels and score at least :data:`LABEL_FLOOR`, and there
    (for a model that can run one head on chosen rows, :meth:`CompiledModel.label_heads
    <spamflood.model.compiled.CompiledModel.label_heads>`) only where the head's own label
    fired (``fired``), since a label that is not listed has no sub-score; 0 elsewhere. A head
    costs as much as the score, and most posts list one label or none, so a stream judging
    one post at a time mostly runs the score alone."""
    label_heads = getattr(model, "label_heads", None)
    if label_heads is None and many.all():
        return model.score_all(X, label_floor=LABEL_FLOOR)
    score, none = model.score_all(X, label_floor=np.inf)  # the score; no head reaches an infinite floor
    heads = {label: np.zeros(n) for label in none}
    rows = np.flatnonzero(many & (np.asarray(score) >= LABEL_FLOOR))
    if rows.size:
        picked = {k: v[rows] if isinstance(v, np.ndarray) else [v[i] for i in rows.tolist()] for k, v in X.items()}
        if label_heads is not None:
            values = label_heads(picked, {label: on[rows] for label, on in fired.items()})
        else:
            values = model.score_all(picked, label_floor=LABEL_FLOOR)[1]
        for label, head in values.items():
            heads.setdefault(label, np.zeros(n))[rows] = head
    return score, heads


def explain(
    order: dict[str, np.ndarray],
    sentences: dict[str, dict[int, str]],
    n: int,
    values: dict[str, np.ndarray] | None = None,
) -> tuple[list[list[str]], list[list[str]]]:
    """Per post, the labels with ``order > 0`` (largest first, ties by name) and their reason
    sentences; a fired label without a sentence (a cluster label computed elsewhere, say) is
    explained by its hitting feature values (:func:`feature_sentence`)."""
    post_labels: list[list[str]] = [[] for _ in range(n)]
    post_reasons: list[list[str]] = [[] for _ in range(n)]
    if not order or not n:
        return post_labels, post_reasons
    names = sorted(order)  # columns in name order: a stable sort then breaks ties by name
    strengths = [np.asarray(order[name], dtype=np.float64) for name in names]
    listed = np.zeros(n, dtype=bool)
    for strength in strengths:
        listed |= strength > 0
    rows = np.flatnonzero(listed)
    if not rows.size:
        return post_labels, post_reasons
    sub = np.column_stack([strength[rows] for strength in strengths])  # the posts that list a label only
    del strengths
    ranked = np.argsort(-sub, axis=1, kind="stable")  # strongest first; the fired ones lead
    fired = np.count_nonzero(sub > 0, axis=1)
    del sub
    ranked[np.arange(ranked.shape[1]) >= fired[:, None]] = len(names)  # past the fired ones: none
    # Posts that fired the same labels in the same order form one group (a few dozen at most):
    # their lists are filled a group and a label at a time, by C loops over the posts.
    width = ranked.shape[1]
    if (len(names) + 1) ** width < 2**62:  # the pattern as a number
        key = ranked @ (len(names) + 1) ** np.arange(width - 1, -1, -1, dtype=np.int64)
    else:  # too many labels for that: the patterns numbered by sorting them
        key = np.unique(ranked, axis=0, return_inverse=True)[1].reshape(-1)
    by_key = np.argsort(key, kind="stable")
    key = key[by_key]
    bounds = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
    patterns = ranked[by_key[bounds[:-1]]].tolist()  # each group's labels; the matrices go before the lists grow
    del ranked, key
    said = [sentences.get(name, {}) for name in names]
    for lo, hi, pattern in zip(bounds[:-1].tolist(), bounds[1:].tolist(), patterns):
        chosen = [j for j in pattern if j < len(names)]
        members = rows[by_key[lo:hi]].tolist()
        labels = [names[j] for j in chosen]
        columns = []
        for j in chosen:
            column = list(map(said[j].get, members))
            if None in column or "" in column:
                name = names[j]
                column = [r or feature_sentence(name, values or {}, i) for r, i in zip(column, members)]
            columns.append(column)
        for i, post_reasons_i in zip(members, zip(*columns)):
            post_labels[i] = labels.copy()
            post_reasons[i] = list(post_reasons_i)
    return post_labels, post_reasons


def feature_sentence(label: str, values: dict[str, np.ndarray], i: int) -> str:
    """``label``'s reported feature values on post ``i`` as a reason (up to three; nonzero ones
    first), for a label that fired without a sentence of its own."""
    names = [f.name for f in FEATURES.values() if f.label == label and f.reported and f.name in values]
    shown = (_quoted(names, values, i, zeros=False) + _quoted(names, values, i, zeros=True, nonzero=False))[:3]
    if not shown:  # a rule fires only on features that hit, and NaN never hits
        raise AssertionError(f"label {label} fired on post {i} with none of its features known")
    return f"{label}: " + "; ".join(shown)


def _quoted(names: Sequence[str], values: dict[str, np.ndarray], i: int, *, zeros: bool = True, nonzero: bool = True) -> list[str]:
    """``description value`` of the features ``names`` known on post ``i`` (NaN is unknown),
    in registry order: those at 0 only with ``zeros``, the others only with ``nonzero``."""
    out = []
    for name in names:
        value = float(values[name][i])
        if value == value and (zeros if value == 0 else nonzero):
            out.append(f"{FEATURES[name].description} {value:g}")
    return out
