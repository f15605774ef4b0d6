"""Reading exports: field maps, timestamps, formats, and every bad row ending in the rejects."""

from __future__ import annotations

import gzip
import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamflood.errors import ConfigError, InputError
from spamflood.io import (
    FieldMap,
    RowParser,
    iter_chunks,
    open_writer,
    parse_time,
    preset_names,
    write_records,
)
from spamflood.io.readers import ReadStats, detect_format


def rows_of(source, **kw):
    return [row for chunk in iter_chunks(source, **kw) for row in chunk]


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param("2026-02-17T08:00:00+08:00", datetime(2026, 2, 17, 0, tzinfo=UTC), id="iso-offset"),
        pytest.param("2026-02-17T00:00:00Z", datetime(2026, 2, 17, 0, tzinfo=UTC), id="iso-z"),
        pytest.param("2026-02-17 00:00:00", datetime(2026, 2, 17, 0, tzinfo=UTC), id="iso-space-naive"),
        pytest.param(1771286400, datetime(2026, 2, 17, 0, tzinfo=UTC), id="epoch-s"),
        pytest.param(1771286400000, datetime(2026, 2, 17, 0, tzinfo=UTC), id="epoch-ms"),
        pytest.param("1771286400", datetime(2026, 2, 17, 0, tzinfo=UTC), id="epoch-s-string"),
        pytest.param("1771286400123", datetime(2026, 2, 17, 0, 0, 0, 123000, tzinfo=UTC), id="epoch-ms-string"),
        pytest.param("Wed Oct 10 20:19:24 +0000 2018", datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC), id="twitter"),
    ],
)
def test_parse_time_formats(value, expected):
    assert parse_time(value) == pytest.approx(expected.timestamp())


def test_naive_time_is_read_in_the_given_zone():
    from spamflood.io.timestamps import resolve_tz

    shanghai = parse_time("2026-02-17 08:00:00", resolve_tz("Asia/Shanghai"))
    assert shanghai == datetime(2026, 2, 17, 0, tzinfo=UTC).timestamp()
    assert parse_time("2026-02-17 08:00:00", resolve_tz("+08:00")) == shanghai


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-45", True, None, [1], float("nan"), 12])
def test_parse_time_rejects_garbage(value):
    with pytest.raises(ValueError):
        parse_time(value)


def test_unknown_time_zone_is_a_config_error():
    from spamflood.io.timestamps import resolve_tz

    with pytest.raises(ConfigError, match="Unknown time zone 'Mars/Olympus'"):
        resolve_tz("Mars/Olympus")


@given(st.datetimes(min_value=datetime(1991, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)))
def test_iso_and_epoch_round_trip(dt):
    assert parse_time(dt.isoformat()) == pytest.approx(dt.timestamp())
    assert parse_time(int(dt.timestamp() * 1000)) == pytest.approx(dt.timestamp(), abs=1e-3)


# ---------------------------------------------------------------- field maps


def test_field_map_with_dotted_paths_and_alternatives():
    fm = FieldMap.parse("id=mid,text=content|body,author=user.id,time=created_at")
    post = RowParser(fm).parse(
        3, {"mid": 7, "body": "hello", "user": {"id": 42}, "created_at": "2026-01-01T00:00:00Z"}
    )
    assert (post.id, post.text, post.author, post.line) == ("7", "hello", "42", 3)


def test_presets_exist_and_read_twitter_v1():
    assert {"canonical", "twitter-v1", "twitter-v2", "weibo"} <= set(preset_names())
    tweet = {
        "id_str": "1050118621198921728",
        "full_text": "Big sale today only!",
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "user": {
            "id_str": "6253282",
            "screen_name": "deals_0231",
            "description": "",
            "created_at": "Wed Oct 03 20:19:24 +0000 2018",
            "followers_count": 3,
            "friends_count": 2001,
            "statuses_count": 5000,
        },
        "retweeted_status": {"id_str": "99"},
    }
    post = RowParser(FieldMap.preset("twitter-v1")).parse(1, tweet)
    assert post.author == "6253282" and post.author_name == "deals_0231"
    assert post.followers == 3 and post.following == 2001 and post.statuses == 5000
    assert post.repost_of == "99"
    assert post.author_created == pytest.approx(post.time - 7 * 86400)


