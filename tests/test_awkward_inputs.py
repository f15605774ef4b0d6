"""Inputs as they come: cut short, with a byte order mark, as a JSON array or pretty-printed,
CSV with another delimiter or no header, display counts, nothing readable at all.

Every row that was read is scored or rejected; what could not be read is said, with the file
and the line, and makes the run exit 1 after writing what it could.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamflood.cli import main
from spamflood.detector import Detector
from spamflood.errors import InputError
from spamflood.io import FieldMap, ReadStats, iter_chunks
from spamflood.io.readers import json_layout, jsonl_spans

BASE = 1771286400
AD = "Flash sale today only: vitamin gummies 50% off, DM me or tap the link in bio for the code"
BOM = b"\xef\xbb\xbf"
MAIN = "import sys; from spamflood.cli import main; sys.exit(main(sys.argv[1:]))"


def posts(n: int) -> list[dict]:
    """``n`` posts: every third one of a flood, the rest ordinary (some text in Chinese)."""
    out = []
    for k in range(n):
        text = AD if k % 3 == 0 else f"walked the dog {k} miles this morning, 今天天气很好 {k}"
        out.append({"id": f"p{k}", "text": text, "author": f"acct{k}", "time": BASE + 30 * k})
    return out


def jsonl(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def csv_text(records: list[dict], delimiter: str = ",", header: bool = True) -> bytes:
    fields = ["id", "text", "author", "time"]
    rows = [delimiter.join(fields)] if header else []
    rows += [delimiter.join(f'"{r[f]}"' if f == "text" else str(r[f]) for f in fields) for r in records]
    return ("\n".join(rows) + "\n").encode()


def run(*args: str) -> subprocess.CompletedProcess:
    """The command line in a real process, through ``main`` (its exit code as the process's);
    scoring by the rules, as reading is what these tests are about (and loading the model is
    most of a small run)."""
    return subprocess.run([sys.executable, "-c", MAIN, *args, "--rules"], capture_output=True, text=True, timeout=300, check=False)


def rows_of(source, **kw) -> list:
    return [row for chunk in iter_chunks(source, **kw) for row in chunk]


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


# ---------------------------------------------------------------- cut short


_LINES = st.lists(
    st.sampled_from([b'{"id": "1", "text": "hi"}', b"", b"{broken", "你好, 世界".encode(), b"x" * 300]), min_size=1, max_size=40
)


@given(lines=_LINES, cut=st.floats(0, 1, exclude_max=True))
def test_a_cut_gz_gives_the_lines_before_the_break_and_says_where(tmp_path_factory, lines, cut):
    content = [line + b"\n" for line in lines] * 20
    data = b"".join(content)
    packed = gzip.compress(data)
    path = tmp_path_factory.mktemp("cut") / "feed.jsonl.gz"
    path.write_bytes(packed[: max(1, int(cut * len(packed)))])
    stats = ReadStats()
    rows = rows_of(str(path), stats=stats)
    broken = stats.truncated
    assert broken is not None and broken.path == str(path)
    # exactly the complete lines before the break, numbered as in the whole file; none after
    assert rows == [(k + 1, line) for k, line in enumerate(content[: broken.line]) if line.strip()]
    assert broken.offset == len(b"".join(content[: broken.line]))
    assert broken.line == len(content) or 0 <= broken.unread < len(content[broken.line])
    assert f"'{path}' breaks off " in broken.message() and "what follows is lost" in broken.message()


class _Pieces(io.RawIOBase):
    """A stream that hands its bytes on in the given pieces (as a pipe does), then ends, or
    breaks off as a truncated compressed file does."""

    def __init__(self, pieces: list[bytes], breaks: bool) -> None:
        self._pieces, self._breaks = list(pieces), breaks

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        if self._pieces:
            return self._pieces.pop(0)
        if self._breaks:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        return b""


@given(
    data=st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"\n")) | st.just(b"\n\nab\n"),
    bom=st.booleans(),
    cuts=st.lists(st.integers(0, 50), max_size=8),
    breaks=st.booleans(),
)
def test_a_stream_in_any_pieces_gives_its_lines_without_the_mark_and_keeps_back_a_broken_one(data, bom, cuts, breaks):
    from spamflood.io.readers import _Guarded

    whole = (BOM if bom else b"") + data
    points = sorted({min(c, len(whole)) for c in cuts} | {0, len(whole)})
    pieces = [whole[a:b] for a, b in itertools.pairwise(points) if b > a]
    stats = ReadStats()
    got = list(io.BufferedReader(_Guarded(_Pieces(pieces, breaks), "pipe", stats)))
    content = whole.removeprefix(BOM)  # (data may start with a mark of its own)
    complete = content[: content.rfind(b"\n") + 1]
    if breaks:  # a broken last line is held back, and counted
        assert got == io.BytesIO(complete).readlines()
        broken = stats.truncated
        assert broken.line == complete.count(b"\n")
        assert (broken.offset, broken.unread) == (len(whole) - len(content) + len(complete), len(content) - len(complete))
    else:
        assert got == io.BytesIO(content).readlines() and stats.truncated is None


def test_a_whole_gz_is_not_truncated_and_a_corrupt_one_is(tmp_path):
    data = jsonl(posts(2000))
    whole = tmp_path / "whole.jsonl.gz"
    whole.write_bytes(gzip.compress(data))
    stats = ReadStats()
    assert len(rows_of(str(whole), stats=stats)) == 2000 and stats.truncated is None
    packed = bytearray(gzip.compress(data))
    packed[len(packed) // 2] ^= 0xFF  # a flipped byte: the data or its checksum no longer fits
    corrupt = tmp_path / "corrupt.jsonl.gz"
    corrupt.write_bytes(bytes(packed))
    stats = ReadStats()
    rows = rows_of(str(corrupt), stats=stats)
    assert stats.truncated is not None and "corrupt compressed data" in stats.truncated.reason
    assert len(rows) == stats.truncated.line < 2000
    not_gzip = tmp_path / "plain.jsonl.gz"
    not_gzip.write_bytes(data)
    stats = ReadStats()
    assert rows_of(str(not_gzip), stats=stats) == []
    assert "breaks off before its first line" in stats.truncated.message()


def test_a_cut_csv_gz_gives_no_half_row(tmp_path):
    data = csv_text(posts(3000))
    path = tmp_path / "feed.csv.gz"
    packed = gzip.compress(data)
    path.write_bytes(packed[: len(packed) // 2])
    stats = ReadStats()
    rows = rows_of(str(path), stats=stats, field_map=FieldMap())
    broken = stats.truncated
    assert broken is not None and broken.line == len(rows) + 1  # the header is line 1
    assert [line for line, _ in rows] == list(range(2, broken.line + 1))
    whole = data.split(b"\n")
    assert rows[-1][1]["id"] == whole[broken.line - 1].split(b",")[0].decode()  # the last row is whole
    assert rows[-1][1]["time"] == str(BASE + 30 * (len(rows) - 1))


@pytest.mark.parametrize(
    "name, jobs",
    [("feed.jsonl.gz", "1"), ("feed.jsonl.gz", "2"), ("feed.csv.gz", "1")],
)
def test_a_cut_input_is_scored_up_to_the_break_written_and_exits_1(tmp_path, name, jobs):
    records = posts(3000)
    records[5]["time"] = "never"  # one reject before the break
    data = csv_text(records) if ".csv" in name else jsonl(records)
    packed = gzip.compress(data)
    feed = tmp_path / name
    feed.write_bytes(packed[: len(packed) * 2 // 3])
    stats = ReadStats()
    read = rows_of(str(feed), stats=stats, field_map=FieldMap())
    last = stats.truncated.line
    out = tmp_path / "scored.jsonl"
    proc = run("score", str(feed), "-o", str(out), "-j", jobs)
    assert proc.returncode == 1, proc.stderr
    scored, rejects = read_jsonl(out), read_jsonl(tmp_path / "scored.rejects.jsonl")
    assert len(scored) + len(rejects) == len(read) > 1000  # every row read is scored or rejected
    assert [r["line"] for r in rejects] == [7 if ".csv" in name else 6]
    assert any(r["flagged"] for r in scored)
    assert f"ERROR input truncated: '{feed}' breaks off after line {last:,}" in proc.stderr
    assert f"rows after line {last:,} lost" in proc.stderr  # in the summary table
    assert "Traceback" not in proc.stderr


def test_a_cut_input_says_so_when_quiet_and_from_every_command(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl.gz"
    packed = gzip.compress(jsonl(posts(600)))
    feed.write_bytes(packed[: len(packed) // 2])
    assert main(["score", str(feed), "-o", str(tmp_path / "s.jsonl"), "-q", "--rules"]) == 1
    assert main(["clusters", str(feed), "-o", str(tmp_path / "c.jsonl"), "-q", "--rules"]) == 1
    assert main(["report", str(feed), "-o", str(tmp_path / "r.html"), "-q", "--rules"]) == 1
    err = capsys.readouterr().err
    assert err.count(f"ERROR input truncated: '{feed}'") == 3
    assert (tmp_path / "c.jsonl").stat().st_size > 0 and (tmp_path / "r.html").stat().st_size > 0


def test_a_cut_input_is_in_the_result_and_raises_when_strict(tmp_path):
    feed = tmp_path / "feed.jsonl.gz"
    packed = gzip.compress(jsonl(posts(600)))
    feed.write_bytes(packed[: len(packed) // 2])
    result = Detector().score(str(feed))
    broken = result.read.truncated
    assert result.summary()["input_truncated"] == broken.to_dict()
    assert result.rows_read == len(result) == broken.line
    with pytest.raises(InputError, match="input truncated: .* breaks off after line"):
        Detector().score(str(feed), strict=True)


def test_a_cut_parquet_file_is_an_error_naming_it(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.Table.from_pylist(posts(500)), whole)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    proc = run("score", str(cut), "-o", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 1
    assert f"ERROR '{cut}' is not a readable Parquet file (truncated or corrupt?)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_parquet_row_group_that_cannot_be_read_ends_the_rows_before_it(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "feed.parquet"
    pq.write_table(pa.Table.from_pylist(posts(3000)), path, row_group_size=1000)
    start = pq.ParquetFile(path).metadata.row_group(2).column(1).data_page_offset
    data = bytearray(path.read_bytes())
    for k in range(start, start + 64):  # the page header of the third row group's texts
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    stats = ReadStats()
    rows = rows_of(str(path), stats=stats, chunk_rows=1000)
    assert [line for line, _ in rows] == list(range(1, 2001))
    assert stats.truncated.unit == "row" and stats.truncated.line == 2000
    assert stats.truncated.message().startswith(f"input truncated: '{path}' breaks off after row 2,000: unreadable Parquet data")


# ---------------------------------------------------------------- byte order marks


@given(lines=_LINES, rows_per_span=st.sampled_from([1, 7, 5000]))
def test_a_byte_order_mark_is_no_part_of_the_first_row(tmp_path_factory, lines, rows_per_span):
    folder = tmp_path_factory.mktemp("bom")
    data = b"".join(line + b"\n" for line in lines) * 300  # past the smallest span, so cut in several
    plain, marked = folder / "plain.jsonl", folder / "marked.jsonl"
    plain.write_bytes(data)
    marked.write_bytes(BOM + data)
    (folder / "marked.jsonl.gz").write_bytes(gzip.compress(BOM + data))
    expected = rows_of(str(plain))
    assert rows_of(str(marked)) == expected
    assert rows_of(str(folder / "marked.jsonl.gz")) == expected
    spans = [row for span in jsonl_spans(marked, rows_per_span=rows_per_span) for row in span.rows()[0]]
    assert spans == expected


_ROWS = st.lists(
    st.sampled_from([b"", b"{broken", *(json.dumps(p, ensure_ascii=False).encode() for p in posts(6))]), max_size=30
)


@settings(max_examples=25)
@given(lines=_ROWS, compressed=st.booleans())
def test_every_row_of_a_marked_file_is_scored_or_rejected(tmp_path_factory, lines, compressed):
    data = BOM + b"".join(line + b"\n" for line in lines)
    path = tmp_path_factory.mktemp("marked") / ("feed.jsonl.gz" if compressed else "feed.jsonl")
    path.write_bytes(gzip.compress(data) if compressed else data)
    result = Detector(criteria=False).score(str(path))
    rows = [k + 1 for k, line in enumerate(lines) if line.strip()]
    assert sorted([*map(int, result.batch.lines), *(r.line for r in result.rejects)]) == rows
    assert result.rows_read == len(rows) and result.blank_lines == len(lines) - len(rows)
    for reject in result.rejects:  # the broken lines, and the second copy of a post
        line = lines[reject.line - 1]
        assert (line == b"{broken" and reject.reason.startswith("malformed JSON")) or (
            line in lines[: reject.line - 1] and reject.reason.startswith("duplicate id")
        )


@pytest.mark.parametrize("jobs", ["1", "2"])  # 2: the worker processes read the lines
def test_a_jsonl_file_with_a_byte_order_mark_has_every_row_scored(tmp_path, jobs):
    records = posts(40)
    feed, out = tmp_path / "feed.jsonl", tmp_path / "scored.jsonl"
    feed.write_bytes(BOM + jsonl(records))
    proc = run("score", str(feed), "-o", str(out), "-j", jobs, "-q")
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in read_jsonl(out)] == [r["id"] for r in records]
    assert not (tmp_path / "scored.rejects.jsonl").exists()


def test_a_csv_file_with_a_byte_order_mark_keeps_its_first_column(tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_bytes(BOM + csv_text(posts(3)))
    assert Detector().score(str(feed), field_map=FieldMap()).batch.ids == ["p0", "p1", "p2"]


# ---------------------------------------------------------------- JSON that is not JSON Lines


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_a_json_array_is_read_as_records_numbered_by_element(tmp_path, indent, suffix):
    records: list = posts(5)
    records.insert(2, ["not", "a", "record"])
    data = json.dumps(records, indent=indent, ensure_ascii=False).encode()
    path = tmp_path / f"feed{suffix}"
    path.write_bytes(gzip.compress(BOM + data) if suffix.endswith(".gz") else BOM + data)
    stats = ReadStats()
    assert rows_of(str(path), stats=stats) == list(enumerate(records, start=1))
    assert stats.notes == [f"'{path}' is a JSON array: its 6 elements were read as rows (numbered from 1)"]
    result = Detector().score(str(path))
    assert result.batch.ids == [r["id"] for r in posts(5)]
    assert [(r.line, r.reason) for r in result.rejects] == [(3, "expected a record (mapping), got list")]


def test_a_json_array_is_scored_by_the_command_with_several_processes(tmp_path):
    feed, out = tmp_path / "feed.json", tmp_path / "scored.jsonl"
    feed.write_text(json.dumps(posts(60)))
    assert json_layout(feed) == "array"
    proc = run("score", str(feed), "-o", str(out), "-j", "2")
    assert proc.returncode == 0, proc.stderr
    assert len(read_jsonl(out)) == 60
    assert f"note: '{feed}' is a JSON array" in proc.stderr


@pytest.mark.parametrize(
    "data, layout",
    [
        (b'{"id": "1", "text": "a"}\n{"id": "2", "text": "b"}\n', "lines"),
        (b'{"id": "1", "text": \n', "lines"),  # a broken first line is a reject, not a layout
        (b'{"id": "1", "text": \n  {"id": "2"}\n', "lines"),  # (even before an indented line of JSON)
        (b'[1, 2]\n[3]\n', "lines"),  # lines that are arrays: rejected one by one
        (b'  [{"id": "1"}]', "array"),
        (b'[\n  {"id": "1"}\n]\n', "array"),
        (b'{\n  "id": "1",\n  "text": "a"\n}\n', "pretty"),
        (b'{"data": [\n    {"id": "1"}\n]}\n', "pretty"),
        (b"", "lines"),
    ],
)
def test_the_layout_of_a_json_file_is_told_from_its_start(tmp_path, data, layout):
    path = tmp_path / "feed.json"
    path.write_bytes(data)
    assert json_layout(path) == layout


def test_pretty_printed_json_is_refused_with_what_to_do(tmp_path):
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps({"data": posts(3)}, indent=2))
    proc = run("score", str(feed), "-o", str(tmp_path / "o.jsonl"), "-j", "2")
    assert proc.returncode == 1
    assert f"ERROR '{feed}' holds pretty-printed JSON" in proc.stderr
    assert f"jq -c . '{feed}' > posts.jsonl" in proc.stderr and "jq -c '.data[]'" in proc.stderr


# ---------------------------------------------------------------- CSV of other shapes


def test_a_csv_separated_by_semicolons_is_scored_and_said(tmp_path):
    feed, out = tmp_path / "feed.csv", tmp_path / "scored.jsonl"
    feed.write_bytes(csv_text(posts(30), ";"))
    proc = run("score", str(feed), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert len(read_jsonl(out)) == 30
    assert f"note: '{feed}' was read as ';'-separated: its header has no ','" in proc.stderr


@pytest.mark.parametrize("delimiter, name", [("\t", "tab"), ("|", "'|'"), (",", "','")])
@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_the_delimiter_that_splits_the_header_is_used(tmp_path, delimiter, name, suffix):
    path = tmp_path / f"feed{suffix}"
    path.write_bytes(csv_text(posts(4), delimiter))
    stats = ReadStats()
    rows = rows_of(str(path), stats=stats, field_map=FieldMap())
    assert [row["id"] for _, row in rows] == ["p0", "p1", "p2", "p3"] and rows[0][1]["text"] == AD
    given = "','" if suffix == ".csv" else "tab"
    assert stats.notes == ([] if name == given else [f"'{path}' was read as {name}-separated: its header has no {given}"])


def test_a_header_that_splits_is_read_with_the_delimiter_given(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(b'id,text,author,time\n1,"a;b;c",u,2026-01-01T00:00:00Z\n')
    stats = ReadStats()
    assert rows_of(str(path), stats=stats)[0][1]["text"] == "a;b;c" and stats.notes == []


def test_a_csv_without_the_mapped_columns_is_refused_naming_expected_and_found(tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_bytes(csv_text(posts(5), header=False))
    proc = run("score", str(feed), "-o", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 1
    message = proc.stderr.replace("\n", " ")
    assert f"ERROR '{feed}', line 1: the header has no column for id, text, author, time; it has 4 columns: 'p0'," in message
    assert "A file without a header line needs one" in message and "--map" in message and "--format tsv" in message
    with pytest.raises(InputError, match=r"no column for id \(column 'mid'\), text, author \(column 'uid'\), time;"):
        rows_of(str(feed), field_map=FieldMap.parse("id=mid,author=uid"))
    assert len(rows_of(str(feed))) == 4  # without a field map to check against, rows as they are


# ---------------------------------------------------------------- nothing readable


def test_when_every_row_is_rejected_the_run_says_why_and_exits_1(tmp_path):
    feed, out = tmp_path / "feed.jsonl", tmp_path / "scored.jsonl"
    records = [{"mid": r["id"], "text": r["text"], "author": r["author"], "time": r["time"]} for r in posts(20)]
    feed.write_bytes(jsonl(records))
    proc = run("score", str(feed), "-o", str(out), "-q")
    assert proc.returncode == 1
    assert proc.stderr.replace("\n", " ").startswith(
        f"ERROR every row of '{feed}' was rejected (20 of 20); most often (20 rows): line 1, field 'id': "
        "missing or empty. hint: the field map reads 'id' from 'id': name the key that holds it (--map id=<key>)"
    )
    assert len(read_jsonl(tmp_path / "scored.rejects.jsonl")) == 20 and out.read_text() == ""
    assert main(["score", str(feed), "-o", str(out), "-q", "--rules", "--map", "id=mid"]) == 0  # some read: success


def test_every_row_of_another_format_rejected_points_at_the_format(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(csv_text(posts(5)))  # a CSV under a JSONL name
    assert main(["clusters", str(feed), "-o", str(tmp_path / "c.jsonl"), "-q", "--rules"]) == 1
    err = capsys.readouterr().err.replace("\n", " ")
    assert "ERROR every row of" in err and "(6 of 6); most often (6 rows): line 1: malformed JSON" in err
    assert "hint: is the input JSON Lines (one object a line)?" in err


# ---------------------------------------------------------------- optional fields that cannot be read


def test_weibo_display_counts_are_read_and_an_unreadable_one_is_a_warning_not_a_reject(tmp_path):
    counts = ["1.2万", "12万", "1.2亿", "3,456", "1.5M", "1.2k", "lots"]
    records = [
        {
            "mid": f"m{k}",
            "text_raw": AD if k % 2 else f"今天的天气真好 {k}",
            "created_at": "Tue Feb 17 08:00:00 +0800 2026",
            "user": {"idstr": f"u{k}", "followers_count": counts[k % len(counts)], "friends_count": 12},
        }
        for k in range(21)
    ]
    feed, out = tmp_path / "weibo.jsonl", tmp_path / "scored.jsonl"
    feed.write_bytes(jsonl(records))
    proc = run("score", str(feed), "-o", str(out), "--preset", "weibo", "--features")
    assert proc.returncode == 0, proc.stderr
    assert len(read_jsonl(out)) == 21 and not (tmp_path / "scored.rejects.jsonl").exists()
    assert "warning: field 'followers': 3 unreadable values read as missing (first on line 7: expected a number, got 'lots')" in proc.stderr
    result = Detector().score(str(feed), field_map=FieldMap.preset("weibo"))
    assert result.summary()["unreadable_fields"] == {"followers": 3}
    assert result.batch.followers[:6].tolist() == [12_000, 120_000, 120_000_000, 3456, 1_500_000, 1200]
