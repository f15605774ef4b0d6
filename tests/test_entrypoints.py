"""The real ways in exit with the command's code: 0 success, 1 error, 2 usage, 130 interrupted.

Every case runs through the installed console script and ``python -m spamflood``, each in its own
process and folder, and through ``main()`` in this process (its standard streams on files, as a
process's); all three must give the same code and say on stderr what went wrong. The three run
side by side, so a case costs one start-up. What only a process shows (Ctrl-C, a broken pipe, the
imports of ``--version``) is also checked on ``main()`` called from ``python -c``.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import chdir, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from unittest.mock import patch

import pytest
from redis_server import SKIP_REASON as REDIS_SKIP_REASON
from redis_server import RedisServer, free_port

from conftest import mounted_tmpfs
from spamflood._version import __version__
from spamflood.cli import main

SCRIPT = shutil.which("spamflood")
PROCESSES = {"script": [SCRIPT or "spamflood"], "module": [sys.executable, "-m", "spamflood"]}
"""The real ways in, each a process of its own."""
ENTRY_POINTS = {
    **PROCESSES,
    "main": [sys.executable, "-c", "import sys; from spamflood.cli import main; sys.exit(main(sys.argv[1:]))"],
}
"""And ``main()`` in a process of its own, for what only a process shows."""
REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "models" / "spamflood-default.joblib"
BASE = 1771286400
AD = "Flash sale today only: vitamin gummies 50% off, DM me or tap the link in bio for the code"


@pytest.fixture(autouse=True)
def _console_script_installed() -> None:
    assert SCRIPT is not None, "the spamflood console script is not on PATH: pip install -e ."


def write_feed(path: Path, posts: int = 12, *, bad_line: bool = False) -> None:
    lines = [json.dumps({"id": f"p{k}", "text": f"{AD} #{k % 7}", "author": f"acct{k}", "time": BASE + 30 * k}) for k in range(posts)]
    if bad_line:
        lines.insert(3, '{"id": "broken", "text": ')  # line 4
    path.write_text("\n".join(lines) + "\n")


def copy_model(folder: Path, name: str) -> Path:
    model = folder / f"{name}.joblib"
    shutil.copyfile(BUNDLED, model)
    shutil.copyfile(BUNDLED.with_name("spamflood-default.manifest.json"), folder / f"{name}.manifest.json")
    shutil.copyfile(BUNDLED.with_name("spamflood-default.trees"), folder / f"{name}.trees")
    return model


@dataclass
class Case:
    argv: list[str]
    code: int
    message: str
    stdout: str | None = None
    """Where standard output goes (a path such as /dev/full); ``None``: a file in the folder."""
    env: dict[str, str] = field(default_factory=dict)


def ok(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl")
    return Case(["score", "feed.jsonl", "-o", "out.jsonl", "-q"], 0, "")


def missing_input(folder: Path) -> Case:
    return Case(["score", "missing.jsonl", "-o", "out.jsonl", "-q"], 1, "ERROR Input file 'missing.jsonl' does not exist.")


def unknown_flag(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl")
    return Case(["score", "feed.jsonl", "-o", "out.jsonl", "--colour"], 2, "unrecognized arguments: --colour")


def output_is_input(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl")
    return Case(["score", "feed.jsonl", "-o", "feed.jsonl"], 2, "-o/--output 'feed.jsonl' is the same file as input")


def untrusted_model(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl")
    copy_model(folder, "mine")
    return Case(["score", "feed.jsonl", "-o", "out.jsonl", "--model", "mine.joblib", "-q"], 1, "(CLI: --trust-model)")


def tampered_model(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl")
    with copy_model(folder, "mine").open("ab") as fh:
        fh.write(b"\0")
    argv = ["score", "feed.jsonl", "-o", "out.jsonl", "--model", "mine.joblib", "--trust-model", "-q"]
    return Case(argv, 1, "does not match its manifest")


def not_a_model(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl")
    copy_model(folder, "mine")
    model = folder / "mine.joblib"
    model.write_text("id,text\n1,hello\n")  # a CSV under a model's name, its manifest updated to match
    manifest = json.loads((folder / "mine.manifest.json").read_text())
    manifest["sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
    del manifest["trees"]  # nothing to score from but the file itself
    (folder / "mine.manifest.json").write_text(json.dumps(manifest))
    argv = ["score", "feed.jsonl", "-o", "out.jsonl", "--model", "mine.joblib", "--trust-model", "-q"]
    return Case(argv, 1, "Model mine.joblib could not be read")


def strict_bad_row(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl", bad_line=True)
    return Case(["score", "feed.jsonl", "-o", "out.jsonl", "--strict", "--no-criteria", "-q"], 1, "ERROR line 4: malformed JSON")


def unwritable_folder(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl")
    if os.geteuid() == 0:  # root writes through any mode bits: a folder that cannot exist instead
        message = "-o/--output 'feed.jsonl/out.jsonl': the folder 'feed.jsonl' is not a folder."
        return Case(["score", "feed.jsonl", "-o", "feed.jsonl/out.jsonl", "-q"], 1, message)
    (folder / "locked").mkdir()
    (folder / "locked").chmod(0o555)
    message = "-o/--output 'locked/out.jsonl': cannot write in the folder 'locked'"
    return Case(["score", "feed.jsonl", "-o", "locked/out.jsonl", "-q"], 1, message)


def full_disk_on_stdout(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl")
    argv = ["score", "feed.jsonl", "-o", "-", "--no-criteria", "-q"]
    return Case(argv, 1, "No space left on device: '<standard output>'", stdout="/dev/full")


def redis_down(folder: Path) -> Case:
    write_feed(folder / "feed.jsonl")
    url = f"redis://127.0.0.1:{free_port()}/0"
    return Case(["watch", "feed.jsonl", "-o", "verdicts.jsonl", "--redis", url, "--redis-timeout", "2", "-q"], 1, f"ERROR Redis at {url}")


CASES: dict[str, Callable[[Path], Case]] = {
    f.__name__: f
    for f in (
        ok,
        missing_input,
        unknown_flag,
        output_is_input,
        untrusted_model,
        tampered_model,
        not_a_model,
        strict_bad_row,
        unwritable_folder,
        full_disk_on_stdout,
    )
}


@contextmanager
def streams_on(stdout: Path | str, stderr: Path) -> Iterator[None]:
    """While ``main()`` runs in this process, file descriptors 1 and 2, and ``sys.stdout`` and
    ``sys.stderr`` over them, write to the two files, as a started process's would (pytest's
    capture is set aside meanwhile and put back after)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_streams, saved_fds = (sys.stdout, sys.stderr), (os.dup(1), os.dup(2))
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # closed below
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
        try:
            yield
        finally:
            for stream in (sys.stdout, sys.stderr):
                with suppress(OSError):  # a full disk fails the last flush, as at a process's exit
                    stream.close()
            sys.stdout, sys.stderr = saved_streams
            for fd, saved in zip((1, 2), saved_fds):
                os.dup2(saved, fd)
                os.close(saved)