def test_twitter_v2_preset_reads_inlined_author():
    tweet = {
        "id": "1",
        "text": "hi there",
        "author_id": "12",
        "created_at": "2022-01-01T00:00:00.000Z",
        "author": {"username": "x", "created_at": "2021-01-01T00:00:00.000Z", "public_metrics": {"followers_count": 5}},
    }
    post = RowParser(FieldMap.preset("twitter-v2")).parse(1, tweet)
    assert (post.author, post.author_name, post.followers) == ("12", "x", 5.0)
    assert math.isnan(post.following)


@pytest.mark.parametrize(
    "spec, message",
    [
        pytest.param("colour=x", "Unknown field 'colour'", id="unknown-field"),
        pytest.param("text", "must look like name=path", id="no-equals"),
        pytest.param("text=", "always required", id="drop-text"),
    ],
)
def test_bad_field_maps(spec, message):
    with pytest.raises(ConfigError, match=message):
        FieldMap.parse(spec)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="Unknown field-map preset 'myspace'"):
        FieldMap.preset("myspace")


def test_optional_core_fields_can_be_absent():
    fm = FieldMap.parse(optional=("author", "time"))
    post = RowParser(fm).parse(1, {"id": "a", "text": "x"})
    assert post.author == "a" and math.isnan(post.time)


# ---------------------------------------------------------------- row validation


GOOD = {"id": "1", "text": "hello", "author": "u1", "time": "2026-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    "payload, field, reason",
    [
        pytest.param(b'{"id": "1", "text": ', None, "malformed JSON", id="truncated-json"),
        pytest.param(b'["not", "an", "object"]', None, "expected a JSON object", id="array"),
        pytest.param(b'{"id": "1", "text": "caf\xe9"}', None, "invalid UTF-8 at byte", id="latin1-byte"),
        pytest.param({**GOOD, "text": ""}, "text", "missing or empty", id="empty-text"),
        pytest.param({**GOOD, "text": "   \n"}, "text", "empty text", id="blank-text"),
        pytest.param({**GOOD, "text": 12}, "text", "expected a string, got int", id="text-int"),
        pytest.param({**GOOD, "text": "x" * 20_001}, "text", "oversized text: 20001 characters", id="huge-text"),
        pytest.param({k: v for k, v in GOOD.items() if k != "author"}, "author", "missing", id="no-author"),
        pytest.param({**GOOD, "author": {"id": 1}}, "author", "expected a string or integer", id="author-dict"),
        pytest.param({**GOOD, "id": True}, "id", "expected a string or integer, got bool", id="id-bool"),
        pytest.param({**GOOD, "time": "soon"}, "time", "unparseable time 'soon'", id="bad-time"),
        pytest.param({**GOOD, "time": 99}, "time", "outside 1990..2100", id="time-out-of-range"),
    ],
)
def test_bad_rows_name_line_and_field(payload, field, reason):
    with pytest.raises(InputError, match=reason) as info:
        RowParser().parse(17, payload)
    assert info.value.line == 17
    assert info.value.field == field
    assert str(info.value).startswith("line 17")


def test_numeric_strings_and_thousands_separators_are_counts():
    post = RowParser().parse(1, {**GOOD, "followers": "1,204", "following": 3})
    assert post.followers == 1204 and post.following == 3


@pytest.mark.parametrize(
    "field, value, reason",
    [
        pytest.param("followers", "many", "expected a number, got 'many'", id="followers-text"),
        pytest.param("followers", -3, "non-negative", id="followers-negative"),
        pytest.param("following", True, "expected a number, got bool", id="following-bool"),
        pytest.param("statuses", "1,2", "expected a number, got '1,2'", id="statuses-bad-grouping"),
        pytest.param("author_created", "then", "unparseable time 'then'", id="bad-created"),
        pytest.param("author_name", 12, "expected a string, got int", id="name-int"),
        pytest.param("author_bio", "bad \udcff byte", "invalid UTF-8", id="bio-surrogate"),
        pytest.param("repost_of", {"id": 1}, "expected a string or integer, got dict", id="repost-dict"),
    ],
)
def test_an_unreadable_optional_field_is_missing_and_counted_not_a_reject(field, value, reason):
    from spamflood.io.rows import FieldWarnings

    warnings = FieldWarnings()
    post = RowParser().parse(17, {**GOOD, field: value}, warnings)
    assert (post.id, post.text) == (GOOD["id"], GOOD["text"])
    got = getattr(post, field)
    assert got is None or math.isnan(got)
    assert warnings.counts == {field: 1}
    line, why = warnings.first[field]
    assert line == 17 and reason in why
    assert warnings.messages() == [f"field '{field}': 1 unreadable value read as missing (first on line 17: {why})"]


