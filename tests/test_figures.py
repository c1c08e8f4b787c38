"""The figure standard (whitenlib.plotting): every figure at the page's width, no small text.

The browser check (tests/site_check.py) measures the text as displayed; these tests keep the
chapters on the standard that makes it hold: figures come from ``wl.plotting.panels`` (never a
hand-picked ``figsize``) and no text is set below ``MIN_FONT_PT``.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from conftest import executable_chapters  # noqa: E402
from whitenlib import plotting  # noqa: E402

CHAPTERS = executable_chapters()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_figures_follow_the_standard(chapter):
    text = chapter.read_text(encoding="utf-8")
    assert "figsize" not in text, f"{chapter.name}: draw figures with wl.plotting.panels"
    assert not re.search(r"plt\.(subplots|figure)\(", text), \
        f"{chapter.name}: draw figures with wl.plotting.panels"
    sizes = [float(s) for s in re.findall(r"fontsize=([\d.]+)", text)]
    assert all(s >= plotting.MIN_FONT_PT for s in sizes), \
        f"{chapter.name}: text below {plotting.MIN_FONT_PT} pt: {sizes}"


def test_style_text_is_never_below_the_floor():
    plotting.use_book_style()
    for key in ("font.size", "axes.labelsize", "axes.titlesize", "legend.fontsize",
                "xtick.labelsize", "ytick.labelsize"):
        assert float(matplotlib.rcParams[key]) >= plotting.MIN_FONT_PT, key
    assert matplotlib.rcParams["savefig.dpi"] == 2 * plotting.FIGURE_DPI


@pytest.mark.parametrize("grid", [(1, 1), (1, 3), (2, 2)])
def test_panels_are_drawn_at_the_page_width(grid):
    fig, _ = plotting.panels(*grid)
    width, height = fig.get_size_inches()
    assert width == plotting.FIGURE_WIDTH_IN
    assert height == pytest.approx(grid[0] * plotting.ROW_HEIGHT_IN[grid[1]])
    plt.close(fig)


@pytest.mark.parametrize("kwargs, name", [
    ({"ncols": 4}, "ncols"), ({"nrows": 0}, "nrows"), ({"ncols": 1.5}, "ncols"),
    ({"figsize": (10, 3)}, "figsize"),
])
def test_panels_reject_what_breaks_the_standard(kwargs, name):
    with pytest.raises(ValueError, match=name):
        plotting.panels(**kwargs)


def test_free_layout_figure_has_the_page_width():
    fig = plotting.figure(height=2.0)
    assert tuple(fig.get_size_inches()) == (plotting.FIGURE_WIDTH_IN, 2.0)
    plt.close(fig)
    with pytest.raises(ValueError, match="height"):
        plotting.figure(height=-1.0)
