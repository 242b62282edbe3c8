"""Plotly figures and captions for the pages, built from the tables inspectors/ and ui/tables compute.
No Streamlit here: a figure in, a page draws it."""

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui.plain import html, md

CONFIRMED, NOT_CONFIRMED, ESTIMATED = "near copies (confirmed)", "not copies", "not copies (estimated from a sample)"


def pair_histogram(result) -> go.Figure:
    """Pairs per pHash Hamming distance (one bar per integer), confirmed copies stacked on the rest, with
    the threshold line between `radius` and `radius + 1`; log counts, since pairs grow fast with distance."""
    hist = result.histogram
    estimated = hist["estimated"].to_numpy()
    wide = pd.DataFrame({"hamming": hist["hamming"], CONFIRMED: hist["confirmed"],
                         NOT_CONFIRMED: hist["not_confirmed"].where(~estimated, 0),
                         ESTIMATED: hist["not_confirmed"].where(estimated, 0)})
    verdicts = [CONFIRMED, NOT_CONFIRMED] + ([ESTIMATED] if estimated.any() else [])
    long = wide.melt(id_vars="hamming", value_vars=verdicts, var_name="verdict", value_name="pairs")
    fig = px.bar(long[long["pairs"] > 0], x="hamming", y="pairs", color="verdict", log_y=True, height=340,
                 category_orders={"verdict": verdicts},
                 color_discrete_map={CONFIRMED: "#d62728", NOT_CONFIRMED: "#9aa5b1", ESTIMATED: "#c9d1d9"},
                 labels={"hamming": "pHash distance (bits)", "pairs": "pairs (log scale)", "verdict": ""})
    fig.add_vline(x=result.radius + 0.5, line_dash="dash", line_color="#333",
                  annotation_text=f"threshold: ≤ {result.radius} bits", annotation_position="top left")
    fig.update_xaxes(tickmode="linear", dtick=1, range=[-0.5, result.searched_radius + 0.5])
    top = max(1, int((hist["confirmed"] + hist["not_confirmed"]).max()))
    # from below 1, so a single pair shows; ticks at powers of ten only (no unlabelled minor ticks)
    fig.update_yaxes(range=[np.log10(0.5), np.log10(top) * 1.08 + 0.1], dtick=1)
    fig.update_layout(margin={"t": 30, "b": 10}, legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"})
    return fig


def pair_caption(pair: dict) -> str:
    verdict = "a copy" if pair["confirmed"] else ("look-alike" if pair["within_radius"] else "beyond the line")
    names = " · ".join(md(p.rsplit("/", 1)[-1]) for p in (pair["path_a"], pair["path_b"]))
    return f"**{pair['hamming']} bits**, appearance {pair['appearance']:.3f}: {verdict}  \n{names}"


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
