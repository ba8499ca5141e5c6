"""Figures for the HTML report, drawn with matplotlib (Agg) and inlined as SVG.

Colours are the Okabe-Ito palette, which stays distinguishable for the common colour-vision
deficiencies; significance is shown by marker fill as well as colour, so nothing depends on hue
alone. Text stays text in the SVG (fonttype "none") so the page's font is used and it stays sharp
on a slide.
"""

from __future__ import annotations

import io
import itertools
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cluebench.records import TaskResult

PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
]
BETTER, WORSE, NEUTRAL = "#0072B2", "#D55E00", "#6b6b6b"
_counter = itertools.count(1)
# matplotlib 3.10 replaced boxplot(vert=False) by orientation="horizontal"
_HORIZONTAL = (
    {"orientation": "horizontal"}
    if tuple(int(x) for x in matplotlib.__version__.split(".")[:2]) >= (3, 10)
    else {"vert": False}
)

plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "cluebench",
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#555555",
        "axes.labelcolor": "#222222",
        "xtick.color": "#333333",
        "ytick.color": "#333333",
        "axes.grid": True,
        "grid.color": "#e6e6e6",
        "grid.linewidth": 0.8,
        "axes.axisbelow": True,
    }
)


def to_svg(fig: plt.Figure, alt: str) -> str:
    """The figure as an inline <svg> element with page-unique ids and an accessible title."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    prefix = f"f{next(_counter)}-"
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    # natural size in pt; CSS (max-width: 100%, height: auto) shrinks it on narrow screens
    title = alt.replace("&", "&amp;").replace("<", "&lt;")
    return svg.replace(
        ">",
        f' role="img" aria-label="{title}" class="figure"><title>{title}</title>',
        1,
    )


def run_colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def delta_forest(panels: list[dict]) -> str:
    """The paper's main figure: per-task headline deltas (candidate − base) with 95% CIs.

    panels: [{"title", "rows": [{"label", "delta", "ci", "level": bool}]}], one panel per pair.
    """
    n = len(panels)
    n_rows = max(len(p["rows"]) for p in panels)
    fig, axes = plt.subplots(
        1,
        n,
        figsize=(min(4.6 * n, 14) if n > 1 else 7.0, 0.42 * n_rows + 1.3),
        sharey=True,
        squeeze=False,
    )
    for ax, panel in zip(axes[0], panels):
        rows = panel["rows"]
        ys = np.arange(len(rows))[::-1]
        extent = 1.0
        for y, row in zip(ys, rows):
            d, ci = row["delta"], row["ci"]
            if d is None:
                continue
            lo, hi = ci if ci else (d, d)
            extent = max(extent, abs(lo), abs(hi))
            sig = ci is not None and (lo > 0 or hi < 0)
            colour = (BETTER if d > 0 else WORSE) if sig else NEUTRAL
            marker = "D" if row.get("level") else "o"
            ax.plot([lo, hi], [y, y], color=colour, lw=2.2, solid_capstyle="round")
            ax.plot(
                [d],
                [y],
                marker=marker,
                ms=8 if row.get("level") else 7,
                color=colour,
                markerfacecolor=colour if sig else "white",
                markeredgewidth=1.8,
            )
        ax.axvline(0, color="#333333", lw=1)
        sep = [y for y, r in zip(ys, rows) if r.get("level")]
        if sep and len(sep) < len(rows):
            ax.axhline(max(sep) + 0.5, color="#bbbbbb", lw=0.8, ls="--")
        ax.set_xlim(-extent * 1.15, extent * 1.15)
        ax.set_yticks(ys, [r["label"] for r in rows])
        ax.set_title(panel["title"], fontsize=10.5, loc="left", fontweight="bold")
        ax.set_xlabel("Δ candidate − base (points, 95% CI)")
        ax.grid(axis="y", visible=False)
    alt = "Per-task differences between each biomedical model and its base, with 95% confidence intervals"
    return to_svg(fig, alt)


def box_strip(
    labels: list[str], values: list[np.ndarray], metric: str, task: str
) -> str:
    """Per-sample distribution of a continuous metric per run: box plot, jittered points, mean."""
    k = len(labels)
    fig, ax = plt.subplots(figsize=(7.5, 0.62 * k + 1.0))
    rng = np.random.default_rng(0)
    ys = np.arange(k)[::-1]
    for i, (y, v) in enumerate(zip(ys, values)):
        v = v[np.isfinite(v)]
        if v.size == 0:
            continue
        c = run_colour(i)
        ax.boxplot(
            [v],
            positions=[y],
            **_HORIZONTAL,
            widths=0.5,
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": c + "33", "edgecolor": c, "linewidth": 1.4},
            medianprops={"color": c, "linewidth": 2},
            whiskerprops={"color": c},
            capprops={"color": c},
        )
        shown = v if v.size <= 600 else rng.choice(v, 600, replace=False)
        ax.scatter(
            shown,
            y + rng.uniform(-0.18, 0.18, shown.size),
            s=6,
            color=c,
            alpha=0.35,
            lw=0,
        )
        ax.plot(
            [v.mean()], [y], marker="D", color="white", markeredgecolor="#111111", ms=6
        )
    ax.set_yticks(ys, labels)
    ax.set_xlim(-2, 102)
    ax.set_xlabel(f"{metric} per sample (0–100); ◆ = mean")
    ax.grid(axis="y", visible=False)
    return to_svg(fig, f"Distribution of per-sample {metric} on {task} for each run")


def dot_ci(
    labels: list[str], metrics: list[str], entries: list[TaskResult], task: str
) -> str:
    """Proportions (0/100 metrics) per run as dots with 95% CIs, one row group per metric."""
    k = len(labels)
    fig, ax = plt.subplots(
        figsize=(7.5, 0.32 * k * len(metrics) + 0.35 * len(metrics) + 0.8)
    )
    y = 0.0
    ticks, names = [], []
    for metric in metrics:
        for i in range(k):
            m = entries[i].metrics.get(metric) or {}
            if m.get("mean") is not None:
                c = run_colour(i)
                lo, hi = m["ci"] if m.get("ci") else (m["mean"], m["mean"])
                ax.plot([lo, hi], [-y, -y], color=c, lw=2.2, solid_capstyle="round")
                ax.plot([m["mean"]], [-y], "o", color=c, ms=7)
            ticks.append(-y)
            names.append(f"{metric} · {labels[i]}" if len(metrics) > 1 else labels[i])
            y += 1
        y += 0.6
    ax.set_yticks(ticks, names)
    ax.set_xlim(-2, 102)
    ax.set_xlabel("mean (0–100) with 95% CI")
    ax.grid(axis="y", visible=False)
    return to_svg(
        fig,
        f"Accuracy-type metrics on {task} for each run with 95% confidence intervals",
    )
