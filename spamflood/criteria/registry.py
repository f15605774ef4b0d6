"""The one source of feature names, labels, descriptions and examples.

Every feature spamflood computes, here or in the cluster stage, is declared once in
``spamflood/data/lexicons/features.toml``, in the manner of SpamAssassin's rule files: an
UPPER_SNAKE name whose prefix is its label, a description under 50 characters that users see,
whether it is *reported* (sub-rules are computed and fed to the model but never shown as a
reason), and example texts that must hit (``examples_hit``) or must not (``examples_miss``);
the test suite runs every example. Two optional keys shape the trained score: ``monotone = 1``
marks evidence that only ever counts against a post (more of it never lowers the score, see
:class:`~spamflood.model.FloodModel`), and ``model_input = false`` keeps a feature out of the
model's inputs while it is still computed and reported. Labels carry their description and
the article criterion they measure.

>>> FEATURES["SOFT_AD_PRICE"].label
'soft_ad'
>>> sorted(LABELS)[:2]
['auto_posting', 'batch_accounts']
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spamflood.criteria.lexicon import LEXICON_DIR
from spamflood.errors import ConfigError

__all__ = [
    "ARTICLE",
    "COMPUTED_ELSEWHERE",
    "COMPUTED_HERE",
    "FAMILIES",
    "FEATURES",
    "KINDS",
    "LABELS",
    "SCOPES",
    "Feature",
    "Label",
    "families_in",
    "feature_names",
    "load_registry",
]

ARTICLE = "The crisis is coming! Social media has all collapsed, and marketing is failing"
"""The title of the article every label cites."""

KINDS: tuple[str, ...] = ("text", "calendar", "account", "profile", "cadence", "cluster")
"""What a feature needs: the text alone, the post time, account fields, an author's posts, clusters."""

FAMILIES: tuple[str, ...] = (
    "mass_share",
    "repetition",
    "batch_accounts",
    "auto_posting",
    "soft_ad",
    "holiday_template",
    "hotspot_hijack",
    "microbusiness",
    "chicken_soup",
    "coordinated",
    "fan_farming",
)
"""The labels, in the order of the design's table; each is also a feature family."""

COMPUTED_ELSEWHERE: tuple[str, ...] = ("mass_share", "repetition", "coordinated")
"""Families with a stage of their own: ``mass_share`` and ``repetition`` are filled from cluster
statistics by the cluster stage, ``coordinated`` by :mod:`spamflood.coordination` (the batch
detector, Spark on its driver: :mod:`spamflood.spark.coordinated`, and the stream monitor on its
memory store; each engine states which of these it computes, e.g.
:attr:`spamflood.stream.FloodMonitor.families`; an engine that does not compute one leaves its
features missing, NaN, and never lists it)."""

COMPUTED_HERE: tuple[str, ...] = tuple(f for f in FAMILIES if f not in COMPUTED_ELSEWHERE)
"""Families computed by :mod:`spamflood.criteria`."""

_KEYS = ("name", "label", "description", "kind", "reported", "examples_hit", "examples_miss", "monotone", "model_input")
_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
MAX_DESCRIPTION = 49


@dataclass(frozen=True, slots=True)
class Feature:
    """One named feature: what it measures and which article criterion it belongs to."""

    name: str
    label: str
    description: str
    kind: str
    reported: bool
    examples_hit: tuple[str, ...] = ()
    examples_miss: tuple[str, ...] = ()
    monotone: int = 0
    """+1: more of it never lowers the trained score; -1: never raises it; 0: unconstrained."""
    model_input: bool = True
    """Whether the trained model reads it by default."""


SCOPES: tuple[str, ...] = ("post", "account", "batch", "cluster")
"""What a label's rule reads: one post (text, time), its author's posts, the whole feed, the
near-duplicate clusters. Engines schedule families by scope (:mod:`spamflood.decision`)."""


@dataclass(frozen=True, slots=True)
class Label:
    """One article criterion: what it catches, where the article describes it, and what its
    rule reads (:data:`SCOPES`)."""

    name: str
    description: str
    citation: str
    scope: str


def _fail(path: Path, where: str, msg: str) -> ConfigError:
    return ConfigError(f"Feature registry {path}, {where}: {msg}")


