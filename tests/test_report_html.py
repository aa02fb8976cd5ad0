"""reports/index.html renders in a real headless browser, every section on the page."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from conformance.report.html import SECTIONS
from conformance.report.sources import REPORTS_DIR

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1400, 6000


def _html_page(tmp_path: Path) -> Path:
    """A fresh render where matplotlib is installed, else the committed page (the renderer is
    the same code either way; `nox -s tests` does not install matplotlib)."""
    if importlib.util.find_spec("matplotlib") is None:
        return REPORTS_DIR / "index.html"
    from conformance.report.build import collect
    page = tmp_path / "index.html"
    page.write_text(collect().html())
    return page


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and raw scanlines of a non-interlaced 8-bit PNG (what chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    return width, height, zlib.decompress(b"".join(chunks))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it: "
                    "apt-get install -y chromium); the HTML report is not rendered here")
def test_index_html_renders_every_section_in_headless_chromium(tmp_path):
    page = _html_page(tmp_path)
    html = page.read_text()
    for key, _ in SECTIONS:
        assert f'<section id="{key}">' in html, f"section {key} missing"
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 4  # the four plots
    assert not re.search(r'(src|href)="(https?:)?//', html), "the page must need no network"

    shot = tmp_path / "report.png"
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={shot}",
         f"--window-size={WIDTH},{HEIGHT}", page.resolve().as_uri()],
        check=True, capture_output=True, timeout=180)
    assert shot.exists() and shot.stat().st_size > 50_000
    width, height, raw = _png_pixels(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    # Not a blank page: many distinct byte values, and the bottom half (model zoo, history)
    # is drawn too, not only the top.
    assert len(set(raw[: len(raw) // 2])) > 50
    assert len(set(raw[len(raw) // 2:])) > 20
    keep = REPORTS_DIR / "tmp"  # git-ignored
    keep.mkdir(exist_ok=True)
    shutil.copy(shot, keep / "report-screenshot.png")  # for a human to look at
