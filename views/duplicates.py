"""Duplicates: copies side by side, the copies that leak across splits, copies that disagree on labels."""

import streamlit as st

from ui import state, tables, widgets

ds = widgets.need_dataset()
samples, found, summary = state.samples(ds), state.findings(ds), state.summary(ds)
st.title("Duplicates and leaks")
groups = tables.duplicate_groups(samples, found)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Duplicate groups", f"{len(groups):,}")
c2.metric("Groups with conflicting labels", f"{int(groups['conflicting'].sum()):,}")
c3.metric("Groups leaking across splits", f"{int(groups['leaks'].sum()):,}")
c4.metric("Files in a group", f"{int(groups['files'].sum()):,}")

st.subheader("Leak matrix")
st.caption("Duplicate groups with members in both splits (the diagonal: groups inside one split). A copy of a "
           "training image in validation or test makes those scores optimistic.")
matrix = tables.leak_matrix_frame(summary)
if len(matrix):
    st.dataframe(matrix, width="stretch")
else:
    st.success("No duplicates, so nothing leaks.")

st.subheader("Groups")
st.caption("Conflicting-label groups first, then leaking ones. Pick a group to see its members side by side. "
           f"{widgets.SCORE_LEGEND}")
only = st.radio("Show", ["all", "conflicting labels", "leaks", "exact", "near"], horizontal=True, key="dup_only")
view = groups
if only == "conflicting labels":
    view = groups[groups["conflicting"]]
elif only == "leaks":
    view = groups[groups["leaks"]]
elif only in ("exact", "near"):
    view = groups[groups["kind"] == only]
event = st.dataframe(view, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                     key="dup_groups", height=300)
rows = event["selection"]["rows"] if event else []
group = view.iloc[rows[0]]["group"] if rows else (view.iloc[0]["group"] if len(view) else None)
if group:
    members = found[(found["group"] == group) & found["issue"].isin(["exact_duplicate", "near_duplicate"])]
    detail = members.set_index("path")["detail"].to_dict()
    rows = samples[samples["path"].isin(members["path"])]
    st.markdown(f"**Group {group}** — {len(rows)} files")
    widgets.image_grid(ds, rows, columns=6, select_key="dup_sel",
                       caption=lambda r: f"{r['split'] or '—'} / {r['label'] or '—'} · {r['path']} · "
                                         f"{detail.get(r['path'], '')}")
    labels = sorted(x for x in samples["label"].dropna().unique() if x)
    selected = [p for p in rows["path"] if st.session_state.get(f"dup_sel::{p}")]
    widgets.mark_bar(ds, selected, "dup_sel", labels)
