"""Field maps: where each canonical field lives in an export of any shape.

A map sends a canonical field (``id``, ``text``, ``author``, ``time`` and the optional account
fields of :mod:`spamflood.posts`) to a *path* in the source record: a key, a dotted path into
nested JSON (``user.id``), a list index (``referenced_tweets.0.id``), or alternatives tried in
order (``full_text|text``). Presets for common exports live in ``spamflood/data/presets/``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from spamflood.errors import ConfigError
from spamflood.posts import CORE_FIELDS, POST_FIELDS

__all__ = ["MISSING", "FieldMap", "preset_names"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Returned by :meth:`FieldMap.lookup` when no alternative of a path is present."""


def preset_names() -> list[str]:
    """Names of the bundled presets (``canonical``, ``twitter-v1``, ``twitter-v2``, ...)."""
    folder = resources.files("spamflood") / "data" / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def _split(path: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(alt.split(".")) for alt in path.split("|") if alt)


@dataclass(frozen=True)
class FieldMap:
    """Canonical field name -> source path, plus which fields a row must have.

    ``required`` defaults to the core fields. ``keep`` lists extra source paths carried through
    to :attr:`spamflood.posts.Post.extra` under the same name (a training label, say).
    """

    paths: Mapping[str, str] = field(default_factory=lambda: {f: f for f in POST_FIELDS})
    required: tuple[str, ...] = CORE_FIELDS
    keep: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.paths) - set(POST_FIELDS))
        if unknown:
            raise ConfigError(
                f"Unknown field(s) in field map: {', '.join(unknown)}. "
                f"Known fields: {', '.join(POST_FIELDS)}."
            )
        for name in ("id", "text"):
            if name not in self.required:
                raise ConfigError(f"Field '{name}' is always required; it cannot be made optional.")
        for name in self.required:
            if name not in self.paths:
                raise ConfigError(
                    f"Required field '{name}' has no source path in the field map; "
                    f"add it, e.g. --map {name}=<path>."
                )
        for name, path in self.paths.items():
            if not isinstance(path, str) or not _split(path):
                raise ConfigError(f"Field '{name}' has an empty source path in the field map.")
        compiled = {k: _split(v) for k, v in self.paths.items()}
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_keep", {k: _split(k) for k in self.keep})
        # fields read from one top-level key (most maps): a reader can skip the path machinery
        simple = {k: alts[0][0] for k, alts in compiled.items() if len(alts) == 1 and len(alts[0]) == 1}
        object.__setattr__(self, "_simple", simple)

    @classmethod
    def preset(cls, name: str) -> FieldMap:
        """A bundled preset by name (see :func:`preset_names`)."""
        if name not in preset_names():
            raise ConfigError(
                f"Unknown field-map preset '{name}'. Known presets: {', '.join(preset_names())}."
            )
        text = (resources.files("spamflood") / "data" / "presets" / f"{name}.json").read_text("utf-8")
        try:
            data = json.loads(text)
            return cls(paths=dict(data["fields"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"Preset file {name}.json is corrupt: {exc}") from None

    @classmethod
    def parse(
        cls,
        spec: str | None = None,
        *,
        preset: str = "canonical",
        optional: tuple[str, ...] = (),
        keep: tuple[str, ...] = (),
    ) -> FieldMap:
        """Build a map from a preset overridden by ``--map``-style text ``id=mid,text=content``.

        A field given as ``name=`` (empty path) is removed from the map and from the required set.
        """
        base = cls.preset(preset)
        paths = dict(base.paths)
        dropped: set[str] = set()
        for item in (spec or "").split(","):
            item = item.strip()
            if not item:
                continue
            name, sep, path = item.partition("=")
            name = name.strip()
            if not sep:
                raise ConfigError(f"Field map item '{item}' must look like name=path (e.g. text=content).")
            if name not in POST_FIELDS:
                raise ConfigError(
                    f"Unknown field '{name}' in field map item '{item}'. Known fields: {', '.join(POST_FIELDS)}."
                )
            if path.strip():
                paths[name] = path.strip()
            else:
                paths.pop(name, None)
                dropped.add(name)
        required = tuple(f for f in CORE_FIELDS if f not in set(optional) | dropped)
        return cls(paths=paths, required=required, keep=tuple(keep))

    @property
    def simple_keys(self) -> Mapping[str, str]:
        """Canonical fields read from one top-level key, and that key (``{"text": "content"}``)."""
        return self._simple  # type: ignore[attr-defined]

    def compiled(self, name: str) -> tuple[tuple[str, ...], ...] | None:
        """The path alternatives of ``name``, split (``None`` when the map lacks the field)."""
        return self._compiled.get(name)  # type: ignore[attr-defined]

    def lookup(self, record: Mapping[str, Any], name: str) -> Any:
        """The value of canonical field ``name`` in ``record``, or :data:`MISSING`.

        A JSON ``null`` counts as missing, so the next alternative is tried.
        """
        alternatives = self._compiled.get(name)  # type: ignore[attr-defined]
        if alternatives is None:
            return MISSING
        return _resolve(record, alternatives)

    def lookup_kept(self, record: Mapping[str, Any], name: str) -> Any:
        value = _resolve(record, self._keep[name])  # type: ignore[attr-defined]
        return None if value is MISSING else value

    def describe(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.paths.items())


def _resolve(record: Mapping[str, Any], alternatives: tuple[tuple[str, ...], ...]) -> Any:
    for parts in alternatives:
        if len(parts) == 1:  # the common case: a top-level key
            value = record.get(parts[0])
            if value is not None and not _empty(value):
                return value
            continue
        # A flat key that itself contains dots (a CSV column "user.id") wins over nesting.
        flat = ".".join(parts)
        value = record.get(flat)
        if value is not None and not _empty(value):
            return value
        value = record
        for part in parts:
            if isinstance(value, (dict, Mapping)):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit():
                index = int(part)
                value = value[index] if index < len(value) else None
            else:
                value = None
            if value is None:
                break
        if value is not None and not _empty(value):
            return value
    return MISSING


def _empty(value: Any) -> bool:
    """An empty string counts as missing (a CSV cell with nothing in it)."""
    return isinstance(value, str) and not value
