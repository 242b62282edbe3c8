"""Files: the samples table itself, filtered by split, class and text in the path."""

import streamlit as st

from ui import state

ds = state.current()
st.title("Files")
if ds is None:
    st.info("Pick a dataset in the sidebar.")
    st.stop()
samples = state.samples(ds)
c1, c2, c3 = st.columns([1, 1, 2])
splits = c1.multiselect("Split", sorted(samples["split"].unique()), key="files_split")
labels = c2.multiselect("Class", sorted(samples["label"].unique()), key="files_label")
text = c3.text_input("Path contains", key="files_text")
view = samples
if splits:
    view = view[view["split"].isin(splits)]
if labels:
    view = view[view["label"].isin(labels)]
if text:
    view = view[view["path"].str.contains(text, regex=False)]
st.caption(f"{len(view):,} of {len(samples):,} files")
columns = [c for c in view.columns if c != "appearance"]
st.dataframe(view[columns], width="stretch", hide_index=True, height=600)
