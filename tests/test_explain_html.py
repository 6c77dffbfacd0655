"""`difygen explain --format html`: per profile, requests at minimum and maximum scale
stacked per component against the quota and the node, and the connection budget; the page
is drawn by a real headless Chromium (Debian's `chromium`, installed by `make test`)."""

from __future__ import annotations

import itertools
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.plan import plan_for
from generator.profile_load import BUILTIN_PROFILES, find
from generator.quantity import parse_quantity

DIFYGEN = str(Path(sys.executable).parent / "difygen")
WINDOW = (900, 1400)


def html_for(profile: str) -> str:
    proc = subprocess.run([DIFYGEN, "explain", profile, "--format", "html"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


def segments(html: str, resource: str, scale: str) -> list[dict[str, str]]:
    return [a for t, a in elements(html) if t == "rect" and a.get("class") == "seg"
            and a.get("data-resource") == resource and a.get("data-scale") == scale]


@pytest.mark.parametrize("profile", BUILTIN_PROFILES)
def test_bars_stack_every_component_at_both_scales(profile: str) -> None:
    html = html_for(profile)
    plan = plan_for(find(profile))
    names = [c.name for c, _ in plan.components()]
    for resource in ("cpu", "memory"):
        for scale in ("min", "max"):
            bars = segments(html, resource, scale)
            assert [b["data-component"] for b in bars] == names
            # stacked: each segment starts where the previous ended
            for before, after in itertools.pairwise(bars):
                end = float(before["x"]) + float(before["width"])
                assert abs(end - float(after["x"])) < 0.2
        # segment widths are proportional to replicas x requests
        plan_values = {c.name: getattr(s.resources.requests, resource) * s.scaling.max_replicas
                       for c, s in plan.components()}
        bars = segments(html, resource, "max")
        total_width = sum(float(b["width"]) for b in bars)
        for bar in bars:
            share = float(plan_values[bar["data-component"]] / sum(plan_values.values()))
            assert abs(float(bar["width"]) / total_width - share) < 0.01
    limits = {a["data-limit"] for t, a in elements(html) if t == "line"}
    assert {"budget", "max-connections"} <= limits
    assert ("quota" in limits) == (plan.quota is not None)
    assert ("node" in limits) == (plan.profile.node is not None)
    budget = [a for t, a in elements(html) if t == "rect"
              and a.get("data-resource") == "connections"]
    assert [b["data-component"] for b in budget] == [u.component for u in plan.budget.uses
                                                     if u.total > 0]


def test_headroom_numbers_are_the_plans() -> None:
    html = html_for("edge")
    plan = plan_for(find("edge"))
    assert plan.quota is not None
    match = re.search(r"CPU requests at maximum scale against the quota:</p><ul><li "
                      r'class="(ok|over)">(\S+) of (\S+) \((\d+)%\)', html)
    assert match, html[:2000]
    used, quota = parse_quantity(match.group(2)), parse_quantity(match.group(3))
    assert used == plan.at_max.requests.cpu and quota == plan.quota.requests_cpu
    assert int(match.group(4)) == int(used * 100 / quota)
    assert f"{plan.budget.used} of {plan.budget.allowed}" in html
    assert match.group(1) == ("over" if used > quota else "ok")


def test_html_is_deterministic_and_self_contained() -> None:
    first, second = html_for("production"), html_for("production")
    assert first == second
    assert "<script" not in first and "http://" not in first.replace(
        'http://www.w3.org', '') and "https://" not in first


def test_explain_rejects_an_unknown_format() -> None:
    proc = subprocess.run([DIFYGEN, "explain", "small", "--format", "pdf"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "text or html" in proc.stderr


# --- a real browser ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium not found: `make test` installs Debian's chromium package "
                    "(apt-get install chromium); this test needs a real browser")
    return found


def _browser(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    profile_dir = tmp_path / "chromium-profile"  # fresh: nothing from an earlier run
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile_dir}",
         f"--window-size={WINDOW[0]},{WINDOW[1]}", *args],
        capture_output=True, timeout=300, check=False)


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_chromium_draws_the_page(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "edge.html"
    page.write_text(html_for("edge"))
    shot = tmp_path / "edge.png"
    proc = _browser(chromium, tmp_path, f"--screenshot={shot}", page.as_uri())
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert 20_000 < len(data) < 5_000_000, len(data)
    width, height, raw = _png_pixels(data)
    assert (width, height) == WINDOW
    # not blank: many distinct byte values, no single value covering nearly everything
    counts = [0] * 256
    for byte in raw:
        counts[byte] += 1
    assert sum(1 for c in counts if c) > 40
    assert max(counts) / len(raw) < 0.995


def test_chromium_parses_the_bars_into_its_dom(chromium: str, tmp_path: Path) -> None:
    html = html_for("small")
    page = tmp_path / "small.html"
    page.write_text(html)
    proc = _browser(chromium, tmp_path, "--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout.decode()
    # what the browser built, not the file we wrote: the same bars and limit lines
    assert dom.count('class="seg"') == html.count('class="seg"') > 20
    assert dom.count('class="limit"') == html.count('class="limit"') >= 3
    for resource in ("cpu", "memory", "connections"):
        assert f'<svg class="chart" data-resource="{resource}"' in dom