def test_weibo_display_counts_are_read_by_both_validation_paths():
    from spamflood.io.rows import FieldWarnings

    counts = ["1.2万", "12万", "1.2亿", "3,456", "1.5M", "1.2k", "10万+", 7, None, ""]
    expected = [12_000, 120_000, 120_000_000, 3456, 1_500_000, 1200, 100_000, 7, math.nan, math.nan]
    rows = [(i + 1, {**GOOD, "id": str(i), "followers": c}) for i, c in enumerate(counts)]
    warnings = FieldWarnings()
    batch, rejects = RowParser().parse_batch(rows, warnings)
    assert rejects == [] and not warnings
    assert batch.followers.tolist() == pytest.approx(expected, nan_ok=True)
    assert [RowParser().parse(*row).followers for row in rows] == pytest.approx(expected, nan_ok=True)


def test_core_fields_still_reject_and_optional_author_and_time_are_lenient():
    from spamflood.io.rows import FieldWarnings

    bad = {**GOOD, "author": {"id": 1}, "time": "soon", "followers": "many"}
    warnings = FieldWarnings()
    with pytest.raises(InputError, match="field 'author'"):
        RowParser().parse(3, bad, warnings)
    assert not warnings  # a rejected row counts no warning
    post = RowParser(FieldMap.parse(optional=("author", "time"))).parse(3, bad, warnings)
    assert (post.author, math.isnan(post.time), math.isnan(post.followers)) == (GOOD["id"], True, True)
    assert warnings.counts == {"author": 1, "time": 1, "followers": 1}


def test_warnings_of_chunks_add_up_keeping_the_earliest_first_line():
    from spamflood.io.rows import FieldWarnings

    early, late = FieldWarnings(), FieldWarnings()
    late.add("followers", 90, "expected a number, got 'x'")
    late.add("author_bio", 95, "invalid UTF-8")
    early.add("followers", 4, "expected a number, got 'y'")
    late.update(early)
    assert late.counts == {"followers": 2, "author_bio": 1}
    assert late.first == {"followers": (4, "expected a number, got 'y'"), "author_bio": (95, "invalid UTF-8")}
    assert [m.split(":")[0] for m in late.messages()] == ["field 'author_bio'", "field 'followers'"]


# ---------------------------------------------------------------- readers and real malformed files


