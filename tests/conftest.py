"""Shared fixtures: float64 once for the whole session, and the book's chapters as notebooks.

Chapters are MyST markdown (`book/*.md`); nbval only collects `.ipynb`, so the
`chapter_notebooks` fixture converts every chapter listed in `_toc.yml` with
jupytext into `_build/chapter-notebooks/` (ignored by git).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import whitenlib as wl

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "_build" / "chapter-notebooks"

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
    """Convert one MyST chapter to a notebook under _build/chapter-notebooks/ and return its path."""
    import jupytext

    notebook = jupytext.read(md_path)
    out = NOTEBOOK_DIR / md_path.relative_to(ROOT / "book").with_suffix(".ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, out)
    return out


@pytest.fixture(scope="session")
def chapter_notebooks() -> dict[str, Path]:
    """All executable chapters converted with jupytext, keyed by chapter stem."""
    return {p.stem: convert_chapter(p) for p in executable_chapters()}
