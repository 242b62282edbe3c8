"""Quality & outliers: dark, light, blurry, near-blank, odd-mode and outlier images, sorted by score,
with strips of images on both sides of each threshold."""

import numpy as np
import streamlit as st

from ui import frame, pages, state, tables, widgets

ISSUES = ["dark", "light", "blurry", "low_information", "odd_mode", "outlier"]
# the statistic each threshold cuts, whether high is bad, and how a person reads it
SIGNAL = {"dark": ("lum_p99", False, "brightness of the brightest 1% of pixels"),
          "light": ("lum_p01", True, "brightness of the darkest 1% of pixels"),
          "blurry": ("sharpness", False, "sharpness (edge energy)"),
          "low_information": ("contrast", False, "contrast (grey standard deviation)")}

frame.enter()
ds = widgets.need_dataset()
samples, found = state.samples(ds), state.findings(ds)
st.title(pages.PAGE["quality"].title)
st.caption(widgets.SCORE_LEGEND)
cols = st.columns(len(ISSUES))
for col, issue in zip(cols, ISSUES, strict=True):
    col.metric(issue.replace("_", " "), f"{int((found['issue'] == issue).sum()):,}")
issue = st.radio("Issue", ISSUES, horizontal=True, key="quality_issue", format_func=lambda i: i.replace("_", " "))
rows = found[found["issue"] == issue].sort_values("score", ascending=False)
flagged = state.rows_of(ds, rows["path"])
detail = rows.set_index("path")["detail"].to_dict()
st.subheader(f"{len(rows):,} {issue.replace('_', ' ')} images, most suspicious first")
if len(rows):
    widgets.gallery(ds, flagged, key=f"quality_{issue}", caption=lambda r: detail.get(r["path"], ""))
if issue in SIGNAL:
    column, high_is_bad, meaning = SIGNAL[issue]
    st.subheader("Around the threshold")
    st.caption(f"Images ranked by {meaning} (`{column}`): the last ones flagged, then the first ones not flagged. "
               "Would you draw the line in the same place?" + (" (Blurry is judged against each image's own "
                                                               "class, so the line is not one number.)"
                                                               if issue == "blurry" else ""))
    table = state.derived(ds, "with_issues")
    order = state.sort_order(ds, column, high_is_bad)  # sorted once per dataset, not per click
    ranked = tables.view_positions(order, (table["ok"].astype(bool) & table[column].notna()).to_numpy(bool))
    flagged_rows = np.zeros(len(table), dtype=bool)
    flagged_rows[state.positions_of(ds, rows["path"])] = True
    is_flagged = flagged_rows[ranked]
    cut = int(is_flagged.nonzero()[0].max()) + 1 if is_flagged.any() else 0
    left, right = table.iloc[ranked[max(0, cut - 6):cut]], table.iloc[ranked[cut:cut + 6]]
    st.markdown("**Flagged, nearest the line**")
    widgets.image_grid(ds, left, columns=6, caption=lambda r: f"{column} {r[column]:.3g}")
    st.markdown("**Not flagged, nearest the line**")
    widgets.image_grid(ds, right, columns=6, caption=lambda r: f"{column} {r[column]:.3g}")