def run_main_here(folder: Path, make: Callable[[Path], Case]) -> tuple[Case, int, str]:
    """``make`` a case in ``folder`` and run ``main(argv)`` on it in this process, from that
    folder: ``(case, exit code, stderr)``."""
    folder.mkdir(parents=True)
    case = make(folder)
    with chdir(folder), patch.dict(os.environ, case.env), streams_on(case.stdout or folder / "stdout", folder / "stderr"):
        code = main(case.argv)  # (an exception, SystemExit too, fails the test: main returns the code)
    return case, code, (folder / "stderr").read_text()


def run_everywhere(tmp_path: Path, make: Callable[[Path], Case], timeout: float = 300) -> dict[str, tuple[Case, int, str]]:
    """``make`` a case in a folder of its own for each entry point, run the three side by side
    (the two processes, and ``main()`` here meanwhile), and return each one's ``(case, exit
    code, stderr)``."""
    running = {}
    for name, command in PROCESSES.items():
        folder = tmp_path / name
        folder.mkdir(parents=True)
        case = make(folder)
        out = open(case.stdout or folder / "stdout", "wb")
        err = open(folder / "stderr", "wb")
        env = {**os.environ, **case.env}
        proc = subprocess.Popen([*command, *case.argv], cwd=folder, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        running[name] = (proc, case, out, err)
    results = {"main": run_main_here(tmp_path / "main", make)}
    for name, (proc, case, out, err) in running.items():
        code = proc.wait(timeout=timeout)
        out.close()
        err.close()
        results[name] = (case, code, (tmp_path / name / "stderr").read_text())
    return results


def assert_same_code_and_message(results: dict[str, tuple[Case, int, str]]) -> None:
    for name, (case, code, err) in results.items():
        assert code == case.code, f"{name}: exit code {code}, expected {case.code}; stderr:\n{err}"
        assert case.message in err, f"{name}: {case.message!r} not in stderr:\n{err}"
        assert "Traceback" not in err, f"{name}:\n{err}"
        if case.code == 0:
            assert err == "", f"{name}: a quiet success says nothing:\n{err}"


@pytest.mark.parametrize("name", list(CASES))
def test_every_entry_point_exits_with_the_commands_code(tmp_path, name):
    assert_same_code_and_message(run_everywhere(tmp_path, CASES[name]))


@pytest.mark.redis
@pytest.mark.skipif(bool(REDIS_SKIP_REASON), reason=REDIS_SKIP_REASON or "-")
def test_a_wrong_redis_password_is_an_error_everywhere(tmp_path):
    server = RedisServer(tmp_path / "redis", password="right-horse-battery").start()
    try:
        url = f"redis://:wrong@127.0.0.1:{server.port}/0"

        def make(folder: Path) -> Case:  # the server refuses: an error of the environment, as when it is down
            write_feed(folder / "feed.jsonl")
            return Case(["watch", "feed.jsonl", "-o", "verdicts.jsonl", "--redis", url, "-q"], 1, "refused the credentials")

        assert_same_code_and_message(run_everywhere(tmp_path, make))
    finally:
        server.stop()


@pytest.mark.redis
@pytest.mark.skipif(bool(REDIS_SKIP_REASON), reason=REDIS_SKIP_REASON or "-")
def test_redis_down_is_an_error_everywhere(tmp_path):
    assert_same_code_and_message(run_everywhere(tmp_path, redis_down, timeout=600))


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 64 KiB file system (a full disk after 64 KiB): needs the right to mount (root); where
    it cannot be mounted, /dev/full still covers a full disk."""
    with mounted_tmpfs(tmp_path / "tiny", "64k") as folder:
        yield folder


def test_a_full_disk_is_an_error_everywhere(tmp_path, tiny_tmpfs):
    def make(folder: Path) -> Case:
        write_feed(folder / "feed.jsonl", posts=2000)  # ~500 KiB scored: does not fit in 64 KiB
        out = tiny_tmpfs / f"{folder.name}.jsonl"
        argv = ["score", "feed.jsonl", "-o", str(out), "--rejects", "rejects.jsonl", "--no-criteria", "-q"]
        return Case(argv, 1, "No space left on device")

    assert_same_code_and_message(run_everywhere(tmp_path / "runs", make))


def test_ctrl_c_exits_130_everywhere(tmp_path):
    # `watch -` reads a stdin that never ends; once it has answered one post, interrupt it.
    # Budgets as the other cases': the three start the whole stack side by side, and after
    # Ctrl-C each one's interpreter still collects its heap (about 1 CPU second, far more on a
    # loaded 2-core machine); a verdict that never comes fails the test instead of hanging it.
    post = json.dumps({"id": "p1", "text": AD, "author": "a1", "time": BASE}) + "\n"
    running = {}
    try:
        for name, command in ENTRY_POINTS.items():
            err = open(tmp_path / f"{name}.stderr", "wb")
            proc = subprocess.Popen([*command, "watch", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
            proc.stdin.write(post.encode())
            proc.stdin.flush()
            running[name] = (proc, err)
        for name, (proc, _err) in running.items():
            ready, _, _ = select.select([proc.stdout], [], [], 300)
            assert ready, f"{name}: no verdict within 300 s"
            verdict = json.loads(proc.stdout.readline())
            assert verdict["id"] == "p1", name
            proc.send_signal(signal.SIGINT)
        for name, (proc, _err) in running.items():
            code = proc.wait(timeout=300)
            stderr = (tmp_path / f"{name}.stderr").read_text()
            assert code == 130, f"{name}: exit code {code}; stderr:\n{stderr}"
            assert "interrupted" in stderr and "Traceback" not in stderr, f"{name}:\n{stderr}"
    finally:
        for proc, err in running.values():
            proc.kill()  # (no-op for one that has exited)
            proc.wait()
            err.close()
            proc.stdin.close()
            proc.stdout.close()


def test_ctrl_c_while_scoring_keeps_the_previous_output_and_leaves_no_temporary_file(tmp_path):
    # `score -` reads a stdin that stays open. Its posts are more than a pipe holds, so once the
    # write returns the command is reading them (its Ctrl-C handling is in place); Ctrl-C then
    # stops it before any output is complete: the previous file stays and nothing else is left.
    posts = "".join(
        json.dumps({"id": f"p{k}", "text": f"{AD} #{k}", "author": f"a{k}", "time": BASE + k}) + "\n"
        for k in range(3000)
    ).encode()
    assert len(posts) > 4 * 65536
    for name, command in ENTRY_POINTS.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "scored.jsonl").write_text("previous\n")
        proc = subprocess.Popen(
            [*command, "score", "-", "-o", "scored.jsonl", "--rejects", "rejects.jsonl", "--rules"],
            cwd=folder,
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            proc.stdin.write(posts)
            proc.stdin.flush()
            proc.send_signal(signal.SIGINT)
            stderr = proc.communicate(timeout=300)[1].decode()
        finally:
            proc.kill()
            proc.wait()
        assert proc.returncode == 130, f"{name}: exit code {proc.returncode}; stderr:\n{stderr}"
        assert "interrupted" in stderr and "Traceback" not in stderr, f"{name}:\n{stderr}"
        assert (folder / "scored.jsonl").read_text() == "previous\n", name
        assert sorted(p.name for p in folder.iterdir()) == ["scored.jsonl"], name


def test_a_reader_that_leaves_early_is_reported_with_what_it_got(tmp_path):
    # `score big.jsonl -o - | head -1`: the summary says how many rows the pipe took, exit 1
    feed = tmp_path / "big.jsonl"
    write_feed(feed, posts=3000)  # ~800 KiB of scored rows: far more than a pipe holds
    running = {}
    for name, command in ENTRY_POINTS.items():
        err = open(tmp_path / f"{name}.stderr", "wb")
        argv = ["score", str(feed), "-o", "-", "--no-criteria"]
        score = subprocess.Popen([*command, *argv], stdout=subprocess.PIPE, stderr=err)
        head = subprocess.Popen(["head", "-1"], stdin=score.stdout, stdout=subprocess.PIPE)
        score.stdout.close()  # head alone reads the pipe: when it leaves, the pipe breaks
        running[name] = (score, head, err)
    for name, (score, head, err) in running.items():
        first = head.communicate(timeout=300)[0]
        code = score.wait(timeout=300)
        err.close()
        stderr = (tmp_path / f"{name}.stderr").read_text()
        assert json.loads(first)["id"] == "p0"
        assert code == 1, f"{name}: exit code {code}; stderr:\n{stderr}"
        line = next(row for row in stderr.splitlines() if "reader of standard output left (broken pipe)" in row)
        written = int(line.split(" after ")[1].split(" of ")[0].replace(",", ""))
        assert 1 <= written < 3000 and " of 3,000 rows" in line, line
        assert f"written                 │ {written:,} (then the reader" in stderr, stderr  # the summary
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


def test_version_imports_nothing_heavy(tmp_path):
    # `spamflood --version` and `main(["--version"])` load neither numpy nor the rest of the stack
    heavy = {"numpy", "numba", "sklearn", "scipy", "pandas", "pyarrow", "rich", "orjson", "redis"}
    for name, command in ENTRY_POINTS.items():
        proc = subprocess.run(
            [*command, "--version"],
            capture_output=True,
            check=False,
            timeout=60,
            env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
        )
        assert proc.returncode == 0 and proc.stdout.decode() == f"spamflood {__version__}\n", (name, proc)
        imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.decode().splitlines() if line.startswith("import time:")}
        ours = {m for m in imported if m.startswith("spamflood")}
        light = {"spamflood", "spamflood._version", "spamflood.errors", "spamflood.cli"}
        # the console script and -m also set the process's page policy (spamflood._memory, no numpy)
        assert ours == (light if name == "main" else light | {"spamflood._memory"}), (name, ours)
        assert not {m.split(".")[0] for m in imported} & heavy, (name, sorted(imported))


@pytest.mark.parametrize(
    ("environment", "numpy_first", "expected"),
    [({}, False, "0 False"), ({}, True, "0 False"), ({"NUMPY_MADVISE_HUGEPAGE": "1"}, False, "1 True")],
)
def test_the_command_line_asks_for_ordinary_pages_unless_the_user_chose(environment, numpy_first, expected):
    # NumPy's huge-page requests off for the command's process (before or after NumPy is
    # imported), and a user's own NUMPY_MADVISE_HUGEPAGE kept
    code = (
        ("import numpy; " if numpy_first else "")
        + "import os; from spamflood._memory import ordinary_pages; ordinary_pages(); import numpy; "
        + "print(os.environ['NUMPY_MADVISE_HUGEPAGE'], numpy._core.multiarray._set_madvise_hugepage(True))"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"} | environment
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == expected, proc


def test_every_public_name_is_there_when_first_asked_for():
    # the package imports its public names on first use (what keeps --version light)
    code = (
        "import sys, spamflood\n"
        "assert 'numpy' not in sys.modules\n"
        "missing = [n for n in spamflood.__all__ if getattr(spamflood, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert set(spamflood.__all__) <= set(dir(spamflood))\n"
        "from spamflood import Detector, synth\n"
        "import spamflood.detector\n"
        "assert Detector is spamflood.detector.Detector and synth.write\n"
        "try:\n"
        "    spamflood.Detectr\n"
        "except AttributeError as exc:\n"
        "    print(exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "module 'spamflood' has no attribute 'Detectr'\n"
