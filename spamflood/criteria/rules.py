"""The label rules: which features hit, and where each label fires, from ``rules.toml``.

A label *fires* (1.0) where all the features of any one of its rules hit, and is 0.0
elsewhere; a label is listed on a post exactly where it fires (:mod:`spamflood.decision`).
Thresholds live in ``spamflood/data/lexicons/rules.toml``, apart from the code, like
SpamAssassin's score files; a threshold that is a detector parameter is named there
(``">= min_authors"``) and bound from the detector (:meth:`Rules.bind`).

>>> import numpy as np
>>> label_scores({"SOFT_AD_SIGNALS": np.array([3.0, 1.0])})["soft_ad"].tolist()
[1.0, 0.0]
"""

from __future__ import annotations

import operator
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spamflood.criteria.lexicon import LEXICON_DIR
from spamflood.criteria.registry import FAMILIES, FEATURES
from spamflood.errors import ConfigError

__all__ = ["PARAMETERS", "RULES", "Condition", "Plan", "Rules", "hits", "label_scores", "load_rules"]

_OPS: dict[str, Callable[[np.ndarray, Any], np.ndarray]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_COND = re.compile(
    rf"^\s*(?:(?P<op>>=|<=|==|>|<)\s*(?:(?P<x>{_NUMBER})|(?P<param>[a-z_]+))"
    rf"|between\s+(?P<lo>{_NUMBER})\s+(?P<hi>{_NUMBER}))\s*$"
)

PARAMETERS: dict[str, int] = {"min_authors": 5, "min_copies": 3, "min_posts": 5, "min_accounts": 3, "min_coposts": 3}
"""The thresholds a condition may name instead of a number (``">= min_authors"``), with their
defaults: each is a parameter of the detector or of the criteria
(:class:`~spamflood.detector.Detector`, :class:`~spamflood.stream.FloodMonitor`,
:class:`~spamflood.criteria.CriteriaFeatures`, :class:`~spamflood.coordination.Coordination`), so that one value rules both the feature and
the label, and a detector built with ``min_authors=10`` lists ``mass_share`` from 10 accounts."""


@dataclass(frozen=True, slots=True)
class Condition:
    """When one feature hits: ``value OP threshold``, or ``low <= value <= high``.

    ``param`` names the parameter the threshold is (see :data:`PARAMETERS`); ``low`` holds its
    bound value (:meth:`Rules.bind`)."""

    text: str
    op: str
    low: float
    high: float = float("nan")
    param: str | None = None

    def bind(self, params: Mapping[str, float]) -> Condition:
        """This condition with its parameter set from ``params`` (unchanged without one)."""
        if self.param is None:
            return self
        return Condition(self.text, self.op, float(params[self.param]), self.high, self.param)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=np.float64)
        # NaN compares false under every operator (and NumPy does not warn): NaN never hits
        if self.op == "between":
            return (v >= self.low) & (v <= self.high)
        return np.asarray(_OPS[self.op](v, self.low), dtype=bool)


@dataclass(frozen=True, slots=True)
class Rules:
    """Hit conditions per feature and, per label, its rules (each a tuple of features)."""

    hits: dict[str, Condition]
    labels: dict[str, tuple[tuple[str, ...], ...]]
    params: Mapping[str, float] = field(default_factory=lambda: dict(PARAMETERS))
    _plans: dict[tuple[str, ...], Plan] = field(default_factory=dict, init=False, repr=False, compare=False)
    _bound: dict[tuple[tuple[str, float], ...], Rules] = field(default_factory=dict, init=False, repr=False, compare=False)

    def bind(self, **params: float) -> Rules:
        """These rules with some named thresholds set (``rules.bind(min_authors=10)``); the
        others keep their values. An unknown name is an error. Binding the same values again
        gives the same object (so its :meth:`plan` cache serves every call)."""
        key = tuple(sorted(params.items()))
        found = self._bound.get(key)
        if found is not None:
            return found
        unknown = sorted(set(params) - set(PARAMETERS))
        if unknown:
            raise ConfigError(f"Unknown rule parameter(s) {unknown}; expected some of {sorted(PARAMETERS)}")
        merged = {**self.params, **params}
        if merged == dict(self.params):
            found = self
        else:
            found = Rules({k: c.bind(merged) for k, c in self.hits.items()}, self.labels, merged)
        if len(self._bound) < 64:  # a program binds a handful of settings; never grow without end
            self._bound[key] = found
        return found

    def plan(self, names: Sequence[str]) -> Plan:
        """The rules compiled for feature columns in the order ``names`` (kept per order)."""
        key = tuple(names)
        found = self._plans.get(key)
        if found is None:
            found = Plan(self, key)
            if len(self._plans) < 64:
                self._plans[key] = found
        return found

    def threshold(self, feature: str) -> float:
        """The bound value a feature's condition compares with (its lower bound for ``between``)."""
        return self.hits[feature].low


