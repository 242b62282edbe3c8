"""Quality & outliers: dark, light, blurry, near-blank, odd-mode and outlier images, sorted by score,
with strips of images on both sides of each threshold."""

import streamlit as st

from ui import state, tables, widgets

ISSUES = ["dark", "light", "blurry", "low_information", "odd_mode", "outlier"]
SIGNAL = {"dark": ("lum_p99", False), "light": ("lum_p01", True), "blurry": ("sharpness", False),
          "low_information": ("contrast", False)}

ds = widgets.need_dataset()
samples, found = state.samples(ds), state.findings(ds)
st.title("Quality and outliers")
st.caption(widgets.SCORE_LEGEND)
cols = st.columns(len(ISSUES))
for col, issue in zip(cols, ISSUES, strict=True):
    col.metric(issue.replace("_", " "), f"{int((found['issue'] == issue).sum()):,}")
issue = st.radio("Issue", ISSUES, horizontal=True, key="quality_issue", format_func=lambda i: i.replace("_", " "))
rows = found[found["issue"] == issue].sort_values("score", ascending=False)
flagged = samples.set_index("path").loc[rows["path"]].reset_index() if len(rows) else samples.head(0)
detail = rows.set_index("path")["detail"].to_dict()
st.subheader(f"{len(rows):,} {issue.replace('_', ' ')} images, most suspicious first")
if len(rows):
    widgets.gallery(ds, flagged, key=f"quality_{issue}", caption=lambda r: detail.get(r["path"], ""))
if issue in SIGNAL:
    column, high_is_bad = SIGNAL[issue]
    st.subheader("Around the threshold")
    st.caption(f"Images ranked by `{column}`: the last ones flagged, then the first ones not flagged. "
               "Would you draw the line in the same place?")
    ok = samples[samples["ok"]].dropna(subset=[column])
    ranked = tables.sort_table(ok, column, descending=high_is_bad)
    is_flagged = ranked["path"].isin(rows["path"])
    cut = int(is_flagged.to_numpy().nonzero()[0].max()) + 1 if is_flagged.any() else 0
    left, right = ranked.iloc[max(0, cut - 6):cut], ranked.iloc[cut:cut + 6]
    st.markdown("**Flagged, nearest the line**")
    widgets.image_grid(ds, left, columns=6, caption=lambda r: f"{column} {r[column]:.3g}")
    st.markdown("**Not flagged, nearest the line**")
    widgets.image_grid(ds, right, columns=6, caption=lambda r: f"{column} {r[column]:.3g}")
