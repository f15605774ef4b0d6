"""Render :class:`~spamflood.report.build.ReportData` into one self-contained HTML page.

The page skeleton, the flood section and the stylesheet are data files under
``spamflood/data/report/``. Every piece of text that came from the feed (posts, names, ids,
reasons, rejects) goes through :func:`html.escape` before it reaches the page: posts are hostile
input. The page carries a Content-Security-Policy that forbids scripts and network loads, so
even a mistake here could not make a post run code or call home.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources
from string import Template

from spamflood.durations import human_duration, human_span
from spamflood.errors import ConfigError
from spamflood.report.build import (
    AccountLanes,
    FloodView,
    GroupView,
    PostRow,
    ReportData,
    Timeline,
    highlight_spans,
    local_time,
)
from spamflood.report.svg import bar_chart, lanes_chart, timeline_chart

__all__ = ["marked", "render"]

TEXT_LIMIT = 1200  # characters of a representative text shown
ROW_TEXT_LIMIT = 280  # characters of a post shown in the table
NAME_LIMIT = 40


@cache
def template(name: str) -> str:
    """A template file from ``spamflood/data/report``."""
    return resources.files("spamflood").joinpath("data", "report", name).read_text(encoding="utf-8")


def fill(name: str, **values: object) -> str:
    """Template ``name`` with its ``$placeholders`` filled; a damaged template is refused."""
    try:
        return Template(template(name)).substitute(values)
    except (KeyError, ValueError) as exc:
        raise ConfigError(
            f"The report template {name!r} in spamflood/data/report has a placeholder the report does not fill "
            f"({exc}); the known ones are {', '.join('$' + k for k in sorted(values))}. Reinstall spamflood."
        ) from None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def marked(text: str, terms: list[str], limit: int = TEXT_LIMIT) -> str:
    """``text`` escaped, cut to ``limit`` characters, evidence ``terms`` wrapped in ``<mark>``."""
    text = _clip(text, limit)
    out: list[str] = []
    pos = 0
    for a, b in highlight_spans(text, terms):
        out.append(escape(text[pos:a]))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def _pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "0%"


def _card(value: str, name: str, alert: bool = False) -> str:
    return f'<div class="card{" alert" if alert else ""}"><b>{escape(value)}</b><span>{escape(name)}</span></div>'


def _cards(data: ReportData) -> str:
    s = data.summary
    scored, flagged = int(s.get("scored", 0)), int(s.get("flagged", 0))
    cards = [
        _card(f"{scored:,}", "posts scored"),
        _card(f"{flagged:,}", f"flagged ({_pct(flagged, scored)}, score ≥ {data.threshold:g})", alert=flagged > 0),
        _card(f"{int(s.get('floods', 0)):,}", "floods (mass sharing)", alert=int(s.get("floods", 0)) > 0),
        _card(f"{int(s.get('clusters', 0)):,}", "near-duplicate clusters"),
        *(
            [_card(f"{data.groups_total:,}", "coordinated groups", alert=data.groups_total > 0)]
            if data.groups_total is not None
            else []
        ),
        _card(f"{int(s.get('rejected', 0)):,}", "rows rejected"),
        _card(f"{int(s.get('rows_read', scored)):,}", "rows read"),
    ]
    if data.time_first is not None and data.time_last is not None:
        cards.append(_card(human_duration(data.time_last - data.time_first), "time covered"))
    return "".join(cards)


def _subtitle(data: ReportData) -> str:
    parts = []
    if data.source:
        parts.append(f"source: {data.source}")
    if data.time_first is not None and data.time_last is not None:
        parts.append(f"{local_time(data.time_first, data.tz)} to {local_time(data.time_last, data.tz)} ({data.tz})")
    return escape(" · ".join(parts) if parts else "scored feed")


def _outside_note(line: Timeline | AccountLanes | None, unit: str = "posts") -> str:
    if line is None:
        return "No post has a time, so there is no timeline."
    bits = []
    if line.before:
        bits.append(f"{line.before:,} earlier")
    if line.after:
        bits.append(f"{line.after:,} later")
    return f"Not shown: {' and '.join(bits)} {unit} far from the rest." if bits else ""


def _facts(f: FloodView, tz: str) -> str:
    items = [
        ("posts", f"{f.size:,}"),
        ("accounts", f"{f.authors:,}"),
        ("from", local_time(f.first_time, tz) if f.first_time == f.first_time else "unknown"),  # NaN: no post has a time
        ("span", human_span(f.last_time - f.first_time)),
        (
            f"peak in {human_duration(f.window)}",
            "unknown" if f.peak_posts is None else f"{f.peak_posts:,} posts / {f.peak_authors or 0:,} accounts",
        ),
        ("max score", f"{f.max_score:.2f}"),
    ]
    return "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in items)


def _accounts(f: FloodView, tz: str) -> str:
    a = f.accounts
    out = []
    if a.patterns:
        out.append(
            f'<p class="note">{a.patterned:,} of {a.total:,} accounts share a name pattern '
            "(digits shown as #): a sign of batch-made accounts.</p>"
        )
        rows = "".join(
            f'<tr><td class="pattern name">{escape(_clip(p, NAME_LIMIT))}</td><td class="count">{k:,}</td></tr>'
            for p, k, _ in a.patterns
        )
        out.append(_table(("name pattern", "accounts"), rows))
    if a.created_first is not None and a.created_last is not None:
        out.append(
            f'<p class="note">Created {escape(local_time(a.created_first, tz, "%Y-%m-%d"))} to '
            f"{escape(local_time(a.created_last, tz, '%Y-%m-%d'))} "
            f"(spread {escape(human_duration(a.created_last - a.created_first))}); "
            f"{a.created_densest_day:,} of {a.created_known:,} within one day.</p>"
        )
    if a.followers_median is not None:
        out.append(f'<p class="note">Median followers: {a.followers_median:,.0f}.</p>')
    if a.top and a.top[0][1] == 1:  # nobody posted twice: a few names are enough
        names = ", ".join(escape(_clip(name, NAME_LIMIT)) for name, _ in a.top[:6])
        more = f" and {a.total - 6:,} more" if a.total > 6 else ""
        out.append(f'<p class="note name">Each posted once: {names}{more}.</p>')
    elif a.top:
        rows = "".join(
            f'<tr><td class="name">{escape(_clip(name, NAME_LIMIT))}</td><td class="count">{k:,}</td></tr>'
            for name, k in a.top
        )
        out.append("<h4>Most active</h4>" + _table(("account", "posts"), rows))
    return "".join(out)


def _table(head: tuple[str, ...], rows: str) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{rows}</tbody></table>"


def _labels(names: list[str]) -> str:
    return "".join(f'<span class="label">{escape(n)}</span>' for n in names)


def _flood(f: FloodView, tz: str) -> str:
    heading = _clip(" ".join(f.representative_text.split()), 60)
    chart = (
        timeline_chart(f.timeline, tz=tz, label=f"posts and accounts over time in flood {f.rank}")
        if f.timeline is not None
        else ""
    )
    evidence = ""
    if f.evidence:
        evidence = '<ul class="evidence">' + "".join(f"<li>{escape(t)}</li>" for t in f.evidence[:20]) + "</ul>"
    about = "≈ " if f.reasons_sampled else ""
    reasons = "".join(
        f'<li>{escape(r)} <span class="count">{about}{k:,} posts</span></li>' if k > 1 else f"<li>{escape(r)}</li>"
        for r, k in f.reasons
    )
    labels = ", ".join(f"{name} ({k:,})" for name, k in f.labels)
    if labels:
        reasons += f"<li>labels in this cluster: {escape(labels)}</li>"
    return fill(
        "flood.html",
        anchor=f"flood-{f.rank}",
        rank=f.rank,
        heading=escape(heading),
        facts=_facts(f, tz),
        timeline=chart,
        timeline_note=escape(_outside_note(f.timeline)),
        rep_id=escape(f.representative_id),
        text=marked(f.representative_text, f.evidence),
        evidence=evidence,
        reasons=reasons,
        accounts_total=f"{f.accounts.total:,}",
        accounts=_accounts(f, tz),
    )


def _group(g: GroupView, tz: str) -> str:
    """One coordinated group's section: objects, accounts, figures and co-posting timeline."""
    more = g.objects_total - 1
    heading = _clip(g.objects[0], 60) + (f" and {more} more object{'s' if more > 1 else ''}" if more > 0 else "")
    facts = [
        ("accounts", f"{g.accounts:,}"),
        ("posts", f"{g.posts:,}"),
        ("from", local_time(g.first_time, tz) if g.first_time == g.first_time else "unknown"),
        ("span", human_span(g.last_time - g.first_time)),
        (f"pairs co-posting within {human_duration(g.interval)}", f"{g.pairs:,}"),
        ("median co-posts per pair", f"{g.median:g}"),
        ("max score", f"{g.max_score:.2f}"),
    ]
    lanes = g.lanes
    chart, note = "", _outside_note(lanes)
    if lanes is not None:
        chart = lanes_chart(lanes, tz=tz, label=f"posts per account over time in coordinated group {g.rank}")
        if lanes.hidden:
            note = (
                f"{len(lanes.names):,} most active accounts drawn; {lanes.hidden:,} more "
                f"({lanes.hidden_posts:,} posts) are counted in the top strip only. {note}"
            ).strip()
    objects = "".join(f"<li>{escape(_clip(o, 120))}</li>" for o in g.objects)
    if g.objects_total > len(g.objects):
        objects += f'<li class="muted">and {g.objects_total - len(g.objects):,} more</li>'
    rows = "".join(
        f'<tr><td class="name">{escape(_clip(name, NAME_LIMIT))}</td><td class="count">{k:,}</td></tr>'
        for name, k in g.names
    )
    accounts = _table(("account", "posts"), rows)
    if g.accounts > len(g.names):
        accounts += f'<p class="note">and {g.accounts - len(g.names):,} more accounts.</p>'
    return fill(
        "group.html",
        anchor=f"group-{g.rank}",
        rank=g.rank,
        heading=escape(heading),
        facts="".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts),
        reason=f'<ul class="reasons"><li>{escape(g.reason)}</li></ul>' if g.reason else "",
        timeline=chart,
        timeline_note=escape(note),
        objects_total=f"{g.objects_total:,}",
        objects=objects,
        accounts_total=f"{g.accounts:,}",
        accounts=accounts,
    )