def test_jsonl_file_with_bad_lines(tmp_path):
    path = tmp_path / "feed.jsonl"
    lines = [
        json.dumps(GOOD).encode(),
        b"",
        b"{broken json",
        json.dumps({**GOOD, "id": "2", "time": "never"}).encode(),
        b'{"id": "3", "text": "bad \xff byte", "author": "u", "time": 1771286400}',
        json.dumps({**GOOD, "id": "4"}, ensure_ascii=False).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    stats = ReadStats()
    rows = rows_of(str(path), stats=stats)
    assert [line for line, _ in rows] == [1, 3, 4, 5, 6]
    assert stats.blank_lines == 1
    posts, rejects = RowParser().parse_many(rows)
    assert [p.id for p in posts] == ["1", "4"]
    assert [(r.line, r.field) for r in rejects] == [(3, None), (4, "time"), (5, None)]
    assert "\\xff" in rejects[2].raw  # the raw line is kept, invalid byte visible


def test_csv_file_with_multiline_fields_and_bad_rows(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(
        b"id,text,author,time\n"
        b'1,"two\nlines",u1,2026-01-01T00:00:00Z\n'
        b"2,too,many,fields,here\n"
        b"3,bad \xff byte,u3,2026-01-01T00:00:00Z\n"
        b"4,ok,u4,2026-01-01T00:00:00Z\n"
    )
    posts, rejects = RowParser().parse_many(rows_of(str(path)))
    assert [(p.id, p.line) for p in posts] == [("1", 2), ("4", 6)]
    assert posts[0].text == "two\nlines"
    assert [(r.line, r.field) for r in rejects] == [(4, None), (5, "text")]
    assert "header has 4" in rejects[0].reason
    assert "invalid UTF-8" in rejects[1].reason


def test_parquet_round_trip_with_nested_fields(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(
        [
            {"mid": "a", "content": "hello", "user": {"id": "u1"}, "ts": 1771286400},
            {"mid": "b", "content": None, "user": {"id": "u2"}, "ts": 1771286400},
        ]
    )
    path = tmp_path / "feed.parquet"
    pq.write_table(table, path)
    fm = FieldMap.parse("id=mid,text=content,author=user.id,time=ts")
    posts, rejects = RowParser(fm).parse_many(rows_of(str(path)))
    assert [p.id for p in posts] == ["a"]
    assert [(r.line, r.field, r.reason) for r in rejects] == [(2, "text", "missing or empty")]


def test_dataframe_rows_are_numbered_from_one():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"id": ["a", "b"], "text": ["x", None], "author": ["u", "v"], "time": pd.to_datetime(["2026-01-01"] * 2, utc=True)}
    )
    posts, rejects = RowParser().parse_many(rows_of(frame))
    assert [p.id for p in posts] == ["a"] and rejects[0].line == 2


def test_chunking_keeps_every_row(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps({**GOOD, "id": str(i)}) + "\n" for i in range(25)))
    chunks = list(iter_chunks(str(path), chunk_rows=10))
    assert [len(c) for c in chunks] == [10, 10, 5]


@pytest.mark.parametrize(
    "name, fmt",
    [("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"), ("a.csv.gz", "csv"), ("a.parquet", "parquet"), ("-", "jsonl")],
)
def test_detect_format(name, fmt):
    assert detect_format(name) == fmt


def test_unknown_extension_asks_for_format():
    with pytest.raises(ConfigError, match="pass --format"):
        detect_format("feed.xml")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        rows_of(str(tmp_path / "nope.jsonl"))


@pytest.mark.parametrize("ext", ["jsonl", "csv", "parquet"])
def test_writers_round_trip(tmp_path, ext):
    if ext == "parquet":
        pytest.importorskip("pyarrow")
    records = [
        {"id": "1", "score": 0.9, "labels": ["mass_share", "soft_ad"], "reasons": ["a", "b"], "cluster": 0},
        {"id": "2", "score": 0.1, "labels": [], "reasons": [], "cluster": None},
    ]
    path = tmp_path / f"out.{ext}"
    assert write_records(path, records) == 2
    back = [dict(r) for _, r in rows_of(str(path))] if ext != "jsonl" else [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["id"] for r in back] == ["1", "2"]
    if ext == "csv":
        assert back[0]["labels"] == "mass_share;soft_ad" and back[1]["cluster"] == ""
    else:
        assert list(back[0]["labels"]) == ["mass_share", "soft_ad"] and back[1]["cluster"] is None


# ---------------------------------------------------------------- columns straight from rows

class _Ambiguous:
    """A value that cannot be compared or tested for truth (as pandas.NA): never a crash."""

    def __eq__(self, other):
        raise TypeError("boolean value of NA is ambiguous")

    __ne__ = __eq__
    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError("boolean value of NA is ambiguous")

    def __repr__(self):
        return "<NA>"


class _Str(str):
    """A str subclass (as numpy.str_): read as one, never as an empty plain str."""


