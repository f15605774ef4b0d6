"""Every output appears whole or not at all: a full disk keeps the previous file, leaves no
temporary behind, names the file, and exits 1; a successful write gives the same bytes as
writing the file directly."""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import mounted_tmpfs
from spamflood.cli import main
from spamflood.errors import OutputError
from spamflood.io import open_writer
from spamflood.io.atomic import AtomicOutput, atomic_outputs

BASE = 1771286400
AD = "Flash sale today only: vitamin gummies 50% off, DM me or tap the link in bio for the code"
PREVIOUS = b"the previous run's output\n"


def write_feed(path: Path, *, copies: int = 12, bad: bool = True) -> None:
    """A flood of ``copies`` posts (each with its own tag, so that they do not compress to
    nothing), three organic ones and (``bad``) two rows that are rejected."""
    tags = [hashlib.sha256(str(k).encode()).hexdigest()[:24] for k in range(copies)]
    rows = [{"id": f"p{k}", "text": f"{AD} #{tags[k]}", "author": f"acct{k}", "time": BASE + 30 * k} for k in range(copies)]
    rows += [{"id": f"o{k}", "text": f"walked the dog {k} miles, lovely", "author": f"u{k}", "time": BASE + 9000 * k} for k in range(3)]
    lines = [json.dumps(row) for row in rows] + (['{"id": "broken", "text": ', json.dumps({"id": "t", "text": "x", "author": "a", "time": "soon"})] if bad else [])
    path.write_text("\n".join(lines) + "\n")


class _FillingDisk(io.RawIOBase):
    """A file on a disk with ``room`` bytes free: the write that reaches past them stores what
    fits, and the next one fails with ENOSPC, as a full file system does."""

    def __init__(self, fd: int, room: int) -> None:
        self._file = io.FileIO(fd, "w")
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        if not self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        kept = bytes(data[: self.room])
        self.room -= len(kept)
        return self._file.write(kept)

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


@pytest.fixture
def disk_fills(monkeypatch):
    """``disk_fills("name", room)``: from now on, the disk is full after ``room`` bytes of any
    file written for the output ``name`` (its temporary file is ``.name.*``)."""
    real_fdopen = os.fdopen

    def fill(name: str, room: int) -> None:
        def fdopen(fd, mode="r", *args, **kwargs):
            opened = Path(os.readlink(f"/proc/self/fd/{fd}")).name
            if opened.startswith(f".{name}.") and "w" in mode:
                return io.BufferedWriter(_FillingDisk(fd, room))
            return real_fdopen(fd, mode, *args, **kwargs)

        monkeypatch.setattr(os, "fdopen", fdopen)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd (Linux) to tell which file a descriptor is")
    return fill


def assert_left_as_it_was(folder: Path, target: Path, previous: bytes | None, message: str) -> None:
    assert str(target) in message
    if previous is None:
        assert not target.exists()
    else:
        assert target.read_bytes() == previous
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- every output of the CLI


def _score(feed, out):
    return ["score", str(feed), "-o", str(out), "-q", "--no-criteria"]


def _evaluate(feed, out):
    truth = feed.with_name("truth.jsonl")
    truth.write_text("".join(json.dumps({"id": row["id"], "spam": row["id"].startswith("p")}) + "\n" for row in map(json.loads, feed.read_text().splitlines()[:15])))
    return ["evaluate", str(feed), "--truth", str(truth), "--label-field", "spam", "--rules", "-o", str(out), "-q"]


COMMANDS = {
    "scored.jsonl": _score,
    "scored.jsonl.gz": _score,
    "scored.csv": _score,
    "scored.parquet": _score,
    "scored.rejects.jsonl": lambda feed, out: _score(feed, out.with_name("scored.jsonl")),
    "clusters.jsonl": lambda feed, out: ["clusters", str(feed), "-o", str(out), "-q", "--no-criteria"],
    "report.html": lambda feed, out: ["report", str(feed), "-o", str(out), "-q", "--no-criteria"],
    "figures.json": _evaluate,
}


