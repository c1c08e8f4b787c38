"""The built site in a real browser: what a reader sees, checked page by page.

``make check-site`` runs this after ``make book`` (and ``make book-student``). It serves
``_build/html`` on a free localhost port and drives Debian's Chromium with Playwright,
with every request that leaves localhost blocked, so the site must work offline:

- every page of ``_toc.yml`` loads;
- every image loads (non-zero natural size); every image in a page's text has alt text and is
  not shrunk to less than half its size (its labels would be too small to read);
- every link into the site resolves: the file exists and so does its ``#fragment``;
- every piece of maths is typeset by MathJax (served from the site, not a CDN) without error;
- every notebook page offers its ``.ipynb`` download, a valid notebook whose first cell
  installs the library on Colab only;
- the search page finds "interneuron";
- no page logs a console error or throws, and no request fails (the favicon included);
- no page shows a file-system path or a Python traceback;
- at 390 px (a phone) nothing scrolls sideways (wide maths and tables scroll in their own box),
  and on the desktop no table or caption is clipped;
- the menu (☰) and contents toggles open the chapter list and the page's contents on a phone,
  and the menu toggle hides and shows the chapter list on the desktop.

A screenshot of each page goes to ``_build/screenshots/<page>.png``. The student edition
(``_build/student/html``), when given, must contain the exercises and none of the solutions.
``--execute-notebooks [PAGE ...]`` instead downloads the notebooks of the named pages (all of
them if none is named) from the served site and executes them with ``jupyter nbconvert
--execute``. ``make check-notebooks`` names one chapter: the chapters' code has already
executed under nbval, so what this adds is that a downloaded notebook runs as a reader gets it.

Usage: python tests/site_check.py [--site _build/html] [--student _build/student/html]
       python tests/site_check.py --execute-notebooks book/01_whitening
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

from whitenlib.plotting import FIGURE_DPI, MIN_FONT_PT

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# As in the machine notes: without the background-networking flags Chromium keeps trying
# to reach Google's hosts, which a closed network refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SEARCH_TERM = "interneuron"
PAGE_TIMEOUT_MS = 60_000
# The figure standard (wl.plotting): figures are written at 2 x FIGURE_DPI pixels per inch
# and their smallest text is MIN_FONT_PT. As displayed at the check's page width (1280 px
# window), that text must be at least 9 pt on the screen, 12 CSS px: a figure drawn wider
# than the page shows it is shrunk below that.
FIGURE_PX_PER_IN = 2 * FIGURE_DPI
MIN_TEXT_PX = 12.0


# ------------------------------------------------------------------ helpers


def toc_pages(toc_path: Path) -> list[str]:
    """Every page of _toc.yml (root first), as docnames."""
    toc = yaml.safe_load(toc_path.read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(str(Path(entry["file"]).with_suffix("")))
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return pages


class _Ids(HTMLParser):
    """The ids (and anchor names) a page defines, and its text classes."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if attrs.get("class"):
            self.classes.extend(attrs["class"].split())


_ID_CACHE: dict[Path, set[str]] = {}


