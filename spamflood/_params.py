"""Parameter checks: each parameter checked once, named, in scikit-learn's message shape.

The plain structures (:class:`~spamflood.Detector`, :class:`~spamflood.FloodMonitor`) check
their parameters in the constructor with these functions; the scikit-learn estimators
(:class:`~spamflood.CriteriaFeatures`, :class:`~spamflood.model.FloodModel`) declare
``_parameter_constraints`` and check them in ``fit`` with :func:`validate_estimator`, as
scikit-learn's own estimators do. Every failure is a :class:`~spamflood.errors.ConfigError`
(a ``ValueError``; the CLI exits 2 on it) worded like scikit-learn's:

>>> real("Detector", "similarity", 1.5, 0.0, 1.0, closed="neither")
Traceback (most recent call last):
...
spamflood.errors.ConfigError: The 'similarity' parameter of Detector must be a float in the range (0.0, 1.0). Got 1.5 instead.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Integral, Real
from typing import Any, Literal, NoReturn

from spamflood.errors import ConfigError

__all__ = ["boolean", "duration", "fail", "integer", "jobs", "option", "real", "text", "time_zone", "validate_estimator"]

Closed = Literal["both", "left", "right", "neither"]


def fail(owner: str, name: str, expected: str, value: Any) -> NoReturn:
    """Raise the ConfigError for parameter ``name`` of ``owner``, which must be ``expected``."""
    raise ConfigError(f"The {name!r} parameter of {owner} must be {expected}. Got {value!r} instead.")


def _bounds(low: float | None, high: float | None, closed: Closed, cast: type) -> str:
    left = "[" if closed in ("both", "left") and low is not None else "("
    right = "]" if closed in ("both", "right") and high is not None else ")"
    lo = "-inf" if low is None else repr(cast(low))
    hi = "inf" if high is None else repr(cast(high))
    return f"{left}{lo}, {hi}{right}"


def _inside(value: float, low: float | None, high: float | None, closed: Closed) -> bool:
    if low is not None and (value < low or (value == low and closed in ("right", "neither"))):
        return False
    return not (high is not None and (value > high or (value == high and closed in ("left", "neither"))))


def real(owner: str, name: str, value: Any, low: float | None, high: float | None, *, closed: Closed = "both") -> float:
    """``value`` as a float in the range (ints are floats; bools and NaN are not)."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and not math.isnan(value)
    if not ok or not _inside(float(value), low, high, closed):
        fail(owner, name, f"a float in the range {_bounds(low, high, closed, float)}", value)
    return float(value)


def integer(owner: str, name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (numpy integers are ints; bools are not)."""
    if not isinstance(value, Integral) or isinstance(value, bool) or not _inside(int(value), low, high, "both"):
        fail(owner, name, f"an int in the range {_bounds(low, high, 'both', int)}", value)
    return int(value)


def jobs(owner: str, name: str, value: Any) -> int:
    """A count of worker processes: an int >= 1, or -1 for one per core."""
    if not isinstance(value, Integral) or isinstance(value, bool) or not (int(value) >= 1 or int(value) == -1):
        fail(owner, name, "an int in the range [1, inf) or -1 (one per core)", value)
    return int(value)


def boolean(owner: str, name: str, value: Any) -> bool:
    """``value`` if it is a bool (numpy's included): a string like ``"yes"`` is refused, not truthy."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        fail(owner, name, "an instance of 'bool'", value)
    return bool(value)


def option(owner: str, name: str, value: Any, options: Collection[str]) -> str:
    """``value`` if it is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        fail(owner, name, "a str among {" + ", ".join(map(repr, sorted(options))) + "}", value)
    return value


def text(owner: str, name: str, value: Any) -> str:
    """``value`` if it is a non-empty str."""
    if not isinstance(value, str) or not value:
        fail(owner, name, "a non-empty str", value)
    return value


def time_zone(owner: str, name: str, value: Any) -> str:
    """``value`` if it names an IANA time zone (``"Asia/Shanghai"``, ``"UTC"``)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        fail(owner, name, "an IANA time zone like 'Asia/Shanghai' or 'UTC'", value)
    return str(value)


def duration(owner: str, name: str, value: Any) -> float:
    """Seconds in ``value``: positive seconds, or text like ``"90s"``, ``"15min"``, ``"1h"``, ``"2d"``."""
    from spamflood.durations import parse_duration

    try:
        return parse_duration(value, name=name)
    except ConfigError:
        fail(owner, name, "a positive duration like '90s', '15min', '1h', '2d' or seconds", value)


def validate_estimator(estimator: Any) -> None:
    """Check a scikit-learn estimator's parameters against its ``_parameter_constraints``
    (scikit-learn's own check, as its estimators run at the start of ``fit``), raising
    :class:`ConfigError` with scikit-learn's message."""
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise ConfigError(str(exc)) from None
