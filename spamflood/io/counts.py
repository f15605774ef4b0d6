"""Account counts as exports write them: ``1234``, ``"3,456"``, ``"1.2k"``, ``"1.5M"``, ``"1.2万"``.

Follower, following and post counts are numbers in most exports, but display-ready strings in
others (Weibo writes ``"1.2万"`` and ``"10万+"``; scraped pages write ``"1.2K"``). The units read
are k/K (thousand), w/W and 万 (ten thousand), m/M (million), 亿 (hundred million) and b/B
(billion); a trailing ``+`` (a lower bound, "10万+") is read as the number; commas must group
thousands (``"3,456"``, not ``"3,4"``). A count with a unit is rounded to a whole number.
"""

from __future__ import annotations

import math
import re

__all__ = ["parse_count"]

_UNITS = {"": 1.0, "k": 1e3, "K": 1e3, "w": 1e4, "W": 1e4, "万": 1e4, "m": 1e6, "M": 1e6, "亿": 1e8, "b": 1e9, "B": 1e9}
_COUNT = re.compile(r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*([kKwWmMbB万亿]?)\+?")


def parse_count(text: str) -> float:
    """``text`` as a non-negative count; raises ``ValueError`` saying why it cannot be one.

    >>> parse_count("1.2万"), parse_count("3,456"), parse_count("1.5M"), parse_count("10万+")
    (12000.0, 3456.0, 1500000.0, 100000.0)
    """
    text = text.strip().replace("，", ",")  # a full-width comma groups thousands too
    found = _COUNT.fullmatch(text)
    try:
        if found is not None:
            number, unit = found.groups()
            value = float(number.replace(",", "")) * _UNITS[unit]
        else:
            value = float(text)  # what float reads besides: "1e3", " 7.0"
    except ValueError:
        raise ValueError(f"expected a number, got {_shown(text)}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"expected a non-negative finite number, got {_shown(text)}")
    return float(round(value)) if found is not None and found.group(2) else value


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:40]) + f"... ({len(text)} characters)"