def load_registry(path: Path | None = None) -> tuple[dict[str, Label], dict[str, Feature]]:
    """Read and validate the registry file (``features.toml`` by default)."""
    path = path or LEXICON_DIR / "features.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Feature registry {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Feature registry {path} is not valid TOML: {exc}") from None
    labels: dict[str, Label] = {}
    for name, body in dict(data.get("labels", {})).items():
        if name not in FAMILIES:
            raise _fail(path, f"[labels.{name}]", f"unknown label; expected one of {list(FAMILIES)}")
        for key in ("description", "citation"):
            if not isinstance(body.get(key), str) or not body[key].strip():
                raise _fail(path, f"[labels.{name}]", f"needs a non-empty '{key}' string")
        if body.get("scope") not in SCOPES:
            raise _fail(path, f"[labels.{name}]", f"'scope' must be one of {list(SCOPES)}; got {body.get('scope')!r}")
        labels[name] = Label(name, body["description"].strip(), body["citation"].strip(), body["scope"])
    missing = [f for f in FAMILIES if f not in labels]
    if missing:
        raise _fail(path, "[labels]", f"labels missing: {missing}")
    features: dict[str, Feature] = {}
    for i, body in enumerate(data.get("feature", []), start=1):
        feature = _feature(path, i, body)
        if feature.name in features:
            raise _fail(path, f"feature {feature.name}", "declared twice")
        features[feature.name] = feature
    for label in FAMILIES:
        if not any(f.label == label and f.reported for f in features.values()):
            raise _fail(path, f"label {label}", "has no reported feature")
    return labels, features


def _feature(path: Path, i: int, body: dict[str, Any]) -> Feature:
    name = body.get("name")
    where = f"feature #{i} ({name})"
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, where, "'name' must be UPPER_SNAKE with a family prefix, e.g. SOFT_AD_PRICE")
    label = body.get("label")
    if label not in FAMILIES:
        raise _fail(path, where, f"'label' must be one of {list(FAMILIES)}; got {label!r}")
    if not name.startswith(label.upper() + "_"):
        raise _fail(path, where, f"the name must start with the label's prefix {label.upper()}_")
    description = body.get("description")
    if not isinstance(description, str) or not 0 < len(description) <= MAX_DESCRIPTION:
        raise _fail(path, where, f"'description' must be 1..{MAX_DESCRIPTION} characters")
    kind = body.get("kind")
    if kind not in KINDS:
        raise _fail(path, where, f"'kind' must be one of {list(KINDS)}; got {kind!r}")
    reported = body.get("reported")
    if not isinstance(reported, bool):
        raise _fail(path, where, "'reported' must be true or false")
    examples = {}
    for key in ("examples_hit", "examples_miss"):
        value = body.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
            raise _fail(path, where, f"'{key}' must be a list of non-empty strings")
        examples[key] = tuple(value)
    monotone = body.get("monotone", 0)
    if type(monotone) is not int or monotone not in (-1, 0, 1):
        raise _fail(path, where, f"'monotone' must be 1, -1 or 0; got {monotone!r}")
    model_input = body.get("model_input", True)
    if not isinstance(model_input, bool):
        raise _fail(path, where, "'model_input' must be true or false")
    if monotone and not model_input:
        raise _fail(path, where, "'monotone' constrains the model, which 'model_input = false' keeps it out of")
    unknown = set(body) - set(_KEYS)
    if unknown:
        raise _fail(path, where, f"unknown keys {sorted(unknown)}")
    return Feature(
        name, label, description, kind, reported, examples["examples_hit"], examples["examples_miss"], monotone, model_input
    )


LABELS, FEATURES = load_registry()
"""label -> :class:`Label`, and name -> :class:`Feature` in file order."""


def feature_names(families: Iterable[str] | None = None) -> list[str]:
    """Names of the features of ``families`` (all of them by default), in registry order."""
    return list(_feature_names(frozenset(FAMILIES if families is None else families)))


@functools.lru_cache(maxsize=256)
def _feature_names(wanted: frozenset[str]) -> tuple[str, ...]:
    unknown = wanted - set(FAMILIES)
    if unknown:
        raise ConfigError(f"Unknown feature families {sorted(unknown)}; expected some of {list(FAMILIES)}")
    return tuple(f.name for f in FEATURES.values() if f.label in wanted)


def families_in(*scopes: str) -> tuple[str, ...]:
    """The labels whose rule reads one of ``scopes``, in registry order.

    >>> families_in("post")
    ('soft_ad', 'hotspot_hijack', 'microbusiness', 'fan_farming')
    """
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ConfigError(f"Unknown scopes {unknown}; expected some of {list(SCOPES)}")
    return tuple(label for label in FAMILIES if LABELS[label].scope in scopes)
