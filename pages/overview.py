"""Overview: what is in the dataset, the recipe's data checklist, and a first look at the images."""

import pandas as pd
import streamlit as st

from ui import charts, checklist, frame, pages, state, tables, widgets
from ui.plain import md

frame.enter()
ds = widgets.need_dataset()
rows, found, summary = state.overview_rows(ds), state.findings(ds), state.summary(ds)
scan = summary.get("scan", {})
st.title(pages.PAGE["overview"].title)
st.caption(f"{md(ds.root)} · {scan.get('files', len(rows)):,} files")
cols = st.columns(5)
cols[0].metric("Files", f"{scan.get('files', len(rows)):,}")
cols[1].metric("Images that decode", f"{scan.get('decoded_ok', 0):,}")
cols[2].metric("Images that fail", f"{scan.get('failed', 0):,}")
cols[3].metric("Files with a finding", f"{found['path'].nunique():,}")
cols[4].metric("Classes", f"{len(summary.get('classes', [])):,}")
widgets.listing_warnings(summary)

st.subheader("Recipe checklist: the data steps")
for item in checklist.checklist(summary):
    # plain characters every font has (no emoji font in every browser, and Material icons come from a font
    # server outside the machine), coloured so the eye finds what to look at
    icon = ":green[**✓**]" if item["ok"] else ":orange[**!**]"
    c1, c2 = st.columns([4, 1])
    c1.markdown(f"{icon} **{item['step']}** — {md(item['verdict'])}")
    target = "browse" if "browse_issue" in item["query"] else item["page"]  # the matching filtered view
    c2.page_link(pages.PAGE[target].file, label="Open →", query_params=item["query"])

left, right = st.columns(2)
with left:
    st.subheader("Images per split and class")
    counts = pd.DataFrame(summary.get("class_counts", {})).fillna(0).astype(int)
    if len(counts):
        st.plotly_chart(charts.class_counts_bar(counts, horizontal=True), width="stretch", key="overview_counts")
with right:
    st.subheader("Findings per issue")
    issue_counts = pd.Series(summary.get("issue_counts", {}), name="files")
    issue_counts = issue_counts[issue_counts > 0]
    if len(issue_counts):
        st.dataframe(tables.issue_table(issue_counts, checklist.ISSUE_PAGES), hide_index=True,
                     width="stretch", height=38 + 35 * len(issue_counts))
        with st.expander("Open the files of an issue"):
            for issue, n in issue_counts.items():
                st.page_link(pages.PAGE["browse"].file, label=f"{tables.issue_name(issue)}: {n:,} files",
                             query_params={"browse_issue": [issue]})
    else:
        st.success("No findings.")
    st.caption(widgets.SCORE_LEGEND)

st.subheader("Look at the data first")
st.caption("Random decodable images per class. Spend time here: what do the classes really look like?")
if st.button("Draw again"):
    st.session_state["overview_seed"] = st.session_state.get("overview_seed", 0) + 1
per_class = widgets.random_per_class(rows, n=8, seed=st.session_state.get("overview_seed", 0))
for label, group in per_class.groupby("label", sort=True):
    st.markdown(f"**{md(label) if label else '(unlabelled)'}**")
    widgets.image_grid(ds, group, columns=8)
