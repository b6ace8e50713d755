"""`newsdrift drift report --html` opened in headless Chromium: the charts are laid out and painted.

Chromium is Debian's package, installed by `make setup` (`make browser`). The test fails, with that
hint, when it is missing. The report's own page has no script; the test measures a copy of it with a
small script appended (SVG bounding boxes after layout) and checks a screenshot's pixels.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from newsdrift.score.drift.scoring import DriftScorer
from newsdrift.score.frames import load_frames
from newsdrift.store.names import IndexNames
from tests.score.drift.test_drift_opensearch import _document

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("NEWSDRIFT_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

MEASURE = """<script>
const svgs = [...document.querySelectorAll('svg')].map(svg => {
  const box = svg.getBoundingClientRect();
  const lines = [...svg.querySelectorAll('polyline')].map(p => p.getBBox()).filter(b => b.width > 100);
  const dots = [...svg.querySelectorAll('circle')].filter(c => c.getBBox().width > 0).length;
  const areas = [...svg.querySelectorAll('path, rect')]
    .filter(e => { const b = e.getBBox(); return b.width > 0 && b.height > 0; }).length;
  return {label: svg.getAttribute('aria-label'), width: box.width, height: box.height,
          lines: lines.length, dots, areas};
});
const out = document.createElement('pre');
out.id = 'measured';
out.textContent = JSON.stringify(svgs);
document.body.appendChild(out);
</script>"""


def _articles(scorer: DriftScorer) -> list[dict[str, Any]]:
    with (ROOT / "tests" / "data" / "drift" / "stream_a.jsonl").open(encoding="utf-8") as fh:
        return [_document(scorer, item) for item in map(json.loads, fh)]


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (or `make browser`) to install Debian's chromium")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=True)


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG, as Chromium writes them."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = depth = colour = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line) if bpp == 3 else bytes(v for j in range(0, stride, 4) for v in line[j : j + 3]))
        prev = line
    return width, height, rows


def _count_colour(rows: list[bytes], rgb: tuple[int, int, int], tolerance: int = 40) -> int:
    r0, g0, b0 = rgb
    return sum(
        1
        for row in rows
        for i in range(0, len(row), 3)
        if abs(row[i] - r0) + abs(row[i + 1] - g0) + abs(row[i + 2] - b0) <= tolerance
    )


def test_drift_report_html_draws_its_charts_in_chromium(
    opensearch_client: OpenSearch, opensearch_url: str, initialized_names: IndexNames, tmp_path: Path
) -> None:
    client, names = opensearch_client, initialized_names
    scorer = DriftScorer(
        [p.read_text(encoding="utf-8") for p in sorted((ROOT / "baseline").glob("*.txt"))],
        load_frames(),
        baseline_id="seed-v1",
    )
    body: list[dict[str, Any]] = []
    for doc in _articles(scorer):
        body += [{"index": {"_index": names.articles, "_id": doc["article_id"]}}, doc]
    assert not client.bulk(body=body, refresh=True)["errors"]

    env = {
        **os.environ,
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": names.prefix,
        "NEWSDRIFT_HOME": str(tmp_path / "home"),
    }
    cli = [sys.executable, "-m", "newsdrift", "drift"]
    update = subprocess.run([*cli, "update", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert update.returncode == 0, update.stderr
    assert json.loads(update.stdout)["events"] >= 1  # stream A's shift
    page = tmp_path / "report.html"
    report = subprocess.run(
        [*cli, "report", "--html", str(page), "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)
    assert len(rows["windows"]) == 56 and rows["events"]

    # Layout: every chart has a real size and its series have extent after Chromium lays the SVG out.
    measured_page = tmp_path / "measured.html"
    measured_page.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), "utf-8")
    dom = _chromium("--virtual-time-budget=5000", "--dump-dom", measured_page.as_uri()).stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    charts = {c["label"]: c for c in json.loads(found.group(1).replace("&quot;", '"'))}
    divergence = charts["divergence over time"]
    assert divergence["width"] > 600 and divergence["height"] > 150
    assert divergence["lines"] == 3  # JS divergence, frame shift, centroid shift across the windows
    assert divergence["dots"] == 3 * 56
    assert divergence["areas"] >= len(rows["events"])  # event spans
    frames = next(c for label, c in charts.items() if "frame" in (label or ""))
    assert frames["width"] > 600 and frames["areas"] >= 7  # one stacked area per frame

    # Paint: a screenshot has the series' colours in quantity, not a blank page.
    shot = tmp_path / "shot.png"
    _chromium("--window-size=1280,1800", f"--screenshot={shot}", page.as_uri())
    width, height, pixels = _png_pixels(shot)
    assert (width, height) == (1280, 1800)
    assert _count_colour(pixels, (0x1F, 0x3B, 0x73)) > 500  # the JS divergence line and its dots
    assert _count_colour(pixels, (0xC0, 0x39, 0x2B)) > 500  # the frame-shift line
    # the first frame's stacked area: #4e79a7 at opacity 0.88 over white
    assert _count_colour(pixels, (99, 137, 178), tolerance=30) > 20_000
