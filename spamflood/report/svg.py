"""Inline SVG charts drawn by hand: a bucketed timeline with two series, a co-posting timeline
(one lane per account), and a bar chart.

Charts are plain SVG elements styled by classes from the report's stylesheet, so they need no
script, no font download and no library; each has a fixed number of elements (one per time
bucket at most), whatever the number of posts behind it. Hover titles give exact counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

from spamflood.report.build import DAY, AccountLanes, Timeline, local_time, nice_step, snap, zone

__all__ = ["bar_chart", "lanes_chart", "step_name", "timeline_chart"]

WIDTH, HEIGHT = 760, 222
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 40, 42  # the top holds the legend, then the pins


def step_name(step: float) -> str:
    """A bucket width as people say it: ``30 s``, ``5 min``, ``2 h``, ``1 day``, ``2 weeks``."""
    if step < 60:
        return f"{step:g} s"
    if step < 3600:
        return f"{step / 60:g} min"
    if step < DAY:
        return f"{step / 3600:g} h"
    days = step / DAY
    if days % 7 == 0:
        weeks = days / 7
        return f"{weeks:g} week" + ("s" if weeks != 1 else "")
    return f"{days:g} day" + ("s" if days != 1 else "")


def _nice_max(value: float) -> tuple[float, float]:
    """An axis maximum and tick step (1, 2 or 5 times a power of ten) with at most 4 ticks."""
    value = max(float(value), 1.0)
    exponent = math.floor(math.log10(value))
    for e in (exponent - 1, exponent, exponent + 1):
        for m in (1, 2, 5):
            step = m * 10.0**e
            if step >= 1 and value / step <= 4:
                return math.ceil(value / step) * step, step
    return value, value


def _text_width(text: str) -> float:
    """Rough width in the chart's 11 px font: CJK characters are about twice as wide."""
    return sum(11.0 if ord(ch) > 0x2E80 else 6.5 for ch in text)


def _fmt_count(v: float) -> str:
    return f"{int(v):,}" if v < 10_000 else f"{v / 1000:g}k"


def _tz_label(tz: str, t: float) -> str:
    from datetime import datetime

    offset = datetime.fromtimestamp(t, zone(tz)).strftime("%z")
    pretty = f"UTC{offset[:3]}:{offset[3:]}" if offset not in ("+0000", "") else "UTC"
    return pretty if tz in ("UTC", "Etc/UTC") else f"{tz}, {pretty}"


def _time_axis(start: float, span: float, left: float, width: float, y: float, tz: str) -> list[str]:
    """An x axis at height ``y`` for ``[start, start + span)`` drawn over ``width`` pixels from
    ``left``: ticks at local multiples of a nameable step, the date under the first of each day."""
    out = [f'<line class="axis" x1="{left}" x2="{left + width}" y1="{y}" y2="{y}"/>']
    tick = nice_step(span, 7)
    t = snap(start, tick, tz)
    if t < start:
        t += tick
    last_date = ""
    while t <= start + span + 1e-6:
        x = left + (t - start) / span * width
        if tick < DAY:
            main = local_time(t, tz, "%H:%M:%S" if tick < 60 else "%H:%M")
            date = local_time(t, tz, "%Y-%m-%d")
        else:
            main = local_time(t, tz, "%m-%d")
            date = local_time(t, tz, "%Y")
        out.append(f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + 4}"/>')
        out.append(f'<text class="xtick" x="{x:.1f}" y="{y + 16}">{escape(main)}</text>')
        if date != last_date:
            out.append(f'<text class="xdate" x="{x:.1f}" y="{y + 29}">{escape(date)}</text>')
            last_date = date
        t = snap(t + tick * 1.5, tick, tz)  # the next local multiple (robust to DST shifts)
    return out


