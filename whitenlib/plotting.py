"""One plotting style for the whole book.

Colours are the Okabe–Ito palette (safe for the common forms of colour
blindness); each network keeps its colour and line style in every figure.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse

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
}

NETWORK_NAME = {
    "direct": "direct recurrence",
    "interneuron": "interneurons",
    "gain": "gain modulation",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (sizes readable at page width)."""
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.fontsize": 10,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "lines.linewidth": 2.0,
            "axes.prop_cycle": mpl.cycler(
                color=[OKABE_ITO[c] for c in ("blue", "vermillion", "green", "orange", "purple", "sky", "black")]
            ),
            "figure.constrained_layout.use": True,
        }
    )


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

    Primary neurons (triangles) receive x from below and send y up; the direct
    circuit connects them to each other (−M), the interneuron circuits route
    the recurrence through k interneurons (circles): Wᵀ excites them and −W
    inhibits the primary neurons.
    """
    if kind not in ("direct", "interneuron", "gain"):
        raise ValueError(f"kind must be 'direct', 'interneuron' or 'gain', got {kind!r}.")
    ax.set_axis_off()
    ax.set_aspect("equal")
    xs = np.linspace(0, 3.0, n)
    y0 = 0.0
    prim = OKABE_ITO["black"]
    inh = NETWORK_STYLE["direct" if kind == "direct" else kind]["color"]
    for xi in xs:
        ax.annotate("", xy=(xi, y0 - 0.22), xytext=(xi, y0 - 1.0),
                    arrowprops=dict(arrowstyle="->", color="0.4", lw=1.5))
        ax.annotate("", xy=(xi, y0 + 1.0), xytext=(xi, y0 + 0.22),
                    arrowprops=dict(arrowstyle="->", color="0.4", lw=1.5))
        ax.plot([xi], [y0], marker="^", markersize=22, color=prim, zorder=3)
    ax.text(xs[0] - 0.55, y0 - 0.8, r"$\mathbf{x}$", fontsize=14)
    ax.text(xs[0] - 0.55, y0 + 0.7, r"$\mathbf{y}$", fontsize=14)
    if kind == "direct":
        for i, xi in enumerate(xs):
            for j, xj in enumerate(xs):
                if i < j:
                    rad = 0.5 if (j - i) > 1 else 0.35
                    ax.annotate("", xy=(xj - 0.1, y0 + 0.15), xytext=(xi + 0.1, y0 + 0.15),
                                arrowprops=dict(arrowstyle="-[", color=inh, lw=1.5,
                                                connectionstyle=f"arc3,rad=-{rad}"))
                    ax.annotate("", xy=(xi + 0.1, y0 - 0.15), xytext=(xj - 0.1, y0 - 0.15),
                                arrowprops=dict(arrowstyle="-[", color=inh, lw=1.5,
                                                connectionstyle=f"arc3,rad=-{rad}"))
        ax.text(xs[-1] + 0.35, y0 + 0.3, r"$-\mathbf{M}$", fontsize=13, color=inh)
        ax.set_ylim(-1.3, 1.4)
    else:
        zs = np.linspace(-0.3, 3.3, k)
        yz = 2.2
        for zj in zs:
            ax.plot([zj], [yz], marker="o", markersize=16, color=inh, zorder=3)
        for xi in xs:
            for zj in zs:
                ax.plot([xi, zj], [y0 + 0.2, yz - 0.15], color="0.6", lw=0.8, zorder=1)
        ax.text(3.55, yz - 0.05, r"$\mathbf{n}$ (%d interneurons)" % k, fontsize=12, color=inh)
        wtext = r"$\mathbf{W}^\top$ (excite), $-\mathbf{W}$ (inhibit)"
        if kind == "gain":
            wtext = r"fixed $\mathbf{W}$, learned gains $\mathbf{g}$"
        ax.text(-0.6, 1.35, wtext, fontsize=11, color="0.3")
        ax.set_ylim(-1.3, 2.7)
    ax.set_xlim(-0.9, 5.4 if kind != "direct" else 4.2)


def log_log_slope(x, y) -> float:
    """Least-squares slope of log y against log x (the scaling exponent)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])