def _condition(text: object, where: str) -> Condition:
    if not isinstance(text, str) or not (m := _COND.match(text)):
        raise ConfigError(f"{where}: expected 'OP NUMBER' (OP one of >= > <= < ==) or 'between LOW HIGH'; got {text!r}")
    if m.group("param"):
        name = m.group("param")
        if name not in PARAMETERS:
            raise ConfigError(f"{where}: {name!r} is not a rule parameter; expected a number or one of {sorted(PARAMETERS)}")
        return Condition(text, m.group("op"), float(PARAMETERS[name]), param=name)
    if m.group("op"):
        return Condition(text, m.group("op"), float(m.group("x")))
    low, high = float(m.group("lo")), float(m.group("hi"))
    if low > high:
        raise ConfigError(f"{where}: 'between LOW HIGH' needs LOW <= HIGH; got {text!r}")
    return Condition(text, "between", low, high)


def load_rules(path: Path | None = None) -> Rules:
    """Read and validate the thresholds file (``rules.toml`` by default)."""
    path = path or LEXICON_DIR / "rules.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Rules file {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Rules file {path} is not valid TOML: {exc}") from None
    hits: dict[str, Condition] = {}
    for name, text in dict(data.get("hits", {})).items():
        if name not in FEATURES:
            raise ConfigError(f"Rules file {path}, [hits] {name}: not a feature in the registry")
        hits[name] = _condition(text, f"Rules file {path}, [hits] {name}")
    missing = [name for name in FEATURES if name not in hits]
    if missing:
        raise ConfigError(f"Rules file {path}, [hits]: no hit condition for {missing}")
    labels: dict[str, tuple[tuple[str, ...], ...]] = {}
    for label, rules in dict(data.get("labels", {})).items():
        where = f"Rules file {path}, [labels] {label}"
        if label not in FAMILIES:
            raise ConfigError(f"{where}: unknown label; expected one of {list(FAMILIES)}")
        if not isinstance(rules, list) or not rules or not all(isinstance(r, list) and r for r in rules):
            raise ConfigError(f"{where}: expected a list of rules, each a non-empty list of feature names")
        for rule in rules:
            for name in rule:
                f = FEATURES.get(name)
                if f is None or f.label != label or not f.reported:
                    raise ConfigError(f"{where}: {name!r} is not a reported feature of {label}")
        labels[label] = tuple(tuple(r) for r in rules)
    missing = [label for label in FAMILIES if label not in labels]
    if missing:
        raise ConfigError(f"Rules file {path}, [labels]: no rule for {missing}")
    return Rules(hits, labels)


RULES = load_rules()
"""The rules in force, from ``rules.toml``, with the parameters' defaults; a detector binds its
own (:meth:`Rules.bind`)."""


def _as_mapping(values: np.ndarray | Mapping[str, np.ndarray], names: Sequence[str] | None) -> dict[str, np.ndarray]:
    if isinstance(values, Mapping):
        return {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in values.items()}
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ConfigError(f"Feature values must be a 2-D array (posts x features). Got shape {arr.shape} instead.")
    if names is None:
        raise ConfigError("Feature values given as an array need 'names' (e.g. CriteriaFeatures.get_feature_names_out())")
    if len(names) != arr.shape[1]:
        raise ConfigError(f"'names' has {len(names)} entries but the values have {arr.shape[1]} columns")
    return {str(name): arr[:, j] for j, name in enumerate(names)}


def hits(
    values: np.ndarray | Mapping[str, np.ndarray], names: Sequence[str] | None = None, *, rules: Rules | None = None
) -> dict[str, np.ndarray]:
    """Per feature present in ``values``: a bool array, True where it hits."""
    rules = rules or RULES
    cols = _as_mapping(values, names)
    return {name: rules.hits[name](col) for name, col in cols.items() if name in rules.hits}


