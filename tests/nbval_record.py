"""pytest plugin for nbval's run of one chapter: keep what nbval executed.

nbval executes each code cell of a notebook as one pytest item and keeps the
cell's outputs on it (``IPyNbCell.test_outputs``). With ``--nbval-record OUT``,
when every cell passed, this plugin writes the notebook with those outputs and
the time spent executing to ``OUT``; ``tests/test_chapters.py`` stores it in the
book's jupyter-cache, so that ``jupyter-book build`` shows these outputs instead
of executing the chapter a second time.
"""

from __future__ import annotations

import time

import nbformat
import pytest


def pytest_addoption(parser):
    parser.addoption("--nbval-record", metavar="OUT", default=None,
                     help="write the executed notebook (outputs of every cell) to OUT")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    start = time.perf_counter()
    yield
    if hasattr(item, "test_outputs"):  # an nbval cell
        item.config.stash.setdefault(_SECONDS, []).append(time.perf_counter() - start)


_SECONDS = pytest.StashKey[list]()


def pytest_sessionfinish(session, exitstatus):
    out = session.config.getoption("nbval_record")
    if out is None or exitstatus != 0:
        return
    cells = [item for item in session.items if hasattr(item, "test_outputs")]
    if not cells or any(item.test_outputs is None for item in cells):  # a cell skipped
        return
    nb = cells[0].parent.nb
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert len(code) == len(cells), "nbval ran a different number of cells than the notebook has"
    for count, (cell, item) in enumerate(zip(code, cells, strict=True), start=1):
        cell.execution_count = count
        cell.outputs = [nbformat.from_dict(dict(o)) for o in item.test_outputs]
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    nb.metadata["nbval_record"] = {"execution_seconds": sum(session.config.stash[_SECONDS])}
    nbformat.validate(nb)
    nbformat.write(nb, out)
