"""Every chapter of the book executes top to bottom through nbval, its asserts included.

One pytest item per chapter (``test_chapter_executes[01_whitening]``). Each runs
nbval in its own process, so a chapter's kernel, JAX state and figures never
leak into another. Converted notebooks carry no outputs, so nothing is compared
with stored output: a chapter's claims are the `assert`s in its cells.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, executable_chapters, toc_files

CELL_TIMEOUT_S = 300

CHAPTERS = executable_chapters()


def test_there_are_chapters_to_execute():
    assert len(CHAPTERS) >= 2, "no executable chapter found in _toc.yml"


@pytest.mark.chapter
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_executes(chapter, chapter_notebooks):
    notebook = chapter_notebooks[chapter.stem]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", str(notebook),
            "--nbval-lax", "--nbval-current-env",
            f"--nbval-cell-timeout={CELL_TIMEOUT_S}",
            "-p", "no:cacheprovider", "-q", "--rootdir", str(notebook.parent),
            "-c", os.devnull,
        ],
        capture_output=True, text=True, cwd=notebook.parent, env=env,
    )
    tail = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, f"{chapter.name} failed under nbval:\n{tail}"
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) > 0, f"nbval executed no cell of {chapter.name}:\n{tail}"


def test_toc_and_book_agree():
    """Every page in _toc.yml exists, and every page in book/ is in _toc.yml."""
    listed = set(toc_files())
    for f in listed:
        assert (ROOT / f"{f}.md").exists(), f"_toc.yml lists {f} but {f}.md does not exist"
    on_disk = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").rglob("*.md")}
    missing = on_disk - listed
    assert not missing, f"pages in book/ missing from _toc.yml: {sorted(missing)}"
