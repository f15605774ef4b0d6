"""Plain inputs (spamflood.io.layout): line formats, header-less columns, word-segmented text,
several files with constant fields, and a JSON object keyed by id, read through iter_chunks
and RowParser as score, train and evaluate read them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamflood.errors import ConfigError, InputError
from spamflood.io import FieldMap, ReadStats, RowParser, detect_format, iter_chunks
from spamflood.io.layout import InputFile, Layout, LineFormat, unsegment

ROWS_MAP = FieldMap.parse("id=@row,author=,time=", keep=("label",))


def read(source, *, fmt=None, layout=None, field_map=ROWS_MAP):
    """(posts as (id, text, label), rejects as (file, line, field, reason)) of ``source``."""
    stats = ReadStats()
    parser = RowParser(field_map)
    posts, rejects = [], []
    for chunk in iter_chunks(source, fmt=fmt, layout=layout, stats=stats, field_map=field_map):
        good, bad = parser.parse_many(chunk)
        posts += [(p.id, p.text, p.extra.get("label")) for p in good]
        rejects += [stats.place(r) for r in bad]
    return posts, [(r.file, r.line, r.field, r.reason) for r in rejects], stats


@pytest.mark.parametrize(
    ("template", "line", "fields"),
    [
        ("{text}=={label}", "a==b==1", {"text": "a==b", "label": "1"}),  # text takes the rest: the last ==
        ("{label},{text}", "0,one, two, three", {"label": "0", "text": "one, two, three"}),  # the first comma
        ("{label}\\t{text}", "spam\tWin\tnow", {"label": "spam", "text": "Win\tnow"}),
        ("{id}|{text}|{label}", "7|a|b|1", {"id": "7", "text": "a|b", "label": "1"}),
        ("[{label}] {text}", "[ad] buy now", {"label": "ad", "text": "buy now"}),
        ("{text}", "  just text ", {"text": "  just text "}),
    ],
    ids=["last-separator", "first-separator", "tab-escape", "text-in-the-middle", "literal-prefix", "text-alone"],
)
def test_a_line_format_splits_a_line_into_its_fields(template, line, fields):
    assert LineFormat(template).split(line) == fields


@pytest.mark.parametrize(
    ("template", "line", "field", "reason"),
    [
        ("{text}=={label}", "no separator", "label", "no '=='"),
        ("{label}\\t{text}", "spam only", "text", "no '\\t'"),
        ("[{label}] {text}", "ad] x", "label", "the line does not start with '['"),
    ],
    ids=["missing-last-separator", "missing-tab", "missing-prefix"],
)
def test_a_line_that_does_not_match_names_the_field_it_lacks(template, line, field, reason):
    form = LineFormat(template)
    assert form.split(line) is None
    name, why = form.missing(line)
    assert name == field and why.startswith(reason)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("text", "names no field"),
        ("{label}{text}", "nothing between them"),
        ("{text}=={text}", "names a field twice"),
        ("{text}=={label", "a brace outside"),
    ],
)
def test_a_bad_line_format_is_refused_with_how_to_write_it(template, message):
    with pytest.raises(ConfigError, match=message):
        LineFormat(template)


_PLAIN = st.text(st.characters(blacklist_characters="=\n\r", blacklist_categories=("Cs",)), max_size=20)


@given(text=st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=40), label=_PLAIN)
def test_text_keeps_every_separator_and_the_label_none(text, label):
    # For all texts (with "==" in them or not) and labels without "==": the line splits back.
    assert LineFormat("{text}=={label}").split(f"{text}=={label}") == {"text": text, "label": label}


def test_unsegment_drops_the_spaces_of_segmentation_but_those_between_latin_words():
    assert unsegment("帅哥哥 约 吗 v 信 xdx28886 你 懂 的 n") == "帅哥哥约吗v信xdx28886你懂的n"
    assert unsegment(" hello world ") == "hello world"


def test_a_lines_file_reads_each_line_numbered_with_crlf_and_blank_lines(tmp_path):
    path = tmp_path / "group.txt"
    path.write_bytes("买号加我==1\r\na==b==0\r\n\r\nno separator\r\nempty label==\r\n".encode())
    posts, rejects, stats = read(path, layout=Layout(line_format="{text}=={label}"))
    # an empty label is a missing one (training rejects that row: "no label")
    assert posts == [(f"{path}:1", "买号加我", "1"), (f"{path}:2", "a==b", "0"), (f"{path}:5", "empty label", None)]
    assert [(line, field) for _, line, field, _ in rejects] == [(4, "label")]
    assert stats.blank_lines == 1


def test_a_lines_file_with_invalid_utf8_rejects_that_line_only(tmp_path):
    path = tmp_path / "posts.txt"
    path.write_bytes(b"fine\nbad \xff byte\nfine too\n")
    posts, rejects, _ = read(path)
    assert [t for _, t, _ in posts] == ["fine", "fine too"]
    assert [(line, field) for _, line, field, _ in rejects] == [(2, "text")]


def test_several_files_read_as_one_feed_with_constant_fields_and_rejects_placed_in_their_file(tmp_path):
    spam, ham = tmp_path / "spam.seg", tmp_path / "ham.seg"
    spam.write_text("加 我 v 信 ab12\n约 吗\n", encoding="utf-8")
    ham.write_bytes("你 好\n".encode() + b"\xff\n" + "今天 天气 好\n".encode())
    files = [InputFile.parse(f"{spam}:label=1"), InputFile.parse(f"{ham}:label=0")]
    posts, rejects, _ = read(files, fmt="lines", layout=Layout(unsegment=True))
    assert [(t, label) for _, t, label in posts] == [("加我v信ab12", "1"), ("约吗", "1"), ("你好", "0"), ("今天天气好", "0")]
    assert [i for i, _, _ in posts] == [f"{spam}:1", f"{spam}:2", f"{ham}:1", f"{ham}:3"]
    assert [(f, line, field) for f, line, field, _ in rejects] == [(str(ham), 2, "text")]


def test_a_header_less_csv_reads_its_columns_by_the_names_given(tmp_path):
    path = tmp_path / "sms.tsv"
    path.write_text('ham\tsee you "later"\nspam\tWin a prize\n', encoding="utf-8")
    posts, rejects, _ = read(path, layout=Layout(columns=("label", "text")))
    assert posts == [(f"{path}:1", 'see you "later"', "ham"), (f"{path}:2", "Win a prize", "spam")] and not rejects


def test_columns_without_a_mapped_field_are_refused_before_any_row(tmp_path):
    path = tmp_path / "sms.csv"
    path.write_text("spam,Win\n", encoding="utf-8")
    with pytest.raises(InputError, match="--columns names no field for text"):
        read(path, layout=Layout(columns=("label", "body")))


def test_a_json_object_of_records_keyed_by_id_reads_each_record_with_its_key(tmp_path):
    path = tmp_path / "comments.json"
    path.write_text(json.dumps({"17": {"text": "dm me", "type": "scam"}, "9": {"text": "nice", "type": "real"}}, indent=4))
    field_map = FieldMap.parse("id=@key,author=,time=", keep=("type",))
    stats = ReadStats()
    rows = [row for chunk in iter_chunks(path, stats=stats, field_map=field_map) for row in chunk]
    posts, _ = RowParser(field_map).parse_many(rows)
    assert [(p.id, p.text, p.extra["type"]) for p in posts] == [("17", "dm me", "scam"), ("9", "nice", "real")]
    assert "keyed by id" in stats.notes[0]


def test_other_pretty_printed_json_is_still_refused_with_how_to_convert_it(tmp_path):
    path = tmp_path / "posts.json"
    path.write_text(json.dumps({"data": [{"id": 1, "text": "x"}], "meta": 1}, indent=2))
    with pytest.raises(InputError, match="pretty-printed JSON"):
        read(path)


@pytest.mark.parametrize(
    ("layout", "fmt", "message"),
    [
        (Layout(line_format="{text}"), "csv", "--line-format reads plain-text lines"),
        (Layout(unsegment=True), "jsonl", "--unsegment reads plain-text lines"),
        (Layout(columns=("label", "text")), "lines", "--columns names the cells"),
    ],
)
def test_layout_options_that_mean_nothing_for_the_format_are_refused(tmp_path, layout, fmt, message):
    path = tmp_path / "x.data"
    path.write_text("a\n")
    with pytest.raises(ConfigError, match=message):
        read(path, fmt=fmt, layout=layout)


@pytest.mark.parametrize(
    ("spec", "path", "fields"),
    [
        ("spam.txt:label=1", "spam.txt", {"label": "1"}),
        ("data/a.seg:label=spam,lang=zh", "data/a.seg", {"label": "spam", "lang": "zh"}),
        ("plain.txt", "plain.txt", {}),
        ("C:/x.txt", "C:/x.txt", {}),
    ],
)
def test_an_input_spec_is_a_path_with_optional_constant_fields(spec, path, fields):
    assert InputFile.parse(spec) == InputFile(path, fields)


def test_an_existing_path_with_a_colon_is_a_path(tmp_path):
    odd = tmp_path / "a:b=c"
    odd.write_text("x\n")
    assert InputFile.parse(str(odd)) == InputFile(str(odd))


def test_txt_reads_as_lines_but_is_no_output_format():
    assert detect_format("corpus.txt") == "lines" and detect_format("corpus.txt.gz") == "lines"
    with pytest.raises(ConfigError, match=r"pass --format \(jsonl, csv, tsv, parquet\)"):
        detect_format("scored.txt", output=True)
    with pytest.raises(ConfigError, match="Unknown format 'lines'"):
        detect_format("scored.out", "lines", output=True)


def test_an_empty_file_among_several_takes_no_line_numbers_from_the_next(tmp_path):
    first, empty, last = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"
    first.write_text("one\n")
    empty.write_text("")
    last.write_bytes(b"\xff\n")
    _, rejects, _ = read([InputFile(str(first)), InputFile(str(empty)), InputFile(str(last))])
    assert [(f, line) for f, line, _, _ in rejects] == [(str(last), 1)]
