"""Plotly figures and captions for the pages, built from the tables inspectors/ and ui/tables compute.
No Streamlit here: a figure in, a page draws it."""

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from inspectors import copies
from ui.plain import html, md

COPIES, NOT_COPIES = "copies", "not copies"


def pair_histogram(result) -> go.Figure:
    """Judged pairs per bin of line distance (pair_distances), copies left of the line at 1 and the rest
    right of it, the last bar every pair past 3; log counts, since look-alikes far outnumber copies."""
    hist = result.histogram
    last = len(hist) - 1
    x = np.where(np.isfinite(hist["high"]), (hist["low"] + hist["high"]) / 2, hist["low"] + 0.05)
    fig = go.Figure()
    for name, column, colour in ((COPIES, "copies", "#d62728"), (NOT_COPIES, "not_copies", "#9aa5b1")):
        counts = hist[column].to_numpy()
        text = [f"{'> 3' if k == last else f'{lo:.1f}–{hi:.1f}'}: {c:,} pairs" for k, (lo, hi, c) in
                enumerate(zip(hist["low"], hist["high"], counts, strict=True))]
        fig.add_bar(x=x, y=np.where(counts > 0, counts, np.nan), width=0.1, name=name, marker_color=colour,
                    hovertext=text, hoverinfo="text")
    fig.add_vline(x=1, line_dash="dash", line_color="#333", annotation_text="the line: 1",
                  annotation_position="top left")
    ticks = [0, 0.5, 1, 1.5, 2, 2.5]
    fig.update_xaxes(title_text="distance from being called a copy (1 = the line; the last bar: past 3)",
                     range=[0, 3.1], tickvals=ticks + [3.05], ticktext=[f"{t:g}" for t in ticks] + ["> 3"])
    top = max(1, int((hist["copies"] + hist["not_copies"]).max()))
    # from below 1, so a single pair shows; ticks at powers of ten only (no unlabelled minor ticks)
    fig.update_yaxes(type="log", title_text="pairs (log scale)", range=[np.log10(0.5), np.log10(top) * 1.08 + 0.1],
                     dtick=1)
    fig.update_layout(barmode="stack", bargap=0.05, height=340, margin={"t": 30, "b": 10},
                      legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right",
                                                             "traceorder": "normal"})
    return fig


def pair_caption(pair: dict) -> str:
    """A judged pair in words: its distance, the verdict, how the second differs from the first, and the
    criterion that turned it down (a copy: the one nearest its line). Paths are the user's: plain text."""
    words = copies.CRITERIA.get(pair["binding"], pair["binding"])
    verdict = f"a copy (closest to the line on {pair['binding']})" if pair["copy"] else f"not a copy: {words}"
    names = " · ".join(md(p.rsplit("/", 1)[-1]) for p in (pair["path_a"], pair["path_b"]))
    return f"**{distance_text(pair['line_distance'], pair['copy'])}**, {verdict}  \n{md(pair['how'])}  \n{names}"


def distance_text(distance: float, copy: bool) -> str:
    """The line distance to two decimals, never shown as 1.00 for a pair just past the line."""
    if copy or round(distance, 2) > 1:
        return f"{distance:.2f}"
    return f"{distance:.3f}" if round(distance, 3) > 1 else "just over 1"


SPLIT_COLOURS = {"train": "#1f77b4", "val": "#ff7f0e", "test": "#2ca02c", "other": "#9467bd"}


def class_counts_bar(counts: pd.DataFrame, horizontal: bool = False) -> go.Figure:
    """Images per class (rows) and split (columns) as grouped bars, splits in leak order (train, val,
    test), each split its own colour on every page. Class and split names are the user's: shown as text."""
    order = [s for s in SPLIT_COLOURS if s in counts.columns] + [s for s in counts.columns if s not in SPLIT_COLOURS]
    long = counts[order].rename_axis("class").reset_index().melt(id_vars="class", var_name="split",
                                                                 value_name="images")
    long["class"] = long["class"].map(lambda c: html(c) if c != "" else "(unlabelled)")
    long["split"] = long["split"].map(html)
    order = [html(s) for s in order]
    axes = {"x": "images", "y": "class"} if horizontal else {"x": "class", "y": "images"}
    height = min(900, 120 + 14 * len(counts) * len(order)) if horizontal else 360
    fig = px.bar(long, **axes, color="split", barmode="group", orientation="h" if horizontal else "v",
                 category_orders={"split": order}, color_discrete_map=SPLIT_COLOURS, height=height)
    if horizontal:
        fig.update_yaxes(autorange="reversed", type="category")
    else:
        fig.update_xaxes(type="category")
    fig.update_layout(margin={"t": 40, "b": 10}, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                                                         "title_text": ""})
    return fig


def distribution_bar(dist: pd.DataFrame, column: str) -> go.Figure:
    """A histogram table (ui.tables.size_distribution) as bars, one per bin, in bin order."""
    if column == "mode":
        return px.bar(dist, x="mode", y="count", labels={"count": "images"}, height=320)
    fig = px.bar(dist, x="bin", y="count", labels={"bin": column, "count": "images"}, height=320)
    fig.update_xaxes(type="category")
    return fig
