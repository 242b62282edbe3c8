"""Sizes: width/height/aspect/megapixels/bytes/mode distributions, a width x height density whose
selected cells filter the gallery, odd sizes, and a downsampling preview."""

import numpy as np
import plotly.express as px
import streamlit as st

from ui import charts, frame, images, pages, state, tables, widgets
from ui.plain import md

frame.enter()
ds = widgets.need_dataset()
samples, found = state.samples(ds), state.findings(ds)
st.title(pages.PAGE["sizes"].title)
summary = state.summary(ds).get("sizes", {})
if summary:
    c1, c2, c3 = st.columns(3)
    c1.metric("Median size", f"{summary['median_width']:.0f}×{summary['median_height']:.0f}")
    c2.metric("Distinct sizes", f"{summary['distinct_sizes']:,}")
    c3.metric("Most common", f"{summary['most_common_size'].replace('x', '×')} ({summary['most_common_share']:.0%})")

column = st.radio("Distribution of", ["width", "height", "aspect", "megapixels", "bytes", "mode"], horizontal=True,
                  key="sizes_column")
st.plotly_chart(charts.distribution_bar(state.size_distribution(ds, column), column), width="stretch",
                key="sizes_dist")

st.subheader("Width × height")
st.caption("Each dot is a cell of sizes (log bins), its size the number of images. Select dots (box or lasso) to "
           "show those images below.")
grid = state.size_grid(ds).copy()
grid["w"] = np.sqrt(grid["w_left"] * grid["w_right"])
grid["h"] = np.sqrt(grid["h_left"] * grid["h_right"])
fig = px.scatter(grid, x="w", y="h", size="count", log_x=True, log_y=True, hover_data=["count"],
                 labels={"w": "width (px)", "h": "height (px)"})
fig.update_layout(dragmode="select")  # a drag selects cells (what the plot is for), not pans
event = st.plotly_chart(fig, on_select="rerun", selection_mode=("box", "lasso", "points"), key="sizes_grid",
                        width="stretch")
points = event["selection"]["points"] if event else []
if points:
    cells = grid.iloc[[p["point_index"] for p in points]]
    w, h = samples["width"].astype(float), samples["height"].astype(float)
    inside = np.zeros(len(samples), dtype=bool)
    for cell in cells.itertuples():
        inside |= ((w >= cell.w_left) & (w < cell.w_right) & (h >= cell.h_left) & (h < cell.h_right)).to_numpy()
    chosen = samples[inside & samples["ok"].to_numpy()]
    st.markdown(f"**{len(chosen):,} images in the selected cells**")
    widgets.gallery(ds, chosen, key="sizes_sel_gallery")

st.subheader("Odd sizes and aspect ratios")
odd = found[found["issue"].isin(["odd_size", "odd_aspect_ratio"])]
st.dataframe(tables.readable(odd[["path", "issue", "score", "detail"]]), hide_index=True, width="stretch")
if len(odd):
    widgets.image_grid(ds, samples[samples["path"].isin(odd["path"])].head(16), columns=8)

st.subheader("Downsampling preview")
st.caption("The same images squeezed to 224, 128, 64 and 32 px (longest side), all drawn at one size: how much "
           "resolution does the task need? If you cannot tell the classes apart at 32 px, neither will a network "
           "fed 32 px. Images already smaller than a size are shown as stored, never blown up.")
ok = np.flatnonzero(samples["ok"].astype(bool).to_numpy())
if len(ok):
    seed = st.columns([1, 3])[0].number_input("Sample draw (another number, other images)", 0, 10_000, 0,
                                              key="sizes_seed")
    drawn = np.random.default_rng(int(seed)).choice(ok, min(4, len(ok)), replace=False)
    for _, row in samples.iloc[np.sort(drawn)].iterrows():
        view = widgets.full_view(ds, row["path"], 448)
        if view.image is None:
            st.caption(f"{md(row['path'])}: {md(view.error)}")
            continue
        if view.note:
            st.caption(f"{md(row['path'])}: {view.note}")
        versions = images.downsampled(view.image)
        cols = st.columns(4)
        for col, (what, shown) in zip(cols, versions, strict=False):
            col.image(shown, caption=f"{what} · {md(row['label'] or '—')}", width=shown.width)
