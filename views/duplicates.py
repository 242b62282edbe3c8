"""Duplicates: copies side by side, the copies that leak across splits, copies that disagree on labels,
and the pair distances around the near-duplicate threshold."""

import streamlit as st

from inspectors import pair_distances as P
from ui import charts, pages, state, tables, widgets
from ui.plain import md

ALIGNED_MAX = 8  # copies of a group drawn aligned on its representative

ds = widgets.need_dataset()
samples, found, summary = state.samples(ds), state.findings(ds), state.summary(ds)
st.title(pages.PAGE["duplicates"].title)
groups = state.derived(ds, "duplicate_groups")
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
    st.dataframe(matrix, width="content")
else:
    st.success("No duplicates, so nothing leaks.")

st.subheader("Groups")
st.caption("Exact copies have the same pixels. Near copies are the same picture re-encoded, resized, shifted, "
           "cropped or zoomed, recoloured or mirrored: found by perceptual hash or by content, and confirmed on "
           "small grey thumbnails once aligned. Each copy says how it differs from its group's representative. "
           "Conflicting-label groups come first, then leaking ones. Pick a group to see its members side by side.")
only = st.radio("Show", ["all", "conflicting labels", "leaks", "exact", "near"], horizontal=True, key="dup_only")
view = tables.filter_groups(groups, only)
event = st.dataframe(view, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                     key="dup_groups", height=300,
                     column_config={"conflicting": st.column_config.CheckboxColumn("conflicting labels"),
                                    "leaks": st.column_config.CheckboxColumn("leaks across splits")})
rows = event["selection"]["rows"] if event else []
group = view.iloc[rows[0]]["group"] if rows else (view.iloc[0]["group"] if len(view) else None)
if group:
    members = found[(found["group"] == group) & found["issue"].isin(["exact_duplicate", "near_duplicate"])]
    detail = members.set_index("path")["detail"].to_dict()
    rows = samples[samples["path"].isin(members["path"])]
    with st.container(key="dup_group_members"):
        st.markdown(f"**Group {md(group)}** — {len(rows)} files")
        widgets.image_grid(ds, rows, columns=4, select_key="dup_sel", side=widgets.COMPARE_PX,
                           full_size=len(rows) <= widgets.COMPARE_FULL_MAX,
                           caption=lambda r: f"{r['split'] or '—'} / {r['label'] or '—'} · {r['path']} · "
                                             f"{detail.get(r['path'], '')}")
    labels = sorted(x for x in samples["label"].dropna().unique() if x)
    selected = [p for p in rows["path"] if st.session_state.get(f"dup_sel::{p}")]
    widgets.mark_bar(ds, selected, "dup_sel", labels)
    near = members[members["issue"] == "near_duplicate"]
    representative = near.loc[near["detail"].str.startswith("representative"), "path"]
    if len(representative) and len(near) > 1:
        with st.expander("Aligned on the representative, and where they differ", expanded=len(near) <= 4):
            widgets.aligned_copies(ds, representative.iloc[0],
                                   [p for p in near["path"] if p != representative.iloc[0]][:ALIGNED_MAX], detail)

st.subheader("Where is the line?")


def pair_section(result) -> None:
    st.caption(f"Every pair of distinct pictures whose perceptual hashes (pHash, 64 bits) differ in at most "
               f"{result.searched_radius} bits, by that distance. Pairs at or left of the line "
               f"(≤ {result.radius} bits) are near copies when their grey thumbnails also agree (mean difference ≤ "
               f"{result.confirm_max_distance:g} std; up to {result.loose_max_distance:g} when a slight crop or resize "
               f"explains the difference and the pair stands apart from the rest of the dataset). Exact copies "
               f"count once. Change the line with "
               f"`--set duplicates.radius=N` on the command line." + (
                   f" Beyond the line, searching all {result.pictures:,} pictures would cost too much: those bars "
                   f"are estimated from the pairs among a random {result.sampled:,} of them."
                   if result.sampled < result.pictures else ""))
    if result.pairs.empty:
        st.info(f"No two of the {result.pictures:,} distinct pictures are within {result.searched_radius} bits.")
        return
    st.plotly_chart(charts.pair_histogram(result), width="stretch", key="dup_pair_hist")
    c1, c2 = st.columns(2)
    c1.markdown("**Just inside the line**: confirmed copies farthest from it")
    c2.markdown(f"**Just outside**: pairs {result.radius + 1}+ bits apart, the nearest")
    with c1:
        widgets.pair_grid(ds, P.just_inside(result, 4), charts.pair_caption, columns=2)
    with c2:
        widgets.pair_grid(ds, P.just_outside(result, 4), charts.pair_caption, columns=2)
    st.markdown("**Inside the radius but turned down**: the grey thumbnails differ, the most alike first")
    widgets.pair_grid(ds, P.rejected_by_appearance(result, 4), charts.pair_caption, columns=4)


@st.fragment(run_every=2)
def pair_section_when_ready() -> None:
    # the distances are measured in the background (slow on a big dataset): look again every 2 s,
    # then rerun the page once, which draws them without this polling
    if state.pair_distances(ds) is not None:
        st.rerun()
    st.info("Measuring the distances of near pairs in the background; they appear here when ready.",
            icon=":material/hourglass_top:")


result = state.pair_distances(ds, wait_s=1.0)
if result is None:
    pair_section_when_ready()
else:
    pair_section(result)
