"""The docs site, looked at in a real browser: every page at 1280 px and 390 px wide, offline.

The site is built with ``mkdocs build --strict``, served on loopback, and opened in headless Chromium
(Debian's ``chromium`` package, driven by ``playwright``; no browser is ever downloaded). Every request
that does not go to the loopback server is blocked and reported. For each page and width:

- nothing is wider than the viewport unless it sits inside a horizontally scrolling box (tables,
  code blocks, diagrams); the page itself never scrolls sideways;
- every ``mermaid`` diagram is rendered to SVG by the mermaid build the site ships itself, at its
  natural size: no diagram text is smaller than 12 CSS px.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
WIDTHS = (1280, 390)
MIN_DIAGRAM_TEXT_PX = 12.0

# Elements wider than the viewport that are not inside a horizontal scroll container, and text of
# rendered diagrams, measured in the page. Material's own chrome (header, off-canvas drawers, search)
# is positioned off-screen on purpose and is not content.
_MEASURE = """
() => {
  const vw = document.documentElement.clientWidth;
  const chrome = ".md-header, .md-sidebar, .md-search, .md-dialog, .md-tooltip, .md-top, .md-skip";
  const scrollsX = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  const describe = (el) => {
    let d = el.tagName.toLowerCase();
    if (el.id) d += "#" + el.id;
    if (typeof el.className === "string" && el.className.trim()) d += "." + el.className.trim().split(/\\s+/).join(".");
    return d + " " + JSON.stringify((el.textContent || "").trim().slice(0, 60));
  };
  const overflowing = [];
  for (const el of document.querySelectorAll(".md-container *")) {
    if (el.closest(chrome)) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right <= vw + 1 && r.left >= -1) continue;
    let ancestor = el.parentElement;
    let contained = false;
    while (ancestor && ancestor !== document.body) {
      if (scrollsX(ancestor)) {
        const a = ancestor.getBoundingClientRect();
        contained = a.right <= vw + 1 && a.left >= -1;
        break;
      }
      ancestor = ancestor.parentElement;
    }
    if (!contained) overflowing.push(`${describe(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px`);
  }
  const texts = [];
  for (const t of document.querySelectorAll(".diagram-scroll svg text")) {
    if (!(t.textContent || "").trim()) continue;
    const ctm = t.getScreenCTM();
    const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 0;
    texts.push([t.textContent.trim().slice(0, 40), parseFloat(getComputedStyle(t).fontSize) * scale]);
  }
  return {
    pageWidth: document.documentElement.scrollWidth,
    viewport: vw,
    overflowing: overflowing.slice(0, 10),
    overflowCount: overflowing.length,
    unrendered: document.querySelectorAll("pre.diagram-mermaid").length,
    diagrams: document.querySelectorAll(".diagram-scroll > svg").length,
    texts,
  };
}
"""


def _require_chromium() -> str:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the docs-site test needs Debian's Chromium. Install it with "
            "`apt-get update && apt-get install -y chromium` (.ci/run does this on CI)."
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site: built strictly from this checkout into a temporary directory, or the one `make test` just built.

    ``make test`` builds the site (``make docs``) before the tests and passes its folder as
    ``DOCS_SITE_DIR``, so it is built once.
    """
    given = os.environ.get("DOCS_SITE_DIR")
    if given:
        site_dir = Path(given).resolve()
        assert (site_dir / "index.html").is_file(), f"DOCS_SITE_DIR={given} holds no built site"
        return site_dir
    site_dir = tmp_path_factory.mktemp("site")
    done = subprocess.run(  # noqa: S603 - our own build, fixed arguments
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site_dir)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"mkdocs build failed:\n{done.stdout}\n{done.stderr}"
    return site_dir


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _pages(site: Path) -> list[str]:
    return sorted(
        path.parent.relative_to(site).as_posix().removeprefix(".") + ("/" if path.parent != site else "")
        for path in site.rglob("index.html")
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_renders_its_diagrams_and_stays_offline(site: Path, base_url: str, width: int) -> None:
    executable = _require_chromium()
    from playwright.sync_api import Route, sync_playwright

    pages = _pages(site)
    assert len(pages) >= 10, pages
    blocked: list[str] = []
    problems: list[str] = []
    diagram_texts: list[tuple[str, str, float]] = []
    diagrams = 0

    def only_loopback(route: Route) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.route("**/*", only_loopback)
            page = context.new_page()
            for path in pages:
                page.goto(base_url + path, wait_until="load")
                expected = (site / path / "index.html").read_text(encoding="utf-8").count('class="diagram-mermaid"')
                if expected:
                    page.wait_for_function(
                        "n => document.querySelectorAll('.diagram-scroll > svg').length >= n"
                        " || document.querySelector('pre.diagram-error')",
                        arg=expected,
                        timeout=15_000,
                    )
                found: dict[str, Any] = page.evaluate(_MEASURE)
                if found["pageWidth"] > found["viewport"]:
                    problems.append(
                        f"/{path}: the page scrolls sideways ({found['pageWidth']} px > {found['viewport']} px)"
                    )
                problems.extend(f"/{path}: {item}" for item in found["overflowing"])
                if found["overflowCount"] > len(found["overflowing"]):
                    problems.append(f"/{path}: ... {found['overflowCount']} elements overflow in all")
                if found["unrendered"] or found["diagrams"] != expected:
                    problems.append(f"/{path}: {found['diagrams']} of {expected} diagram(s) rendered to SVG")
                diagrams += found["diagrams"]
                diagram_texts.extend((path, text, size) for text, size in found["texts"])
        finally:
            browser.close()

    if blocked:
        problems.insert(0, f"the site tried to load from outside itself: {sorted(set(blocked))}")
    if not diagrams or not diagram_texts:
        problems.append("no page rendered a diagram with text (the identity guide has one)")
    problems.extend(
        f"/{path}: diagram text {text!r} is {size:.1f} px (less than {MIN_DIAGRAM_TEXT_PX} px)"
        for path, text, size in diagram_texts
        if size < MIN_DIAGRAM_TEXT_PX - 0.01  # rounding of the transform matrix
    )
    assert not problems, f"at {width} px wide:\n" + "\n".join(problems)
