"""Every chapter of the book executes top to bottom through nbval, its asserts included.

One pytest item per chapter (``test_chapter_executes[01_whitening]``). Each runs
nbval in its own process, so a chapter's kernel, JAX state and figures never
leak into another. Converted notebooks carry no outputs, so nothing is compared
with stored output: a chapter's claims are the `assert`s in its cells.

This is the one execution of a chapter: the notebook nbval executed (recorded by
the ``nbval_record`` plugin) goes into the book's execution cache, and
``jupyter-book build`` shows its outputs without executing the chapter again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT, cache_execution, convert_chapter, executable_chapters, toc_files

CELL_TIMEOUT_S = 600  # per cell; a shared 2-core machine can run the longest near 300 s

CHAPTERS = executable_chapters()


def test_there_are_chapters_to_execute():
    assert len(CHAPTERS) >= 2, "no executable chapter found in _toc.yml"


@pytest.mark.chapter
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_executes(chapter):
    notebook = convert_chapter(chapter)
    executed = notebook.with_suffix(".executed.ipynb")
    executed.unlink(missing_ok=True)
    # the kernel keeps IPython's inline backend (no MPLBACKEND), so figures become outputs
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "tests"), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", str(notebook),
            "--nbval-lax", "--nbval-current-env",
            f"--nbval-cell-timeout={CELL_TIMEOUT_S}",
            "-p", "nbval_record", f"--nbval-record={executed}",
            "-p", "no:cacheprovider", "-q", "--rootdir", str(notebook.parent),
            "-c", os.devnull,
        ],
        capture_output=True, text=True, cwd=notebook.parent, env=env,
    )
    tail = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, f"{chapter.name} failed under nbval:\n{tail}"
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) > 0, f"nbval executed no cell of {chapter.name}:\n{tail}"

    assert executed.is_file(), f"nbval_record wrote no notebook for {chapter.name}:\n{tail}"
    nb = nbformat.read(executed, as_version=4)
    seconds = nb.metadata.pop("nbval_record")["execution_seconds"]
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    try:
        cache_execution(chapter, nb, seconds)
    except KeyError:
        pytest.fail(f"the book build would not find {chapter.name}'s execution in its cache")


def test_toc_and_book_agree():
    """Every page in _toc.yml exists, and every page in book/ is in _toc.yml."""
    listed = set(toc_files())
    for f in listed:
        assert (ROOT / f"{f}.md").exists(), f"_toc.yml lists {f} but {f}.md does not exist"
    on_disk = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").rglob("*.md")}
    missing = on_disk - listed
    assert not missing, f"pages in book/ missing from _toc.yml: {sorted(missing)}"
