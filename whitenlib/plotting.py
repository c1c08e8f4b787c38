"""One plotting style for the whole book, and its figure standard.

The standard: every figure is drawn at the width the page shows it
(:data:`FIGURE_WIDTH_IN`, through :func:`panels`), panels stacked in rows where
more than three would not fit; no text is smaller than :data:`MIN_FONT_PT` at
that width; figures are written at twice the screen resolution (sharp on
high-density screens and in the PDF); backgrounds are opaque white, so figures
read the same on a light or a dark page. Colours are the Okabe–Ito palette (safe
for the common forms of colour blindness); each network keeps its colour and
line style in every figure. ``tests/site_check.py`` measures the displayed text
size in a browser.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.patches import Ellipse

from whitenlib.validation import check_positive

OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}

#: colour and line style of each network, keyed by ``Net.label``
NETWORK_STYLE = {
    "direct": {"color": OKABE_ITO["vermillion"], "linestyle": "-"},
    "interneuron": {"color": OKABE_ITO["blue"], "linestyle": "-"},
    "gain": {"color": OKABE_ITO["green"], "linestyle": "-"},
    "direct, non-local rule": {"color": OKABE_ITO["vermillion"], "linestyle": "--"},
}

NETWORK_NAME = {
    "direct": "direct recurrence",
    "interneuron": "interneurons",
    "gain": "gain modulation",
    "direct, non-local rule": "direct, non-local rule",
}


#: width of every figure (inches): the width of the page's text column at 1280 px
FIGURE_WIDTH_IN = 6.5
#: resolution of a figure on screen (pixels per inch); written at twice this
FIGURE_DPI = 110
#: no text in a figure is smaller (points, at FIGURE_WIDTH_IN)
MIN_FONT_PT = 9.5
#: height of one row of panels (inches), by the number of panels in the row
ROW_HEIGHT_IN = {1: 3.6, 2: 3.0, 3: 2.5}


def use_book_style() -> None:
    """Apply the book's matplotlib style and figure standard (see the module's docstring)."""
    mpl.rcParams.update(
        {
            "figure.figsize": (FIGURE_WIDTH_IN, ROW_HEIGHT_IN[1]),
            "figure.dpi": FIGURE_DPI,
            "savefig.dpi": 2 * FIGURE_DPI,
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.transparent": False,
            "font.size": 10.5,
            "axes.titlesize": 10.5,
            "axes.labelsize": 10.5,
            "legend.fontsize": MIN_FONT_PT,
            "legend.title_fontsize": MIN_FONT_PT,
            "figure.titlesize": 11,
            "xtick.labelsize": MIN_FONT_PT,
            "ytick.labelsize": MIN_FONT_PT,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "lines.linewidth": 2.0,
            "axes.prop_cycle": mpl.cycler(
                color=[
                    OKABE_ITO[c]
                    for c in ("blue", "vermillion", "green", "orange", "purple", "sky", "black")
                ]
            ),
            "figure.constrained_layout.use": True,
        }
    )
    _inline_at_double_resolution()


def _inline_at_double_resolution() -> None:
    # Jupyter's inline backend writes PNGs at figure.dpi; "retina" writes them at twice that
    # with the display size in the output's metadata, which myst-nb passes on to the page.
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: no inline figures to format
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def figure(height: float = ROW_HEIGHT_IN[1]):
    """An empty figure at the page's width, for layouts :func:`panels` does not cover
    (a ``fig.add_gridspec`` of images beside a plot); ``height`` in inches."""
    import matplotlib.pyplot as plt

    check_positive("height", height)
    return plt.figure(figsize=(FIGURE_WIDTH_IN, float(height)))


def panels(nrows: int = 1, ncols: int = 1, *, height: float | None = None, **kwargs):
    """A figure of ``nrows × ncols`` panels drawn at the page's width.

    Parameters
    ----------
    nrows, ncols : int
        Panel grid; at most three panels per row, so that each keeps room for its labels.
    height : float, optional
        Figure height in inches; default ``nrows × ROW_HEIGHT_IN[ncols]``.
    **kwargs
        Passed to ``matplotlib.pyplot.subplots`` (``sharex``, ``width_ratios``, …).

    Returns
    -------
    (Figure, Axes or array of Axes), as ``matplotlib.pyplot.subplots`` returns them.
    """
    import matplotlib.pyplot as plt

    for name, value in (("nrows", nrows), ("ncols", ncols)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    if ncols > 3:
        raise ValueError(f"ncols must be at most 3 (panels of a {FIGURE_WIDTH_IN} in page), "
                         f"got {ncols}: stack the panels in more rows.")
    if height is None:
        height = nrows * ROW_HEIGHT_IN[ncols]
    if "figsize" in kwargs:
        raise ValueError("figsize is fixed by the figure standard: pass height=... instead.")
    return plt.subplots(nrows, ncols, figsize=(FIGURE_WIDTH_IN, height), **kwargs)


def network_style(net_or_cls) -> dict:
    """Line style (colour, linestyle, label) of a network class or instance."""
    label = net_or_cls.label
    return {**NETWORK_STYLE[label], "label": NETWORK_NAME[label]}


def covariance_ellipse(ax, cov, center=(0.0, 0.0), n_std: float = 2.0, **kwargs):
    """Draw the n_std-σ ellipse of a 2 × 2 covariance on ``ax``."""
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (2, 2):
        raise ValueError(f"cov must have shape (2, 2), got {cov.shape}.")
    lam, vec = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vec[1, 1], vec[0, 1]))
    width, height = 2 * n_std * np.sqrt(lam[::-1])
    kwargs.setdefault("fill", False)
    kwargs.setdefault("linewidth", 2.0)
    patch = Ellipse(center, width, height, angle=angle, **kwargs)
    ax.add_patch(patch)
    return patch


def draw_circuit(ax, kind: str, n: int = 3, k: int = 4) -> None:
    """Schematic of a circuit: ``kind`` is "direct", "interneuron" or "gain".

    Primary neurons (black triangles) receive x from below and send y up. The
    direct circuit connects them to each other by inhibitory synapses −M
    (lines ending in dots; self-connections not drawn). The interneuron circuits
    route the recurrence through k interneurons (circles): every line is a
    reciprocal pair, shown once in full (right): excitation Wᵀ to the
    interneuron (arrow) and inhibition −W back (dot). Both panels share one
    vertical layout, so two of them side by side line up.
    """
    if kind not in ("direct", "interneuron", "gain"):
        raise ValueError(f"kind must be 'direct', 'interneuron' or 'gain', got {kind!r}.")
    from matplotlib.patches import Circle, Polygon

    ax.set_axis_off()
    ax.set_aspect("equal")
    grey, dark = "0.45", OKABE_ITO["black"]
    col = NETWORK_STYLE["direct" if kind == "direct" else kind]["color"]
    xs = 1.6 * np.arange(n)
    half, top, bottom = 0.27, 0.3, -0.22  # triangle geometry

    def arrow(p, q, color, lw=1.6, rad=0.0, style="-|>"):
        ax.annotate("", xy=q, xytext=p, zorder=3, arrowprops=dict(
            arrowstyle=style, color=color, lw=lw, shrinkA=0, shrinkB=0,
            mutation_scale=14, connectionstyle=f"arc3,rad={rad}"))

    for xi in xs:
        arrow((xi, -1.25), (xi, bottom - 0.03), grey)
        arrow((xi, top + 0.02), (xi, 1.15), grey)
        ax.add_patch(Polygon([(xi - half, bottom), (xi + half, bottom), (xi, top)],
                             closed=True, color=dark, zorder=4))
    ax.text(xs[0] - 0.45, -0.95, r"$\mathbf{x}$", fontsize=15, ha="right", va="center")
    ax.text(xs[0] - 0.45, 0.85, r"$\mathbf{y}$", fontsize=15, ha="right", va="center")
    ax.text(xs[-1] + 0.45, 0.0, "primary\nneurons", fontsize=10, color="0.3", va="center")

    if kind == "direct":
        dot = dict(marker="o", markersize=6, color=col, zorder=5)
        for i in range(n - 1):  # neighbours: a straight reciprocal inhibitory pair
            a, b = xs[i] + half + 0.08, xs[i + 1] - half - 0.08
            ax.plot([a, b], [0.0, 0.0], color=col, lw=2, zorder=3)
            ax.plot([a, b], [0.0, 0.0], ls="none", **dot)
        for i in range(n):  # farther pairs: arcs below the row
            for j in range(i + 2, n):
                t = np.linspace(0, 1, 60)
                px = (1 - t) * (xs[i] + 0.12) + t * (xs[j] - 0.12)
                py = bottom - 0.05 - (0.35 + 0.15 * (j - i)) * 4 * t * (1 - t)
                ax.plot(px, py, color=col, lw=2, zorder=3)
                ax.plot([px[0], px[-1]], [py[0], py[-1]], ls="none", **dot)
        ax.text(0.5 * (xs[0] + xs[1]), 0.2, r"$-\mathbf{M}$", fontsize=15, color=col, ha="center")
    else:
        zs = np.linspace(xs[0] - 0.6, xs[-1] + 0.6, k)
        yz, r = 2.3, 0.2
        hi, hj = n - 1, k - 1  # the highlighted reciprocal pair
        for i, xi in enumerate(xs):
            for j, zj in enumerate(zs):
                if (i, j) != (hi, hj):
                    ax.plot([xi, zj], [top, yz - r], color=col, lw=1.0, alpha=0.35, zorder=2)
        for zj in zs:
            ax.add_patch(Circle((zj, yz), r, color=col, zorder=4))
        p, q = (xs[hi] + 0.05, top), (zs[hj], yz - r)
        arrow(p, q, col, lw=2.0, rad=0.3)
        ax.annotate("", xy=p, xytext=q, zorder=3, arrowprops=dict(
            arrowstyle="-", color=col, lw=2.0, shrinkA=0, shrinkB=0,
            connectionstyle="arc3,rad=0.3"))
        ax.plot([p[0]], [p[1]], marker="o", markersize=6, color=col, zorder=5)
        box = dict(facecolor="white", edgecolor="none", pad=0.3, alpha=0.9)
        ax.text(q[0] + 0.3, 1.25, r"$\mathbf{W}^{\top}$", fontsize=14, color=col, va="center")
        ax.text(p[0] - 0.15, 1.3, r"$-\mathbf{W}$", fontsize=14, color=col, va="center",
                ha="right", bbox=box, zorder=6)
        label = "interneurons $\\mathbf{n}$" if kind == "interneuron" else \
            "interneurons with gains $\\mathbf{g}$"
        ax.text(zs.mean(), yz + r + 0.12, label, fontsize=10, color=col, ha="center", va="bottom")
        if kind == "gain":
            ax.text(xs[0] - 0.9, 1.55, r"fixed $\mathbf{W}$", fontsize=11, color="0.3",
                    ha="right", va="center")
    ax.set_xlim(xs[0] - 1.2, xs[-1] + 2.5)
    ax.set_ylim(-1.4, 3.0)


def log_log_slope(x, y) -> float:
    """Least-squares slope of log y against log x (the scaling exponent)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])



__all__ = [
    "FIGURE_DPI",
    "FIGURE_WIDTH_IN",
    "MIN_FONT_PT",
    "NETWORK_NAME",
    "NETWORK_STYLE",
    "OKABE_ITO",
    "covariance_ellipse",
    "figure",
    "draw_circuit",
    "log_log_slope",
    "network_style",
    "panels",
    "use_book_style",
]