def label_scores(
    values: np.ndarray | Mapping[str, np.ndarray], names: Sequence[str] | None = None, *, rules: Rules | None = None
) -> dict[str, np.ndarray]:
    """Per label, 1.0 where it fires and 0.0 elsewhere (every label; absent features never fire).

    ``values``: a mapping name -> column, or an (n, k) array with its column ``names``.
    """
    rules = rules or RULES
    cols = {name: col for name, col in _as_mapping(values, names).items() if name in rules.hits}
    if not cols:
        return {label: np.zeros(0) for label in FAMILIES}
    plan = rules.plan(list(cols))
    fired = plan.fired(plan.hits(np.column_stack(list(cols.values()))))
    return {label: on.astype(np.float64) for label, on in fired.items()}


class Plan:
    """The rules compiled for one order of feature columns: every hit condition evaluated over
    a values matrix (the commonest operator, ``>=``, compares the whole matrix with a row of
    thresholds at once; the two or three columns of other operators follow one by one), and
    every label's rules from those hits. Per call that is a handful of NumPy operations
    whatever the number of features, which is what a stream judging one post at a time pays;
    over a batch it reads the matrix once, as column by column would.

    >>> plan = RULES.plan(["SOFT_AD_SIGNALS", "SOFT_AD_PHRASES"])
    >>> hit = plan.hits(np.array([[3.0, 1.0], [1.0, np.nan]]))
    >>> hit.tolist(), plan.fired(hit)["soft_ad"].tolist()
    ([[True, False], [False, False]], [True, False])
    """

    def __init__(self, rules: Rules, names: tuple[str, ...]) -> None:
        unknown = [name for name in names if name not in rules.hits]
        if unknown:
            raise ConfigError(f"No hit condition for {unknown}; expected features of the registry")
        self.names = names
        at = {name: j for j, name in enumerate(names)}
        by_op: dict[str, list[int]] = {}
        for j, name in enumerate(names):
            by_op.setdefault(rules.hits[name].op, []).append(j)
        # the commonest operator compares the whole matrix against a row of thresholds at
        # once; the few columns of other operators are then compared one by one
        self._base = max(by_op, key=lambda op: len(by_op[op])) if by_op else ">="
        self._low = np.array([rules.hits[name].low for name in names])
        self._others = [(j, rules.hits[names[j]]) for op, columns in by_op.items() if op != self._base for j in columns]
        self._base_between = self._base == "between"
        self._high = np.array([rules.hits[name].high for name in names])
        # a rule fires where all its features hit: its first column, ANDed with the others;
        # a label fires where any of its rules does (rules laid out label after label)
        first: list[int] = []
        extra: list[tuple[int, int]] = []  # (rule, column) for the further features of a rule
        starts: list[int] = []
        self.labels: tuple[str, ...] = ()
        for label in FAMILIES:
            usable = [rule for rule in rules.labels[label] if all(name in at for name in rule)]
            if usable:  # a rule whose features are absent never fires
                self.labels += (label,)
                starts.append(len(first))
                for rule in usable:
                    extra.extend((len(first), at[name]) for name in rule[1:])
                    first.append(at[rule[0]])
        self._first = np.array(first, dtype=np.intp)
        self._extra = extra
        self._starts = np.array(starts, dtype=np.intp)

    def hits(self, matrix: np.ndarray) -> np.ndarray:
        """``(n, k)`` bool: where each feature (column of ``matrix``, in :attr:`names` order)
        hits; NaN never hits (it compares false under every operator)."""
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.names):
            raise ConfigError(f"Expected a matrix of {len(self.names)} feature columns; got shape {matrix.shape}")
        if self._base_between:
            out = (matrix >= self._low) & (matrix <= self._high)
        else:
            out = _OPS[self._base](matrix, self._low)
        for j, condition in self._others:
            out[:, j] = condition(matrix[:, j])
        return out

    def fired(self, hit: np.ndarray) -> dict[str, np.ndarray]:
        """Per label, a bool array: where one of its rules fires (labels without a rule over
        these features: never)."""
        n = hit.shape[0]
        out = {label: np.zeros(n, dtype=bool) for label in FAMILIES}
        if not self.labels or not n:
            return out
        rule = hit[:, self._first]
        for r, column in self._extra:
            rule[:, r] &= hit[:, column]
        fired = np.logical_or.reduceat(rule, self._starts, axis=1)
        for j, label in enumerate(self.labels):
            out[label] = fired[:, j]
        return out