def timeline_chart(
    line: Timeline,
    *,
    tz: str = "UTC",
    names: tuple[str, str] = ("posts", "accounts"),
    marks: Sequence[tuple[float, str, str]] = (),
    label: str = "timeline",
) -> str:
    """An SVG timeline: ``line.posts`` as bars, ``line.second`` as a line over them, time axis
    labelled in ``tz``. ``marks`` are ``(time, text, href)`` pins above the plot (flood starts)."""
    count = len(line.posts)
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bw = pw / count
    span = line.step * count
    ymax, ystep = _nice_max(max(int(line.posts.max(initial=0)), int(line.second.max(initial=0))))

    def x_of(t: float) -> float:
        return LEFT + (t - line.start) / span * pw

    def y_of(v: float) -> float:
        return TOP + ph - v / ymax * ph

    out = [
        f'<svg class="chart timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    # grid and y axis
    v = 0.0
    while v <= ymax + 1e-9:
        y = y_of(v)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + pw}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="ytick" x="{LEFT - 6}" y="{y + 4:.1f}">{_fmt_count(v)}</text>')
        v += ystep
    # bars (one per non-empty bucket) with exact counts on hover
    fmt = "%H:%M:%S" if line.step < 60 else ("%m-%d %H:%M" if line.step < DAY else "%Y-%m-%d")
    for k in range(count):
        p = int(line.posts[k])
        if p == 0:
            continue
        t0 = line.start + k * line.step
        h = p / ymax * ph
        tip = (
            f"{local_time(t0, tz, fmt)} – {local_time(t0 + line.step, tz, fmt)}: "
            f"{p:,} {names[0]}, {int(line.second[k]):,} {names[1]}"
        )
        out.append(
            f'<rect class="s1" x="{LEFT + k * bw + bw * 0.08:.1f}" y="{TOP + ph - h:.1f}" '
            f'width="{bw * 0.84:.1f}" height="{max(h, 0.8):.1f}"><title>{escape(tip)}</title></rect>'
        )
    # second series as a line through bucket centres
    points = " ".join(f"{LEFT + (k + 0.5) * bw:.1f},{y_of(float(line.second[k])):.1f}" for k in range(count))
    out.append(f'<polyline class="s2" points="{points}"/>')
    out += _time_axis(line.start, span, LEFT, pw, TOP + ph, tz)
    caption = f"{names[0]} and {names[1]} per {step_name(line.step)} ({_tz_label(tz, line.start)})"
    out.append(f'<text class="caption" x="{LEFT + pw}" y="{HEIGHT - 2}">{escape(caption)}</text>')
    # legend, at the top right (pins use the top left)
    w0, w1 = _text_width(names[0]), _text_width(names[1])
    lx = LEFT + pw - (16 + w0 + 14 + 22 + w1)
    out.append(f'<rect class="s1" x="{lx:.0f}" y="6" width="12" height="10"/>')
    out.append(f'<text class="legend" x="{lx + 16:.0f}" y="15">{escape(names[0])}</text>')
    lx += 16 + w0 + 14
    out.append(f'<line class="s2" x1="{lx:.0f}" x2="{lx + 16:.0f}" y1="11" y2="11"/>')
    out.append(f'<text class="legend" x="{lx + 20:.0f}" y="15">{escape(names[1])}</text>')
    # pins
    placed: list[tuple[float, int]] = []  # (x, level): pins that would touch go side by side
    for when, text, href in sorted(marks):
        if not line.start <= when <= line.start + span:
            continue
        x = x_of(when)
        level = 0
        while any(abs(x + level * 13 - px) < 13 for px, _ in placed):
            level += 1
        tx = x + level * 13
        placed.append((tx, level))
        out.append(
            f'<a href="{escape(href)}"><path class="pin" d="M{x - 5:.1f},{TOP - 9} h10 l-5,7 z"/>'
            f'<text class="pin" x="{tx:.1f}" y="{TOP - 11}">{escape(text)}</text></a>'
        )
    out.append("</svg>")
    return "".join(out)


