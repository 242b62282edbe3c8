"""Quality & outliers: dark, light, blurry, near-blank, odd-mode and outlier images, sorted by score,
with strips of images on both sides of each threshold."""

import streamlit as st

from ui import state, widgets

ISSUES = ["dark", "light", "blurry", "low_information", "odd_mode", "outlier"]
# the statistic each threshold cuts, whether high is bad, and how a person reads it
SIGNAL = {"dark": ("lum_p99", False, "brightness of the brightest 1% of pixels"),
          "light": ("lum_p01", True, "brightness of the darkest 1% of pixels"),
          "blurry": ("sharpness", False, "sharpness (edge energy)"),
          "low_information": ("contrast", False, "contrast (grey standard deviation)")}

ds = widgets.need_dataset()
samples, found = state.samples(ds), state.findings(ds)
st.title("Quality and outliers")
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
    ranked = state.sorted_with_issues(ds, column, high_is_bad)  # sorted once per dataset, not per click
    ranked = ranked[ranked["ok"].astype(bool) & ranked[column].notna()]
    is_flagged = ranked["path"].isin(rows["path"])
    cut = int(is_flagged.to_numpy().nonzero()[0].max()) + 1 if is_flagged.any() else 0
    left, right = ranked.iloc[max(0, cut - 6):cut], ranked.iloc[cut:cut + 6]
    st.markdown("**Flagged, nearest the line**")
    widgets.image_grid(ds, left, columns=6, caption=lambda r: f"{column} {r[column]:.3g}")
    st.markdown("**Not flagged, nearest the line**")
    widgets.image_grid(ds, right, columns=6, caption=lambda r: f"{column} {r[column]:.3g}")