_VALUES = st.one_of(
    st.none(),
    st.just(""),
    st.just(_Str("")),
    st.just(_Str("x")),
    st.just(_Ambiguous()),
    st.just(2**1023),
    st.just("  "),
    st.text(max_size=8),
    st.integers(-5, 10**12),
    st.just(10**400),  # no float holds it
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["2026-01-20T00:00:15+08:00", "2026-01-20", "1771286400", "12:30", "1e9", "x\ud800y", " 7 ", "1,234"]),
    st.sampled_from(["1.2万", "10万+", "1.5M", "3k", "1,2", "-4", "nan", "1.2亿", "9" * 400]),  # display counts
    st.lists(st.integers(), max_size=2),
)
_RECORDS = st.dictionaries(
    st.sampled_from(["id", "text", "author", "time", "author_name", "author_bio", "repost_of", "author_created",
                     "followers", "following", "statuses", "content", "user", "label"]),
    _VALUES,
    max_size=12,
)


@given(
    st.sampled_from([None, "text=content|text,author=user.id", "time=,author="]),
    st.lists(st.one_of(_RECORDS, st.just(b"not json"), st.just(b'{"id": 1, "text": "hi", "author": "a", "time": 1771286400}')), max_size=6),
)
def test_parse_batch_gives_the_columns_of_the_parsed_posts(spec, payloads):
    import numpy as np

    from spamflood.io.rows import FieldWarnings
    from spamflood.posts import PostBatch

    fm = FieldMap() if spec is None else FieldMap.parse(spec, keep=("label",))
    parser = RowParser(fm, tz="Asia/Shanghai", max_text_chars=6)
    rows = [(i + 1, p) for i, p in enumerate(payloads)]
    warnings, expected_warnings = FieldWarnings(), FieldWarnings()
    batch, rejects = parser.parse_batch(rows, warnings)
    posts, expected_rejects = parser.parse_many(rows, expected_warnings)
    expected = PostBatch.from_posts(posts)
    assert [r.to_dict() for r in rejects] == [r.to_dict() for r in expected_rejects]
    assert warnings == expected_warnings
    assert len(batch) + len(rejects) == len(rows)
    for name in ("ids", "texts", "authors", "author_name", "author_bio", "repost_of", "extra"):
        assert getattr(batch, name) == getattr(expected, name), name
    for name in ("times", "lines", "author_created", "followers", "following", "statuses"):
        np.testing.assert_array_equal(getattr(batch, name), getattr(expected, name), err_msg=name)


_LAYOUTS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.{ms}Z",
            "%Y-%m-%dT%H:%M:%S.{us}{off}", "%Y-%m-%dT%H:%M:%S{off}", "%Y-%m-%d %H:%M:%S.{ms}",
            "%Y-%m-%dT%H:%M:%S.{d1}Z", "%Y-%m-%dT%H:%M:%S.{d2}", "%Y-%m-%dT%H:%M:%S.", "%Y-%m-%dT%H:%M:%S.{ms}5")


@st.composite
def _iso_times(draw):
    """ISO 8601 times in the layouts exports write, some outside 1990..2100 or not dates."""
    dt = draw(st.datetimes(min_value=datetime(1985, 1, 1), max_value=datetime(2105, 12, 31)))
    hours = draw(st.integers(-23, 23))
    off = f"{'-' if hours < 0 else '+'}{abs(hours):02d}:{draw(st.sampled_from([0, 30, 45, 59])):02d}"
    digits = f"{dt.microsecond:06d}"
    text = dt.strftime(draw(st.sampled_from(_LAYOUTS))).format(ms=digits[:3], us=digits, d1=digits[:1], d2=digits[:2], off=off)
    broken = draw(st.sampled_from([None, (5, "13"), (8, "30"), (8, "00"), (11, "24"), (14, "60"), (17, "60"), (10, "x")]))
    if broken is not None and broken[0] + 2 <= len(text):
        at, part = broken
        text = text[:at] + part + text[at + len(part):]
    return text


_GOOD = {
    "id": st.text("abcXYZ0189-_ ", min_size=1, max_size=6),
    "text": st.text(min_size=1, max_size=8),
    "author": st.text("abc0189 ", min_size=1, max_size=5),
    "time": st.one_of(_iso_times(), st.integers(631152000, 4102444800)),
    "author_name": st.one_of(st.none(), st.text(max_size=5)),
    "author_bio": st.one_of(st.none(), st.just(""), st.text(max_size=5)),
    "author_created": st.one_of(st.none(), _iso_times()),
    "followers": st.one_of(st.integers(0, 10**6), st.floats(0, 1e6), st.sampled_from(["1.2万", "3,456", "12"])),
    "following": st.integers(0, 10**6),
    "statuses": st.one_of(st.none(), st.integers(0, 10**6)),
    "repost_of": st.one_of(st.none(), st.text("abc019", min_size=1, max_size=4)),
}


