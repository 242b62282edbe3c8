"""Duplicates: copies side by side, the copies that leak across splits, copies that disagree on labels,
and where the line between near copies and look-alikes falls."""

import time

import streamlit as st

from inspectors import bulk
from inspectors import pair_distances as P
from ui import charts, frame, links, pages, state, tables, widgets
from ui.plain import md

ALIGNED_MAX = 8  # copies of a group drawn aligned on its representative

frame.enter()
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
    leaking = int(found["issue"].eq("split_leak").sum())
    if leaking:
        st.page_link(pages.PAGE["browse"].file, label=f"Open the {leaking:,} files that leak (a copy in an earlier "
                     "split) →", query_params={"browse_issue": ["split_leak"]})
else:
    st.success("No duplicates, so nothing leaks.")

st.subheader("Groups")
st.caption("Exact copies have the same pixels. Near copies are the same picture re-encoded, resized, shifted, "
           "cropped or zoomed, recoloured or mirrored: found by perceptual hash or by content, and confirmed on "
           "small grey thumbnails once aligned. Each copy says how it differs from its group's representative. "
           "Conflicting-label groups come first, then leaking ones. Pick a group to see its members side by side.")
SHOW = ["all", "conflicting labels", "leaks", "exact", "near"]
links.keep_valid("dup_only", SHOW)
only = st.radio("Show", SHOW, horizontal=True, key="dup_only")
view = tables.filter_groups(groups, only)
event = st.dataframe(view, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                     key="dup_groups", height=300,
                     column_config={"conflicting": st.column_config.CheckboxColumn("conflicting labels"),
                                    "leaks": st.column_config.CheckboxColumn("leaks across splits")})
if len(view) and state.marks_writable(ds):
    with st.expander(f"Keep one file of each of these {len(view):,} groups, remove the rest"):
        prefer = st.radio("Keep", list(bulk.PREFER), horizontal=True, key="dup_prefer",
                          captions=list(bulk.PREFER.values()))
        plan = bulk.keep_one_per_group(samples, found, prefer, groups=view["group"])
        st.caption(f"{(plan['decision'] == 'keep').sum():,} kept, {(plan['decision'] == 'remove').sum():,} "
                   "removed; marks you set on them before are replaced, and Undo puts them back.")
        if st.button("Mark them", key="dup_keep_one", type="primary"):
            widgets.apply_bulk(ds, list(zip(plan["path"], plan["decision"], [None] * len(plan), strict=True)),
                               f"keep one per group ({prefer}), {only} groups")
widgets.undo_button(ds, "dup_undo")
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
    if result.reason:
        st.info(result.reason)
        return
    c = result.config
    st.caption("Every pair of distinct pictures the near-copy search compared (found by content or by perceptual "
               "hash), by how far it is from being called a copy. **1 is the line.** Below it the two agree once "
               f"aligned (overall layout ≥ {c.min_layout:g}, fine detail ≥ {c.min_detail:g}, or ≥ "
               f"{c.min_detail_alone:g} for a pair no look-alike comes near, no part differing "
               "much more than the rest) and stand out from their look-alikes in the dataset: they agree far "
               "better than either agrees with its other near matches. The number is the criterion farthest "
               "past its limit, as a multiple of that limit: 2 is twice as far off as a copy may be. These are "
               "the very verdicts that build the groups above. Exact copies count once.")
    if result.pairs.empty:
        st.info(f"The search found no candidate pairs among the {result.pictures:,} distinct pictures.")
        return
    st.plotly_chart(charts.pair_histogram(result), width="stretch", key="dup_pair_hist")
    c1, c2 = st.columns(2)
    c1.markdown("**Just inside the line**: the copies nearest to being turned down")
    c2.markdown("**Just outside**: the pairs turned down nearest to being copies, and why")
    with c1:
        widgets.pair_grid(ds, P.just_inside(result, 4), charts.pair_caption, columns=2)
    with c2:
        widgets.pair_grid(ds, P.just_outside(result, 4), charts.pair_caption, columns=2)
    st.markdown(
        "**Moving the line**: scan again with `inspectors scan DATASET --set ...` (the app's Scan button "
        "keeps the last scan's settings). "
        f"`--set duplicates.crowd_ratio=0.4` lets copies stand out less from their look-alikes (now "
        f"{c.crowd_ratio:g}: a copy disagrees at most {c.crowd_ratio:g}× as much as a look-alike does); "
        f"`--set duplicates.min_detail=0.8` accepts copies whose fine detail agrees less (now {c.min_detail:g}; "
        f"{c.min_detail_alone:g} where the pair stands out from its look-alikes {c.alone_crowd_ratio:g}× as far: "
        "`duplicates.min_detail_alone`); "
        "`--set duplicates.mirrored=false` stops mirror images counting as copies (digits, text"
        + ("" if c.mirrored else "; off now") + ").")


FAILED = ("Measuring the distances of near pairs failed ({reason}). The groups above come from the scan and are "
          "not affected; scan again to measure them with it.")


def distances(wait_s: float):
    """The pair distances, None while they are measured, or the reason measuring them failed (a str)."""
    try:
        return state.pair_distances(ds, wait_s=wait_s)
    except Exception as exc:  # the background process died or raised: said in place, the page goes on
        return f"{type(exc).__name__}: {exc}"


def draw(result, placeholder) -> None:
    if isinstance(result, str):
        placeholder.error(FAILED.format(reason=md(result)))
    else:
        with placeholder.container():
            pair_section(result)


def pair_section_when_ready(placeholder) -> None:
    # measured in the background (slow on a big dataset): waited for at the very end of the run (frame.later),
    # saying how long so far. Each message sent is where Streamlit takes a click: it reruns the page the normal
    # way, click kept, where a polling fragment's own rerun of the page could swallow it
    started, result = time.monotonic(), None
    while result is None:
        placeholder.info(f"Measuring the distances of near pairs in the background "
                         f"({time.monotonic() - started:.0f} s so far); they appear here when ready.")
        result = distances(wait_s=1.0)
    draw(result, placeholder)


placeholder = st.empty()
result = distances(wait_s=1.0)
if result is None:
    frame.later(lambda: pair_section_when_ready(placeholder))
else:
    draw(result, placeholder)