def page_ids(path: Path) -> set[str]:
    if path not in _ID_CACHE:
        parser = _Ids()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        _ID_CACHE[path] = parser.ids
    return _ID_CACHE[path]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m http.server` on a free localhost port, started and stopped here."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
             "--directory", str(directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base, timeout=2).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the HTTP server on port {self.port} did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ------------------------------------------------------------------ checks in the browser

IN_PAGE = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  const article = document.querySelector('article') || document.body;
  const maths = Array.from(article.querySelectorAll('.math'));
  const scripts = Array.from(document.scripts).map(s => s.src).filter(s => s.includes('mathjax'));
  return {
    title: document.title,
    images: imgs.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth,
                              height: img.naturalHeight, alt: img.getAttribute('alt'),
                              shown: img.getBoundingClientRect().width,
                              inArticle: article.contains(img)})),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    maths: maths.length,
    typeset: maths.filter(m => m.querySelector('mjx-container')).length,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    mathjaxScripts: scripts,
    notebookLinks: Array.from(document.querySelectorAll('a[href$=".ipynb"]')).map(a => a.href),
  };
}
"""


def check_links(site: Path, base: str, page: str, links: list[str], errors: list[str]) -> int:
    checked = 0
    for href in links:
        if not href.startswith(base):
            continue  # another origin (launch buttons, citations' DOIs): not part of the site
        url = urlparse(href)
        rel = unquote(url.path[len(urlparse(base).path):])
        target = site / rel
        if rel == "" or rel.endswith("/"):
            target = target / "index.html"
        checked += 1
        if not target.is_file():
            errors.append(f"{page}: broken link {href} (no file {target.relative_to(site)})")
            continue
        fragment = unquote(url.fragment)
        if fragment and target.suffix == ".html" and fragment not in page_ids(target):
            errors.append(f"{page}: broken link {href} (no #{url.fragment} on that page)")
    return checked


def check_notebook(url: str, page: str, errors: list[str]) -> None:
    import nbformat

    try:
        raw = urllib.request.urlopen(url, timeout=30).read()
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        errors.append(f"{page}: the notebook {url} is not a valid notebook: {exc}")
        return
    first = nb.cells[0] if nb.cells else None
    guarded = first is not None and first.cell_type == "code"
    if not guarded or '"google.colab" in sys.modules' not in first.source:
        errors.append(f"{page}: the notebook's first cell is not the guarded Colab install cell")
    if not any(c.cell_type == "code" for c in nb.cells[1:]):
        errors.append(f"{page}: the notebook has no code cells")


def check_browser(site: Path, pages: list[str], screenshots: Path, errors: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    stats = {"pages": 0, "images": 0, "links": 0, "maths": 0, "notebooks": 0, "search_results": 0,
             "min_figure_text_px": float("inf")}
    screenshots.mkdir(parents=True, exist_ok=True)
    with Server(site) as server, sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, service_workers="block",
        )
        blocked: list[str] = []

        def route(r):  # the site must not need the network: block anything off localhost
            if r.request.url.startswith(server.base) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        messages: list[str] = []
        page.on("console", lambda m: messages.append(f"console.{m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: messages.append(f"page error: {e}"))
        watch_requests(page, messages)
        phone = context.new_page()
        phone.set_viewport_size(PHONE)
        watch_requests(phone, messages)

        for name in pages:
            messages.clear()
            blocked.clear()
            url = server.base + name + ".html"
            response = page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
            if response is None or response.status != 200:
                status = response.status if response else "no response"
                errors.append(f"{name}: did not load ({status})")
                continue
            info = page.evaluate(IN_PAGE)
            stats["pages"] += 1
            if not info["title"].strip():
                errors.append(f"{name}: page has no title")
            for img in info["images"]:
                stats["images"] += 1
                if img["width"] == 0 or img["height"] == 0:
                    errors.append(f"{name}: image did not load: {img['src']}")
                if img["inArticle"] and not (img["alt"] or "").strip():
                    errors.append(f"{name}: image without alt text: {img['src']}")
                if img["inArticle"] and img["shown"] > 0 and img["width"] > 0:
                    shown_px_per_in = img["shown"] / (img["width"] / FIGURE_PX_PER_IN)
                    text_px = MIN_FONT_PT / 72 * shown_px_per_in
                    stats["min_figure_text_px"] = round(min(stats["min_figure_text_px"], text_px), 1)
                    if text_px < MIN_TEXT_PX:
                        errors.append(f"{name}: figure text shown at {text_px:.1f} px (< "
                                      f"{MIN_TEXT_PX:.0f}): draw it with wl.plotting.panels, "
                                      f"at the page's width: {img['src']}")
            stats["links"] += check_links(site, server.base, name, info["links"], errors)
            stats["maths"] += info["maths"]
            if info["maths"]:
                if not any(s.startswith(server.base) for s in info["mathjaxScripts"]):
                    errors.append(f"{name}: MathJax is not served by the site: "
                                  f"{info['mathjaxScripts']}")
                if info["typeset"] != info["maths"]:
                    missing = info["maths"] - info["typeset"]
                    errors.append(f"{name}: {missing} of {info['maths']} maths not typeset")
                if info["mathErrors"]:
                    errors.append(f"{name}: {info['mathErrors']} MathJax errors (mjx-merror)")
            if is_notebook_page(site, name):
                if not any(u.startswith(server.base) for u in info["notebookLinks"]):
                    errors.append(f"{name}: no .ipynb download link")
                local = {u for u in info["notebookLinks"] if u.startswith(server.base)}
                for nb_url in sorted(local):
                    stats["notebooks"] += 1
                    check_notebook(nb_url, name, errors)
            check_page_text(page, name, errors)
            check_favicon(page, name, errors)
            check_clipping(page, name, errors)
            stats["phone_pages"] = stats.get("phone_pages", 0) + check_phone_layout(phone, url, name, errors)
            errors.extend(f"{name}: {m}" for m in messages)
            errors.extend(f"{name}: request off localhost blocked: {u}" for u in blocked)
            shot = screenshots / f"{name}.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)

        # search: Sphinx's search page fills its results from searchindex.js
        messages.clear()
        page.goto(server.base + f"search.html?q={SEARCH_TERM}", wait_until="load",
                  timeout=PAGE_TIMEOUT_MS)
        try:
            page.wait_for_selector("#search-results ul.search li", timeout=PAGE_TIMEOUT_MS)
        except Exception:  # noqa: BLE001 - reported below
            pass
        stats["search_results"] = page.locator("#search-results ul.search li").count()
        if stats["search_results"] < 1:
            errors.append(f"search: no result for {SEARCH_TERM!r}")
        errors.extend(f"search: {m}" for m in messages)
        page.screenshot(path=str(screenshots / "search.png"), full_page=True)
        messages.clear()
        stats["toggles"] = check_toggles(context, server.base + TOGGLE_PAGE + ".html", errors)
        errors.extend(f"toggles: {m}" for m in messages)
        context.close()
    return stats


# ------------------------------------------------------------------ what a reader must never meet

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TOGGLE_PAGE = "book/04_acceleration"  # a chapter with a page table of contents
# Text no page may show: where the book was built, or a Python traceback.
FORBIDDEN_TEXT = [
    (re.compile(r"Traceback \(most recent call last\)|Cell In\[\d+\], line \d+|\w+Error\s+Traceback"),
     "a Python traceback"),
    (re.compile(r"\x1b\[[\d;]*m"), "terminal colour codes"),
    (re.compile(r"(?<![\w.:/~-])/(?:work|home|root|tmp|usr|opt|var|mnt|srv|Users)/[\w.-]+"),
     "a file-system path"),
    (re.compile(r"site-packages|\b[A-Z]:\\[\w.-]"), "a file-system path"),
]

PAGE_TEXT = """
() => [document.body.innerText,
       ...Array.from(document.querySelectorAll('.cell_output, pre, details')).map(e => e.textContent)]
      .join('\\n')
"""

# Elements sticking out to the right of the window that are not inside a box that scrolls (or
# clips) on its own: what makes a page scroll sideways. The innermost ones are named.
OVERFLOW = """
() => {
  const doc = document.documentElement, width = doc.clientWidth;
  const overflow = doc.scrollWidth - width;
  if (overflow <= 0) return {overflow: 0, culprits: []};
  const sticking = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    let p = el.parentElement, contained = false;
    for (; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') { contained = true; break; }
    }
    if (!contained) sticking.push(el);
  }
  const innermost = sticking.filter(el => !sticking.some(o => o !== el && el.contains(o)));
  return {overflow, culprits: innermost.slice(0, 4).map(el =>
    `<${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? ' class="' + el.className + '"' : ''}>`
    + ` "${(el.textContent || '').trim().slice(0, 50)}" (${Math.round(el.getBoundingClientRect().right - width)} px)`)};
}
"""

# Tables and their captions on the desktop: cut off by a box that hides what overflows.
CLIPPED = """
() => {
  const out = [];
  for (const el of document.querySelectorAll('article table, article caption, article .caption')) {
    const r = el.getBoundingClientRect();
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll') {              // scrolls: half of it hidden at first
        if (p.scrollWidth > p.clientWidth + 1) {
          out.push(`<${el.tagName.toLowerCase()}> "${el.textContent.trim().slice(0, 50)}" is wider than `
                   + `the page by ${p.scrollWidth - p.clientWidth} px (cut, scrolls sideways)`);
        }
        break;
      }
      if (ox === 'hidden' || ox === 'clip') {
        const q = p.getBoundingClientRect();
        if (r.left < q.left - 1 || r.right > q.right + 1) {
          out.push(`<${el.tagName.toLowerCase()}> "${el.textContent.trim().slice(0, 50)}" cut by `
                   + `${Math.round(Math.max(q.left - r.left, r.right - q.right))} px`);
        }
        break;
      }
    }
  }
  return out;
}
"""


def watch_requests(page, messages: list[str]) -> None:
    """Every request that fails or answers with an error status is a finding."""
    page.on("requestfailed", lambda r: messages.append(f"request failed: {r.url} ({r.failure})")
            if "ERR_ABORTED" not in (r.failure or "") or r.url.startswith("http://127.0.0.1") else None)
    page.on("response", lambda r: messages.append(f"request failed: {r.url} (HTTP {r.status})")
            if r.status >= 400 else None)


def check_page_text(page, name: str, errors: list[str]) -> None:
    text = page.evaluate(PAGE_TEXT)
    for pattern, what in FORBIDDEN_TEXT:
        match = pattern.search(text)
        if match:
            start = max(match.start() - 40, 0)
            context = " ".join(text[start:match.end() + 40].split())
            errors.append(f"{name}: the page shows {what}: ...{context}...")


def check_favicon(page, name: str, errors: list[str]) -> None:
    """The page names a favicon and it loads (browsers ask for /favicon.ico otherwise)."""
    href = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.href || ''")
    if not href:
        errors.append(f"{name}: no favicon (<link rel=icon>)")
        return
    try:
        response = page.request.get(href, timeout=PAGE_TIMEOUT_MS)
        status = response.status
        body = response.body()
    except Exception as exc:  # noqa: BLE001 - the finding
        status, body = str(exc), b""
    if status != 200 or not body:
        errors.append(f"{name}: the favicon {href} does not load ({status})")


def check_clipping(page, name: str, errors: list[str]) -> None:
    errors.extend(f"{name}: on the desktop {c}" for c in page.evaluate(CLIPPED))


def check_phone_layout(phone, url: str, name: str, errors: list[str]) -> int:
    """At 390 px nothing scrolls sideways. Returns 1 when the page was checked."""
    phone.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
    phone.evaluate("async () => { if (window.MathJax?.startup?.promise) await MathJax.startup.promise; }")
    info = phone.evaluate(OVERFLOW)
    if info["overflow"] > 0:
        errors.append(f"{name}: at {PHONE['width']} px the page scrolls sideways by {info['overflow']} px: "
                      + "; ".join(info["culprits"]))
    return 1


def _dialog_shows_links(page, dialog: str) -> bool:
    try:
        page.wait_for_function(f"() => document.querySelector('{dialog}')?.open === true", timeout=5000)
    except Exception:  # noqa: BLE001 - the dialog did not open
        return False
    return page.locator(f"{dialog} a[href]").first.is_visible()


def check_toggles(context, url: str, errors: list[str]) -> int:
    """Click the menu and contents toggles a reader sees, on a phone and on the desktop."""
    page = context.new_page()
    checked = 0
    try:
        page.set_viewport_size(PHONE)
        page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        for toggle, dialog, what in ((".primary-toggle", "#pst-primary-sidebar-modal", "chapter list"),
                                     (".secondary-toggle", "#pst-secondary-sidebar-modal", "page contents")):
            button = page.locator(f"{toggle}:visible").first
            if button.count() == 0:
                errors.append(f"toggles: no visible {toggle} button at {PHONE['width']} px")
                continue
            button.click()
            checked += 1
            if not _dialog_shows_links(page, dialog):
                errors.append(f"toggles: at {PHONE['width']} px the {toggle} button does not open the {what}")
            page.keyboard.press("Escape")
            page.wait_for_function(f"() => !document.querySelector('{dialog}')?.open", timeout=5000)

        page.set_viewport_size(DESKTOP)
        page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        sidebar = page.locator("#pst-primary-sidebar")
        button = page.locator(".primary-toggle:visible").first
        if button.count() == 0 or not sidebar.is_visible():
            errors.append(f"toggles: at {DESKTOP['width']} px no visible menu toggle or no chapter list")
            return checked
        for expect_visible in (False, True):
            button.click()
            checked += 1
            try:
                page.wait_for_function(
                    "v => { const s = document.querySelector('#pst-primary-sidebar');"
                    " return (getComputedStyle(s).visibility !== 'hidden') === v; }",
                    arg=expect_visible, timeout=5000)
            except Exception:  # noqa: BLE001 - reported
                errors.append(f"toggles: at {DESKTOP['width']} px the menu toggle does not "
                              f"{'show' if expect_visible else 'hide'} the chapter list")
                break
    finally:
        page.close()
    return checked


def is_notebook_page(site: Path, name: str) -> bool:
    """A page whose source is a MyST notebook (it carries a kernelspec)."""
    source = site / "_sources" / f"{name}.md"
    return source.is_file() and "kernelspec:" in source.read_text(encoding="utf-8")[:1000]


# ------------------------------------------------------------------ student edition


def html_classes(path: Path) -> list[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser.classes


def check_student(site: Path, student: Path, errors: list[str]) -> dict:
    """The student edition has every exercise of the full one and no solution."""
    stats = {"pages": 0, "exercises": 0, "solutions_in_full": 0}
    for path in sorted(student.rglob("*.html")):
        rel = path.relative_to(student)
        if rel.parts[0].startswith("_"):
            continue
        classes = html_classes(path)
        stats["pages"] += 1
        stats["exercises"] += classes.count("exercise")
        if "solution" in classes:
            errors.append(f"student edition: {rel} contains a solution")
        text = path.read_text(encoding="utf-8")
        if "solution-content" in text or "Solution to" in text:
            errors.append(f"student edition: {rel} contains solution text")
        full = site / rel
        if full.is_file():
            full_classes = html_classes(full)
            stats["solutions_in_full"] += full_classes.count("solution")
            if full_classes.count("exercise") != classes.count("exercise"):
                errors.append(f"student edition: {rel} lost exercises "
                              f"({full_classes.count('exercise')} → {classes.count('exercise')})")
    for nb in sorted((student / "_sources").rglob("*.ipynb")):
        text = nb.read_text(encoding="utf-8")
        if "solution-start" in text or "{solution}" in text:
            errors.append(f"student edition: notebook {nb.relative_to(student)} has a solution")
    if stats["pages"] == 0:
        errors.append(f"student edition: no pages under {student} (run `make book-student`)")
    return stats


# ------------------------------------------------------------------ notebooks executed


def execute_notebooks(site: Path, pages: list[str], errors: list[str], timeout: int) -> dict:
    """Download each page's notebook from the served site and run nbconvert --execute on it.

    ``python -m nbconvert`` is ``jupyter nbconvert`` run by this environment's Python, so the
    kernel sees the environment where whitenlib is installed.
    """
    runner = [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute"]
    timeout_opt = f"--ExecutePreprocessor.timeout={timeout}"
    results = {}
    with Server(site) as server, tempfile.TemporaryDirectory() as tmp:
        for name in pages:
            if not is_notebook_page(site, name):
                continue
            path = Path(tmp, f"{name.replace('/', '__')}.ipynb")
            url = server.base + f"_sources/{name}.ipynb"
            path.write_bytes(urllib.request.urlopen(url, timeout=30).read())
            start = time.perf_counter()
            proc = subprocess.run(
                [*runner, str(path), "--output", path.with_suffix(".out.ipynb").name, timeout_opt],
                capture_output=True, text=True, cwd=tmp, env={**os.environ, "MPLBACKEND": "Agg"},
            )
            results[name] = round(time.perf_counter() - start, 1)
            print(f"  executed {name}.ipynb in {results[name]} s (exit {proc.returncode})",
                  flush=True)
            if proc.returncode != 0:
                errors.append(f"{name}.ipynb does not execute with nbconvert:\n"
                              f"{proc.stderr[-3000:]}")
    return results


# ------------------------------------------------------------------ main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--student", type=Path, default=None, help="student edition to check too")
    ap.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    ap.add_argument("--screenshots", type=Path, default=ROOT / "_build" / "screenshots")
    ap.add_argument("--execute-notebooks", nargs="*", metavar="PAGE", default=None,
                    help="only download the notebooks of these pages (all if none is named) "
                         "from the served site and execute them with nbconvert")
    ap.add_argument("--timeout", type=int, default=300,
                    help="per-cell timeout for --execute-notebooks")
    args = ap.parse_args(argv)

    start = time.perf_counter()
    errors: list[str] = []
    site = args.site.resolve()
    if not (site / "index.html").is_file():
        print(f"no built site at {site}: run `make book` first", file=sys.stderr)
        return 2
    pages = toc_pages(args.toc)

    if args.execute_notebooks is not None:
        unknown = set(args.execute_notebooks) - set(pages)
        if unknown:
            print(f"not pages of the book: {sorted(unknown)}", file=sys.stderr)
            return 2
        times = execute_notebooks(site, args.execute_notebooks or pages, errors, args.timeout)
        if not times:
            errors.append("no notebook executed: none of the pages is a notebook")
        print(f"notebooks: {len(times)} executed in {time.perf_counter() - start:.0f} s")
    else:
        if not Path(CHROMIUM).exists():
            print(f"{CHROMIUM} is missing: `apt-get install chromium` (make check-site does)",
                  file=sys.stderr)
            return 2
        stats = check_browser(site, pages, args.screenshots.resolve(), errors)
        print("site: " + ", ".join(f"{v} {k}" for k, v in stats.items()))
        if args.student is not None:
            student = args.student.resolve()
            sstats = check_student(site, student, errors)
            print("student edition: " + ", ".join(f"{v} {k}" for k, v in sstats.items()))
        print(f"screenshots in {args.screenshots}")
    for error in errors:
        print("FAIL", error)
    elapsed = time.perf_counter() - start
    print(f"{len(errors)} problems in {elapsed:.0f} s")
    label = "notebooks" if args.execute_notebooks is not None else "site"
    print(f"{label}: {0 if errors else 1} passed, {1 if errors else 0} failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
