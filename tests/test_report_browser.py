"""The demo report in a real browser (headless Chromium): it renders, shows the floods, draws
its charts, and logs nothing to the console.

How errors are caught: the page has no script at all and a Content-Security-Policy that forbids
scripts and every network load. Chromium started with ``--enable-logging=stderr --v=0`` writes
every console message of the page (uncaught errors, CSP violations, failed loads) to stderr as an
``INFO:CONSOLE`` line naming the page's URL. So "no console errors" is "no CONSOLE line for our
file", and a control page with a deliberate error proves the check does see them. No DevTools
protocol, no websocket client, no server: ``file://`` and two short browser runs.

Set ``SPAMFLOOD_UPDATE_SCREENSHOT=1`` to also refresh ``docs/report.png`` from the screenshot.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report import (  # the planted feeds of the unit tests
    HOSTILE_NAME,
    HOSTILE_TAG,
    Detector,
    coordinated_result,
    demo_feed,
    with_evidence,
)

from spamflood.report import build_report

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WIDTH, HEIGHT = 1280, 2000
POSTS_RGB = (0x4A, 0x6F, 0xA5)  # --posts in report.css: flood timeline bars
SECOND_RGB = (0xE8, 0x59, 0x0C)  # --second: the accounts line and flood pins


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"no headless browser: none of {', '.join(BROWSERS)} is on PATH (CI installs Debian's chromium)")


def run_browser(tmp: Path, url: str, *action: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run, offline and with a throwaway profile; stderr carries the console."""
    args = [
        browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--hide-scrollbars",
        "--mute-audio",
        f"--user-data-dir={tmp / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size={WIDTH},{HEIGHT}",
        *action,
        url,
    ]
    proc = subprocess.run(args, check=False, capture_output=True, text=True, timeout=90, errors="replace")
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}):\n{proc.stderr[-2000:]}"
    return proc