def _groups_note(data: ReportData) -> str:
    if data.groups_total is None:
        return "Coordinated groups were not looked for by the engine that scored this feed."
    if not data.groups_total:
        return "No coordinated group was found: no set of accounts repeatedly posted the same link, hashtag, mention or repost within seconds of each other."
    if not data.groups:
        return "Group sections were left out (top=0)."
    return (
        f"{len(data.groups):,} of {data.groups_total:,} groups, most accounts first: accounts that repeatedly posted "
        "the same objects within the coordination interval. Timeline: posts per time bucket on top, then one lane "
        "per account; accounts posting together line up in columns."
    )


def _row(p: PostRow, tz: str) -> str:
    when = local_time(p.time, tz) if p.time == p.time else "–"
    flood = (
        f'<a href="#flood-{p.flood_rank}">#{p.flood_rank}</a>'
        if p.flood_rank is not None
        else ("" if p.cluster < 0 else f"cluster {p.cluster}")
    )
    why = "".join(f"<li>{escape(r)}</li>" for r in p.reasons)
    return (
        f'<tr class="{"flagged" if p.flagged else ""}">'
        f'<td class="num">{p.score:.2f}</td>'
        f'<td class="text">{marked(p.text, p.evidence, ROW_TEXT_LIMIT)}<br>{_labels(p.labels)}'
        f'<br><span class="muted">id {escape(_clip(p.id, NAME_LIMIT))}</span></td>'
        f'<td class="name">{escape(_clip(p.author, NAME_LIMIT))}</td>'
        f'<td class="num">{escape(when)}</td>'
        f'<td class="why"><ul>{why}</ul></td>'
        f"<td>{flood}</td></tr>"
    )