@st.composite
def _mostly_good_rows(draw):
    """Rows most of which are valid (so that whole-column checks vouch for them), with some
    fields broken and some rows not records at all."""
    n = draw(st.integers(1, 12))
    broken_share = draw(st.sampled_from([0.0, 0.1, 0.5]))
    rows = []
    for i in range(n):
        record = {name: draw(strategy) for name, strategy in _GOOD.items()}
        if draw(st.floats(0, 1)) < broken_share:
            record[draw(st.sampled_from(sorted(_GOOD)))] = draw(_VALUES)
        kind = draw(st.sampled_from(["json", "json", "dict", "bad"]))
        if kind == "bad":
            payload = draw(st.sampled_from([b"not json", b"[1, 2]", b"\xff\xfe{}", {"\x00csv_error": "unclosed quote"}]))
        elif kind == "json":
            try:
                payload = json.dumps(record, ensure_ascii=draw(st.booleans())).encode("utf-8")
            except (UnicodeEncodeError, TypeError):  # a lone surrogate, an NA: only a DataFrame row has them
                payload = record
        else:
            payload = record
        rows.append((i + 1, payload))
    return rows


@given(_mostly_good_rows(), st.sampled_from(["UTC", "+08:00", "Asia/Shanghai"]), st.sampled_from([None, "time=,author="]))
def test_column_checks_take_exactly_what_one_row_validation_takes(rows, tz, spec):
    import numpy as np

    from spamflood.io.rows import FieldWarnings
    from spamflood.posts import PostBatch

    parser = RowParser(None if spec is None else FieldMap.parse(spec), tz=tz, max_text_chars=6)
    warnings, expected_warnings = FieldWarnings(), FieldWarnings()
    batch, rejects = parser.parse_batch(rows, warnings)
    posts, expected_rejects = parser.parse_many(rows, expected_warnings)
    expected = PostBatch.from_posts(posts)
    assert [r.to_dict() for r in rejects] == [r.to_dict() for r in expected_rejects]
    assert warnings == expected_warnings
    for name in ("ids", "texts", "authors", "author_name", "author_bio", "repost_of"):
        assert getattr(batch, name) == getattr(expected, name), name
    for name in ("times", "lines", "author_created", "followers", "following", "statuses"):
        np.testing.assert_array_equal(getattr(batch, name), getattr(expected, name), err_msg=name)


@given(st.lists(_iso_times(), max_size=20), st.sampled_from(["UTC", "-03:30", "Europe/London"]))
def test_a_column_of_iso_times_reads_as_parse_time_reads_each(values, tz):
    import numpy as np

    from spamflood.io.timestamps import parse_iso_column, resolve_tz

    zone = resolve_tz(tz)
    seconds, read = parse_iso_column(values, zone)
    for value, got, ok in zip(values, seconds.tolist(), read.tolist()):
        try:
            expected = parse_time(value, zone)
        except ValueError:
            assert not ok, value
            continue
        if ok:
            assert got == expected, value
    assert np.isnan(seconds[~read]).all()


@given(
    st.lists(st.datetimes(min_value=datetime(1991, 1, 1), max_value=datetime(2099, 12, 31)), min_size=1, max_size=20),
    st.sampled_from(["%Y-%m-%dT%H:%M:%S+08:00", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f-05:30",
                     "%Y-%m-%dT%H:%M:%S.{ms}Z"]),
    st.sampled_from(["UTC", "-03:30"]),
)
def test_a_column_in_one_export_layout_is_read_whole(moments, layout, tz):
    from spamflood.io.timestamps import parse_iso_column, resolve_tz

    values = [m.strftime(layout).format(ms=f"{m.microsecond // 1000:03d}") for m in moments]
    seconds, read = parse_iso_column(values, resolve_tz(tz))
    assert read.all()
    assert seconds.tolist() == [parse_time(v, resolve_tz(tz)) for v in values]


