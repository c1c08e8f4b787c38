"""Shared fixtures: float64 once for the whole session, and the book's chapters as notebooks.

Chapters are MyST markdown (`book/*.md`); nbval only collects `.ipynb`, so each
chapter test converts its chapter with jupytext into `_build/chapter-notebooks/`
(ignored by git, `convert_chapter`). A chapter executed by nbval goes into the
book's execution cache (`cache_execution`), where `jupyter-book build` finds it
instead of executing the chapter again.

`make test` runs the tests in parallel (pytest-xdist, one worker per core): every
chapter test converts and executes only its own chapter, writes to the shared
cache under a file lock, and the chapters are scheduled first, longest first.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

import nbformat
import yaml

import whitenlib as wl

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "_build" / "chapter-notebooks"
BOOK_CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
# the jupyter-cache of myst-nb (`execute.cache`), shared by both editions of the book
EXECUTION_CACHE = ROOT / BOOK_CONFIG["execute"]["cache"]

wl.setup(plotting=False)


def toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every file listed in _toc.yml (root first), as paths without suffix, in reading order."""
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def executable_chapters() -> list[Path]:
    """The `.md` sources in the toc that contain code cells (the ones nbval can execute)."""
    out = []
    for f in toc_files():
        path = ROOT / f"{f}.md"
        if path.exists() and "```{code-cell}" in path.read_text():
            out.append(path)
    return out


def convert_chapter(md_path: Path) -> Path:
    """Convert one MyST chapter to a notebook under _build/chapter-notebooks/; return its path."""
    import jupytext

    notebook = jupytext.read(md_path)
    out = NOTEBOOK_DIR / md_path.relative_to(ROOT / "book").with_suffix(".ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, out)
    return out


def book_notebook(md_path: Path) -> nbformat.NotebookNode:
    """The notebook myst-nb reads from a chapter when it builds the page."""
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    extensions = set(BOOK_CONFIG["parse"]["myst_enable_extensions"])
    return read_myst_markdown_notebook(
        md_path.read_text(), MdParserConfig(enable_extensions=extensions), path=md_path
    )


def cache_execution(md_path: Path, executed: nbformat.NotebookNode, seconds: float):
    """Store an executed chapter in the book's execution cache; return the record that
    `jupyter-book build` will find for the page (KeyError if it would not find one).

    jupyter-cache matches a page by its code cells only; the Makefile empties the cache
    when the library or requirements.lock changes, so no output outlives the code behind it.
    """
    EXECUTION_CACHE.mkdir(parents=True, exist_ok=True)
    # parallel chapter tests share one SQLite database: one writer at a time
    with open(EXECUTION_CACHE / "write.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _store(md_path, executed, seconds)


def _store(md_path: Path, executed: nbformat.NotebookNode, seconds: float):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(EXECUTION_CACHE))
    bundle = CacheBundleIn(executed, str(md_path), data={"execution_seconds": seconds})
    cache.cache_notebook_bundle(bundle, check_validity=True, overwrite=True)
    return cache.match_cache_notebook(book_notebook(md_path))


# measured in a fresh run on two cores (seconds): 04b 276, 05 125, 04 100, 09 70, 08 46; only
# the order in which parallel workers take the chapters depends on this list
LONGEST_CHAPTERS = ("04b_generality", "05_online", "04_acceleration", "09_gain_modulation",
                    "08_biology", "06_adaptation", "index")


def pytest_collection_modifyitems(items):
    """Chapters first, the longest first, so that parallel workers finish together."""

    def rank(item):
        if item.get_closest_marker("chapter") is None:
            return (1, 0)
        order = LONGEST_CHAPTERS + (item.callspec.id,)
        return (0, order.index(item.callspec.id))

    items.sort(key=rank)