@pytest.mark.parametrize("room", [0, 100], ids=["full", "full-after-100-bytes"])
@pytest.mark.parametrize("previous", [PREVIOUS, None], ids=["over-a-file", "new-file"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_full_disk_keeps_the_previous_output_and_exits_1_naming_it(tmp_path, capsys, disk_fills, name, previous, room):
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    feed, target = tmp_path / "feed.jsonl", tmp_path / name
    write_feed(feed)
    argv = COMMANDS[name](feed, target)
    if previous is not None:
        target.write_bytes(previous)
    disk_fills(name, room)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err
    assert_left_as_it_was(tmp_path, target, previous, " ".join(err.split()))


@pytest.mark.parametrize("name", list(COMMANDS))
def test_with_room_every_output_replaces_the_previous_one(tmp_path, name):
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    feed, target = tmp_path / "feed.jsonl", tmp_path / name
    write_feed(feed)
    target.write_bytes(PREVIOUS)
    target.chmod(0o640)
    assert main(COMMANDS[name](feed, target)) == 0
    assert target.read_bytes() != PREVIOUS and target.stat().st_size > 0
    assert target.stat().st_mode & 0o777 == 0o640  # as if rewritten in place
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- library writers


@pytest.mark.parametrize("name", ["model.joblib", "model.manifest.json"])
def test_a_model_is_saved_whole_with_its_manifest_or_not_at_all(tmp_path, disk_fills, name):
    from sklearn.linear_model import LogisticRegression

    from spamflood.model import load_model, save_model

    path = tmp_path / "model.joblib"
    first = LogisticRegression(C=1.0).fit([[0.0], [1.0]], [0, 1])
    save_model(first, path, settings={"window": "1h"})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    disk_fills(name, 100)
    with pytest.raises(OutputError, match="No space left on device") as caught:
        save_model(LogisticRegression(C=2.0).fit([[0.0], [1.0]], [0, 1]), path, settings={"window": "2h"})
    assert str(tmp_path / name) in str(caught.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # both files, nothing more
    loaded = load_model(path, trusted=True)
    assert loaded.model.C == 1.0 and loaded.settings == {"window": "1h"}


@pytest.mark.parametrize("name", ["feed.jsonl", "truth.jsonl", "truth.campaigns.jsonl"])
def test_a_synthetic_feed_is_written_whole_with_its_truth_or_not_at_all(tmp_path, disk_fills, name):
    from spamflood import synth

    feed, truth = tmp_path / "feed.jsonl", tmp_path / "truth.jsonl"
    synth.write(feed, truth, posts=300, seed=1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    disk_fills(name, 1000)
    with pytest.raises(OutputError, match="No space left on device") as caught:
        synth.write(feed, truth, posts=400, seed=2)
    assert str(tmp_path / name) in str(caught.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_writer_stopped_by_an_error_keeps_the_previous_file(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_bytes(PREVIOUS)
    with pytest.raises(KeyboardInterrupt), open_writer(target) as writer:
        writer.write_many([{"id": "1"}] * 10_000)
        raise KeyboardInterrupt
    assert_left_as_it_was(tmp_path, target, PREVIOUS, str(target))


def test_a_failing_encoder_process_keeps_the_previous_file(tmp_path):
    from spamflood.errors import SpamfloodError

    def encode(start, stop):
        if start >= 500:
            raise ValueError("cannot encode")  # in the forked child that encodes the second half
        return b"{}\n" * (stop - start)

    target = tmp_path / "out.jsonl"
    target.write_bytes(PREVIOUS)
    with pytest.raises(SpamfloodError, match="encoding processes failed") as caught, open_writer(target) as writer:
        writer.write_parts(encode, 1000, jobs=2, step=100)
    assert_left_as_it_was(tmp_path, target, PREVIOUS, str(caught.value))


def test_a_device_or_a_symlink_is_written_through(tmp_path):
    with AtomicOutput("/dev/null") as fh:  # not replaced by a regular file
        fh.write(b"gone")
    assert Path("/dev/null").is_char_device()
    real = tmp_path / "real.jsonl"
    real.write_bytes(PREVIOUS)
    (tmp_path / "link.jsonl").symlink_to(real)
    with atomic_outputs(tmp_path / "link.jsonl") as (fh,):
        fh.write(b"new\n")
    assert (tmp_path / "link.jsonl").is_symlink() and real.read_bytes() == b"new\n"


# ---------------------------------------------------------------- same bytes as a direct write

_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text(min_size=1, max_size=8),
            "score": st.floats(0, 1),
            "cluster": st.one_of(st.none(), st.integers(0, 2**40)),
            "labels": st.lists(st.sampled_from(["mass_share", "soft_ad", "a;b", "中文"]), max_size=3),
            "reasons": st.lists(st.text(max_size=12), max_size=2),
        }
    ),
    min_size=0,
    max_size=40,
)


@given(rows=_ROWS, fmt=st.sampled_from(["jsonl", "csv", "jsonl.gz"]))
def test_a_file_holds_the_bytes_the_writer_streams_to_stdout(tmp_path_factory, rows, fmt):
    # standard output is written directly, as every file was before writes became atomic
    folder = tmp_path_factory.mktemp("same")
    target = folder / f"out.{fmt}"
    with open_writer(target) as writer:
        writer.write_many(rows)
    stdout, captured = sys.stdout, io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    sys.stdout = captured
    try:
        with open_writer("-", fmt.removesuffix(".gz")) as writer:
            writer.write_many(rows)
    finally:
        sys.stdout = stdout
    data = target.read_bytes()
    if fmt.endswith(".gz") and rows:  # (no rows: an empty file, as before)
        assert data[10 : 10 + len(b"out.jsonl\0")] == b"out.jsonl\0"  # the header names the target
        data = gzip.decompress(data)
    assert data == captured.buffer.getvalue()
    assert [p.name for p in folder.iterdir()] == [target.name]


@given(rows=_ROWS.filter(bool))
def test_a_parquet_file_holds_the_table_pyarrow_writes_to_the_path(tmp_path_factory, rows):
    # The same table, schema and metadata: Parquet's bytes are not compared, since a page's
    # encoding may differ between two writes of the same table.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    folder = tmp_path_factory.mktemp("same")
    with open_writer(folder / "atomic.parquet") as writer:
        writer.write_many(rows)
    pq.write_table(pa.Table.from_pylist(rows), folder / "direct.parquet")
    written, direct = pq.read_table(folder / "atomic.parquet"), pq.read_table(folder / "direct.parquet")
    assert written.schema.equals(direct.schema, check_metadata=True)
    assert written.equals(direct)
    assert sorted(p.name for p in folder.iterdir()) == ["atomic.parquet", "direct.parquet"]  # no temporary left


# ---------------------------------------------------------------- a real full file system


@pytest.fixture
def small_disk(tmp_path):
    """A 16 KiB tmpfs (needs root, or CAP_SYS_ADMIN); skipped where it cannot be mounted."""
    with mounted_tmpfs(tmp_path / "small", "16k") as folder:
        yield folder


@pytest.mark.parametrize("name", ["scored.jsonl", "scored.parquet", "report.html"])
def test_a_full_file_system_in_a_real_process_exits_1_and_keeps_the_previous_output(tmp_path, small_disk, name):
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    feed, target = tmp_path / "feed.jsonl", small_disk / name
    write_feed(feed, copies=3000, bad=False)  # its output is more than 16 KiB in every format
    target.write_bytes(PREVIOUS)
    command = ["report", "--max-rows", "1000"] if name.endswith(".html") else ["score"]
    argv = [*command, str(feed), "-o", str(target), "-q", "--no-criteria"]
    code = f"import sys; from spamflood.cli import main; sys.exit(main({argv!r}))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False, timeout=300)
    err = " ".join(proc.stderr.decode().split())
    assert proc.returncode == 1, err
    assert "No space left on device" in err
    assert_left_as_it_was(small_disk, target, PREVIOUS, err)
    assert sorted(p.name for p in small_disk.iterdir()) == [name]


def test_a_read_only_file_system_is_an_output_error_naming_the_target(small_disk):
    target = small_disk / "report.html"
    target.write_bytes(PREVIOUS)
    proc = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only: {proc.stderr.decode().strip()}")
    with pytest.raises(OutputError, match="Read-only file system") as caught, AtomicOutput(target) as fh:
        fh.write(b"new")
    assert caught.value.errno == errno.EROFS
    assert_left_as_it_was(small_disk, target, PREVIOUS, str(caught.value))