def test_a_pickled_parser_reads_rows_as_the_original_does():
    import pickle

    import spamflood.io.rows as rows_module

    parser = RowParser(FieldMap.parse("time=,author="), tz="Asia/Shanghai")
    copy = pickle.loads(pickle.dumps(parser))
    # fields outside the map are marked by this process's own sentinel (else every record
    # would take the slow path)
    assert sum(key is rows_module._ABSENT for key in copy._plan[0]) == sum(key is rows_module._ABSENT for key in parser._plan[0]) > 0
    rows = [(1, b'{"id": "a", "text": "hi", "time": "2026-01-20 08:00:00"}'), (2, b'{"id": "b"}')]
    assert [r.to_dict() for r in copy.parse_batch(rows)[1]] == [r.to_dict() for r in parser.parse_batch(rows)[1]]
    assert copy.parse_batch(rows)[0].ids == ["a"]


def test_a_time_string_seen_before_reads_the_same_and_the_memory_is_not_pickled():
    import pickle

    parser = RowParser(tz="Asia/Shanghai")
    row = {"id": "1", "text": "hi", "author": "a", "time": "2026-02-17 08:00:00", "author_created": "2026-02-17 08:00:00"}
    first = parser.parse(1, row)
    again = parser.parse(2, dict(row, id="2"))
    assert first.time == again.time == first.author_created == datetime(2026, 2, 17, 0, tzinfo=UTC).timestamp()
    assert pickle.loads(pickle.dumps(parser))._times == {}
    assert RowParser(tz="UTC").parse(1, row).time == first.time + 8 * 3600  # the memory is per zone


_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=False),
    st.text(max_size=6),
    st.text(alphabet='ab"\\\n\t/é中😀%', max_size=6),
    st.lists(st.text(alphabet='ab"\\\x00\x01 中,[]', max_size=5), max_size=3),
    st.lists(st.integers(0, 9), max_size=2),
)


@given(st.integers(1, 6).flatmap(lambda n: st.dictionaries(st.text(alphabet="ab%\"_", min_size=1, max_size=4), st.lists(_CELLS, min_size=n, max_size=n), min_size=1, max_size=4)))
def test_columns_write_the_bytes_their_rows_write(tmp_path_factory, columns):
    n = len(next(iter(columns.values())))
    folder = tmp_path_factory.mktemp("cols")
    with open_writer(folder / "rows.jsonl") as writer:
        writer.write_many([{name: col[i] for name, col in columns.items()} for i in range(n)])
    with open_writer(folder / "cols.jsonl") as writer:
        writer.write_columns(columns)
        assert writer.count == n
    assert (folder / "cols.jsonl").read_bytes() == (folder / "rows.jsonl").read_bytes()