def lanes_chart(lanes: AccountLanes, *, tz: str = "UTC", label: str = "posts per account over time") -> str:
    """A co-posting timeline: a strip of the group's posts per time bucket on top, then one lane
    per account with a cell where it posted (darker: more posts), on one time axis, so accounts
    that post together line up in columns. Hover titles give the account and its count."""
    count, rows = len(lanes.posts), len(lanes.names)
    name_w, strip, lane = 150, 36, 14
    pw = WIDTH - name_w - RIGHT
    bw = pw / count
    top = 8 + strip + 6
    base = top + lane * rows
    height = base + BOTTOM
    fmt = "%H:%M:%S" if lanes.step < 60 else ("%m-%d %H:%M" if lanes.step < DAY else "%Y-%m-%d")

    def when(k: int) -> str:
        t0 = lanes.start + k * lanes.step
        return f"{local_time(t0, tz, fmt)} – {local_time(t0 + lanes.step, tz, fmt)}"

    out = [
        f'<svg class="chart lanes" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text class="lane-name" x="{name_w - 8}" y="{8 + strip / 2 + 4:.0f}">all accounts</text>',
    ]
    most = max(int(lanes.posts.max(initial=0)), 1)
    for k in np.flatnonzero(lanes.posts).tolist():
        h = max(int(lanes.posts[k]) / most * strip, 0.8)
        out.append(
            f'<rect class="s1" x="{name_w + k * bw + bw * 0.08:.1f}" y="{8 + strip - h:.1f}" width="{bw * 0.84:.1f}" '
            f'height="{h:.1f}"><title>{escape(when(k))}: {int(lanes.posts[k]):,} posts</title></rect>'
        )
    densest = max(int(lanes.counts.max(initial=0)), 1)
    for r, name in enumerate(lanes.names):
        y = top + r * lane
        shown = name if len(name) <= 22 else name[:12] + "…" + name[-9:]  # batch-made names differ at the end
        total = int(lanes.counts[r].sum())
        # the lane's title names the account once; a cell's own title gives its bucket and count
        out.append(f"<g><title>{escape(name)}: {total:,} post{'s' if total != 1 else ''}</title>")
        out.append(f'<line class="grid" x1="{name_w}" x2="{name_w + pw}" y1="{y + lane / 2:.1f}" y2="{y + lane / 2:.1f}"/>')
        out.append(f'<text class="lane-name" x="{name_w - 8}" y="{y + lane - 3}">{escape(shown)}</text>')
        for k in np.flatnonzero(lanes.counts[r]).tolist():
            c = int(lanes.counts[r, k])
            shade = f' fill-opacity="{0.35 + 0.65 * c / densest:.2f}"' if c < densest else ""
            out.append(
                f'<rect class="lane" x="{name_w + k * bw + bw * 0.08:.1f}" y="{y + 2}" width="{bw * 0.84:.1f}" '
                f"height=\"{lane - 4}\"{shade}><title>{escape(when(k))}: {c:,}</title></rect>"
            )
        out.append("</g>")
    out += _time_axis(lanes.start, lanes.step * count, name_w, pw, base, tz)
    caption = f"posts per account per {step_name(lanes.step)} ({_tz_label(tz, lanes.start)})"
    out.append(f'<text class="caption" x="{name_w + pw}" y="{height - 2}">{escape(caption)}</text>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(items: Sequence[tuple[str, int]], *, total: int, label: str = "posts per label") -> str:
    """Horizontal bars: one row per ``(name, count)``, length relative to the largest count,
    with the count and its share of ``total``."""
    row, name_w, width = 26, 150, WIDTH
    height = row * max(len(items), 1) + 8
    top = max((c for _, c in items), default=0) or 1
    out = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    room = width - name_w - 150
    for k, (name, count) in enumerate(items):
        y = 4 + k * row
        w = max(count / top * room, 1.0)
        share = count / total * 100 if total else 0.0
        out.append(f'<text class="bar-name" x="{name_w - 8}" y="{y + 17}">{escape(name)}</text>')
        out.append(
            f'<rect class="bar" x="{name_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}">'
            f"<title>{escape(name)}: {count:,} posts</title></rect>"
        )
        out.append(f'<text class="bar-value" x="{name_w + w + 6:.1f}" y="{y + 17}">{count:,} ({share:.1f}%)</text>')
    if not items:
        out.append(f'<text class="bar-value" x="{name_w}" y="20">no label fired</text>')
    out.append("</svg>")
    return "".join(out)