def console_lines(stderr: str, url: str) -> list[str]:
    """The page's console messages in Chromium's log (any level: the page has no script to log)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line and url in line]


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory):
    browser()  # skip before scoring the demo feed when there is no browser
    tmp = tmp_path_factory.mktemp("browser")
    result = with_evidence(Detector().score(demo_feed()))
    path = tmp / "report.html"
    path.write_text(
        build_report(result, title="spamflood demo report", source="demo feed", tz="Asia/Shanghai"), encoding="utf-8"
    )
    return tmp, path, result


@pytest.fixture(scope="module")
def dom(demo_page):
    tmp, path, _ = demo_page
    proc = run_browser(tmp, path.as_uri(), "--dump-dom")
    return proc.stdout, proc.stderr


def test_rendered_dom_shows_the_title_and_top_flood(demo_page, dom):
    _, _, result = demo_page
    html, _ = dom
    top = result.cluster_records()[0]
    assert "<title>spamflood demo report</title>" in html
    assert top["representative_text"][:20] in html
    assert re.search(r'<article class="flood" id="flood-1">', html)
    assert "<script" not in html


def test_no_console_messages(demo_page, dom):
    _, path, _ = demo_page
    _, stderr = dom
    assert console_lines(stderr, path.as_uri()) == []


def test_console_check_sees_errors(tmp_path):
    # Control: a page that breaks the rules must show up in the log, or the check above is blind.
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '<p>x</p><img src="http://example.invalid/x.png"><script>undefinedFunction()</script>',
        encoding="utf-8",
    )
    lines = console_lines(run_browser(tmp_path, bad.as_uri(), "--dump-dom").stderr, bad.as_uri())
    assert any("Content Security Policy" in line for line in lines)


def test_screenshot_draws_the_charts(demo_page):
    Image = pytest.importorskip("PIL.Image", reason="pillow reads the screenshot (dev extra: matplotlib brings it)")
    tmp, path, _ = demo_page
    png = tmp / "report.png"
    run_browser(tmp, path.as_uri(), f"--screenshot={png}")
    image = Image.open(png).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    pixels = image.load()

    def near(rgb, target):
        return sum(abs(a - b) for a, b in zip(rgb, target, strict=True)) < 40

    rows_with_bars = [
        y for y in range(0, HEIGHT, 2) if sum(near(pixels[x, y], POSTS_RGB) for x in range(0, WIDTH, 4)) >= 3
    ]
    line_pixels = sum(near(pixels[x, y], SECOND_RGB) for y in range(0, HEIGHT, 2) for x in range(0, WIDTH, 2))
    # The first flood's timeline: bars spanning tens of pixels high, and the accounts line.
    assert len(rows_with_bars) >= 30, "no timeline bars were drawn"
    assert line_pixels >= 100, "no accounts line was drawn"
    # Not a blank page: the chart area holds many distinct colours (text, bars, axes).
    top, bottom = rows_with_bars[0], rows_with_bars[-1]
    assert len(image.crop((0, top, WIDTH, bottom + 1)).getcolors(1 << 20)) > 20
    if os.environ.get("SPAMFLOOD_UPDATE_SCREENSHOT") == "1":
        small = image.crop((0, 0, WIDTH, 1700)).quantize(colors=64, dither=Image.Dither.NONE)
        small.save(REPO / "docs" / "report.png", optimize=True)


# ---------------------------------------------------------------------------- coordinated groups


@pytest.fixture(scope="module")
def group_page(tmp_path_factory):
    browser()
    tmp = tmp_path_factory.mktemp("groups")
    path = tmp / "groups.html"
    path.write_text(build_report(coordinated_result(), title="coordination"), encoding="utf-8")
    return tmp, path


def test_a_coordinated_group_renders_with_its_object_accounts_and_lanes(group_page):
    tmp, path = group_page
    proc = run_browser(tmp, path.as_uri(), "--dump-dom")
    html = proc.stdout
    section = html[html.index('<article class="group" id="group-1">') :]
    assert html.count('<article class="group"') == 1
    assert '<span class="rank">#1</span> #BuyNow</h3>' in section
    assert re.findall(r'<text class="lane-name"[^>]*>([^<]*)</text>', section) == [
        "all accounts",
        *(f"bot{a}" for a in range(6)),
    ]
    assert console_lines(proc.stderr, path.as_uri()) == []


def test_the_co_posting_lanes_are_drawn_in_shared_columns(group_page):
    Image = pytest.importorskip("PIL.Image", reason="pillow reads the screenshot (dev extra: matplotlib brings it)")
    tmp, path = group_page
    png = tmp / "groups.png"
    run_browser(tmp, path.as_uri(), f"--screenshot={png}")
    image = Image.open(png).convert("RGB")
    pixels = image.load()

    def runs(y: int) -> list[int]:
        """Where the lane colour starts along row ``y`` (the lanes' cells)."""
        on = [sum(abs(a - b) for a, b in zip(pixels[x, y], SECOND_RGB, strict=True)) < 40 for x in range(WIDTH)]
        return [x for x in range(WIDTH) if on[x] and (x == 0 or not on[x - 1])]

    rows = [r for r in (runs(y) for y in range(HEIGHT)) if len(r) == 5]  # a lane crosses the five waves
    assert len(rows) >= 6 * 8, "fewer than six lanes of five cells were drawn"
    first = rows[0]
    assert all(abs(x - x0) <= 2 for row in rows for x, x0 in zip(row, first, strict=True)), "the lanes' cells do not line up"


def test_a_hostile_group_runs_nothing(tmp_path):
    path = tmp_path / "hostile.html"
    path.write_text(build_report(coordinated_result(tag=HOSTILE_TAG, prefix=HOSTILE_NAME)), encoding="utf-8")
    proc = run_browser(tmp_path, path.as_uri(), "--dump-dom")
    assert "<script" not in proc.stdout and "<img" not in proc.stdout
    assert "#&lt;script&gt;alert(1)&lt;/script&gt;" in proc.stdout
    assert console_lines(proc.stderr, path.as_uri()) == []  # a blocked script or image would log a CSP violation