def test_numpy_columns_are_written_as_the_python_numbers_they_hold(tmp_path):
    import numpy as np

    columns = {
        "f64": np.array([0.1, float("nan"), 1e-7]),
        "f32": np.array([0.1, 2.5, 3.0], dtype=np.float32),
        "i": np.array([-1, 0, 2**40]),
        "b": np.array([True, False, True]),
        "s": ["a", "é\"", "x"],
    }
    rows = [{k: (float(v[i]) if k.startswith("f") else v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in columns.items()} for i in range(3)]
    with open_writer(tmp_path / "rows.jsonl") as writer:
        writer.write_many(rows)
    with open_writer(tmp_path / "cols.jsonl") as writer:
        writer.write_columns(columns)
    assert (tmp_path / "cols.jsonl").read_bytes() == (tmp_path / "rows.jsonl").read_bytes()
    assert json.loads((tmp_path / "cols.jsonl").read_text().splitlines()[1])["f64"] is None


def test_columns_of_unequal_length_are_refused_and_csv_gets_rows(tmp_path):
    with open_writer(tmp_path / "x.jsonl") as writer, pytest.raises(ValueError, match="columns of one length"):
        writer.write_columns({"a": [1, 2], "b": [1]})
    with open_writer(tmp_path / "x.csv") as writer:
        writer.write_columns({"id": ["1", "2"], "labels": [["a", "b"], []]})
    assert (tmp_path / "x.csv").read_text().splitlines() == ["id,labels", "1,a;b", "2,"]


def test_equal_account_strings_become_one_object_and_keep_their_values():
    from spamflood.posts import PostBatch

    rows = [
        (i + 1, {"id": str(i), "text": "hi", "author": "".join(["u", "1"]), "time": 1771286400, "author_name": "".join(["Ann", "a"][: 1 + i % 2]), "author_bio": None})
        for i in range(4)
    ]
    batch, _ = RowParser().parse_batch(rows)
    assert batch.authors == ["u1"] * 4 and batch.author_name == ["Ann", "Anna", "Ann", "Anna"]
    assert batch.authors[0] is batch.authors[3] and batch.author_name[0] is batch.author_name[2]
    other = PostBatch.from_posts(RowParser().parse_many(rows)[0])
    table = batch.share_strings()
    before = list(other.author_name)
    other.share_strings(table)
    assert other.author_name == before and other.author_name[1] is batch.author_name[1]
    assert other.author_bio == [None] * 4


@given(
    lines=st.lists(
        st.sampled_from([b'{"id": "1", "text": "hi"}', b"", b"  ", b"\r", b"{broken", b"\xff\xfe", b"\xe4\xbd\xa0\xe5\xa5\xbd"]),
        max_size=60,
    ),
    trailing_newline=st.booleans(),
    rows_per_span=st.sampled_from([1, 7, 5000]),
)
def test_jsonl_spans_give_the_rows_and_blank_lines_iter_chunks_gives(tmp_path_factory, lines, trailing_newline, rows_per_span):
    from spamflood.io.readers import jsonl_spans

    path = tmp_path_factory.mktemp("spans") / "feed.jsonl"
    data = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    data = data * 400  # past the smallest span (64 KB) so that a file is cut several times
    path.write_bytes(data)
    stats = ReadStats()
    expected = [row for chunk in iter_chunks(path, stats=stats) for row in chunk]
    rows, blank = [], 0
    spans = list(jsonl_spans(path, rows_per_span=rows_per_span))
    for span in spans:
        got, skipped = span.rows()
        assert all(span.first_line <= line < span.first_line + span.lines for line, _ in got)
        rows += got
        blank += skipped
    assert rows == expected and blank == stats.blank_lines
    # the spans number every line of the file once, in order
    assert [s.first_line for s in spans[1:]] == [s.first_line + s.lines for s in spans[:-1]]
    assert sum(s.lines for s in spans) == data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))


@given(st.lists(st.one_of(st.text(max_size=3), st.integers(-3, 3)), max_size=50))
def test_dense_codes_number_distinct_values_in_order_of_first_appearance(values):
    from spamflood.posts import dense_codes

    codes, distinct = dense_codes(values)
    expected: dict[object, int] = {}
    for value in values:
        expected.setdefault(value, len(expected))
    assert codes.tolist() == [expected[v] for v in values]
    assert distinct == list(expected)
    assert [distinct[c] for c in codes.tolist()] == values


@pytest.mark.parametrize("jobs", [1, 2, 3])
@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_rows_encoded_by_forked_processes_are_written_in_order(tmp_path, jobs, suffix):
    from spamflood.io.writers import jsonl_of_columns

    n = 1003
    ids = [f"p{i}" for i in range(n)]
    scores = [i / 7 for i in range(n)]

    def encode(start, stop):
        return jsonl_of_columns({"id": ids[start:stop], "score": scores[start:stop]})

    path = tmp_path / f"out{suffix}"
    with open_writer(path) as writer:
        writer.write_parts(encode, n, jobs=jobs, step=100)
        assert writer.count == n
    raw = gzip.decompress(path.read_bytes()) if suffix.endswith(".gz") else path.read_bytes()
    assert raw == encode(0, n)


def test_a_failing_encoder_process_fails_the_write(tmp_path):
    from spamflood.errors import SpamfloodError

    def encode(start, stop):
        if start >= 500:
            raise ValueError("cannot encode")  # in the forked child that encodes the second half
        return b"{}\n" * (stop - start)

    with pytest.raises(SpamfloodError, match="encoding processes failed"):
        with open_writer(tmp_path / "out.jsonl") as writer:
            writer.write_parts(encode, 1000, jobs=2, step=100)
