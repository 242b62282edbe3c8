"""Overview: what is in the dataset, what failed to read, and a first look at the images."""

import pandas as pd
import streamlit as st

from inspectors import report
from ui import state, widgets

ds = state.current()
st.title("Overview")
if ds is None:
    st.info("Pick a dataset in the sidebar.")
    st.stop()
samples = state.samples(ds)
facts = report.scan_facts(samples, 0, 0, 0, 0)
cols = st.columns(5)
cols[0].metric("Files", f"{facts['files']:,}")
cols[1].metric("Images that decode", f"{facts['decoded_ok']:,}")
cols[2].metric("Images that fail", f"{facts['failed']:,}")
cols[3].metric("Unsupported files", f"{facts['unsupported']:,}")
cols[4].metric("Missing / orphan", f"{facts['missing']:,} / {facts['orphans']:,}")

st.subheader("Images per split and class")
counts = pd.DataFrame(facts["class_counts"]).fillna(0).astype(int)
left, right = st.columns([2, 1])
left.bar_chart(counts, stack=False, horizontal=True)
right.dataframe(counts, width="stretch")

st.subheader("Look at the data first")
st.caption("Random decodable images per class (a new draw each time you press the button).")
if st.button("Draw again"):
    st.session_state["overview_seed"] = st.session_state.get("overview_seed", 0) + 1
per_class = widgets.random_per_class(samples, n=8, seed=st.session_state.get("overview_seed", 0))
for label, group in per_class.groupby("label", sort=True):
    st.markdown(f"**{label or '(unlabelled)'}**")
    widgets.image_grid(ds, group, columns=8)

problems = report.problem_rows(samples)
st.subheader(f"Files with a problem ({len(problems):,})")
st.dataframe(problems[["path", "label", "split", "entry", "error"]], width="stretch", hide_index=True)