def _rejects(data: ReportData) -> str:
    total = int(data.summary.get("rejected", len(data.rejects)))
    if not total:
        return ""
    rows = "".join(
        f'<tr><td class="num">{line}</td><td>{escape(field or "")}</td>'
        f'<td class="text">{escape(_clip(reason, 300))}</td></tr>'
        for line, field, reason in data.rejects
    )
    more = f" The first {len(data.rejects):,} are listed." if total > len(data.rejects) else ""
    return (
        '<section id="rejects"><h2>Rejected rows</h2>'
        f'<p class="note">{total:,} rows could not be scored; '
        f"they are in the rejects file with their raw input.{more}</p>"
        + _table(("line", "field", "reason"), rows)
        + "</section>"
    )


def render(data: ReportData) -> str:
    """The report page as one HTML string (inline CSS and SVG; no script, no external resource)."""
    from spamflood import __version__

    tz = data.tz
    scored = int(data.summary.get("scored", 0))
    overview = '<p class="note">No post has a time.</p>'
    if data.overview is not None:
        marks = [(f.peak_start, str(f.rank), f"#flood-{f.rank}") for f in data.floods if f.peak_start == f.peak_start]
        overview = timeline_chart(
            data.overview, tz=tz, names=("posts", "flagged"), marks=marks, label="posts and flagged posts over time"
        ).replace('class="chart timeline"', 'class="chart timeline overview"', 1)
        note = _outside_note(data.overview)
        if note:
            overview += f'<p class="note">{escape(note)}</p>'
    if data.floods and data.floods[0].flood:
        heading = "Top floods"
        shown = len(data.floods)
        note = (
            f"{shown:,} of {data.floods_total:,} floods, most accounts first. "
            "Bars: posts per time bucket; line: distinct accounts posting in it."
        )
    elif data.floods:
        heading = "Largest near-duplicate clusters"
        note = "No cluster reached the mass-sharing threshold; the largest clusters are shown instead."
    else:
        heading = "Floods"
        clusters = int(data.summary.get("clusters", 0))
        note = "No near-duplicate clusters were found." if not clusters else "Flood sections were left out (top=0)."
    posts_note = (
        f"The {len(data.posts):,} highest-scored posts, at most {data.per_cluster} from any one cluster "
        "(a flood's other copies are summarised above). Highlighted: the evidence named in the reasons."
        if data.posts
        else ("No post scored above zero." if data.max_rows else "The post table was left out (max_rows=0).")
    )
    rejects = _rejects(data)
    return fill(
        "page.html",
        version=escape(__version__),
        title=escape(data.title),
        css=template("report.css"),
        subtitle=_subtitle(data),
        rejects_link=' <a href="#rejects">Rejects</a>' if rejects else "",
        cards=_cards(data),
        label_chart=bar_chart(data.label_counts, total=scored),
        overview=overview,
        floods_heading=heading,
        floods_note=escape(note),
        floods="\n".join(_flood(f, tz) for f in data.floods),
        groups_note=escape(_groups_note(data)),
        groups="\n".join(_group(g, tz) for g in data.groups),
        posts_note=escape(posts_note),
        rows="\n".join(_row(p, tz) for p in data.posts),
        rejects=rejects,
    )
