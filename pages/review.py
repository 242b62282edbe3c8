"""Review and export: the marks made on any gallery, and the files to act on them."""

import shlex

import streamlit as st

from inspectors import review
from inspectors.sheets import manifest_text, sheet_text
from inspectors.workspace import atomic_write_text
from ui import frame, pages, state, tables, widgets
from ui.plain import md

frame.enter()
ds = widgets.need_dataset()
samples, found = state.samples(ds), state.findings(ds)
marks = state.marks(ds)
st.title(pages.PAGE["review"].title)
st.caption(f"Marks live in {md(ds.workspace / review.REVIEW_FILE)}, never in the dataset, and survive reloads.")
c1, c2, c3 = st.columns(3)
for col, decision in zip((c1, c2, c3), review.DECISIONS, strict=True):
    col.metric(decision, f"{int((marks['decision'] == decision).sum()):,}")

st.subheader("Marks")
widgets.undo_button(ds, "review_undo")
if marks.empty:
    st.info("No marks yet: tick images on any gallery (Browse, Duplicates, Quality, Sizes) and apply a decision.")
else:
    shown = marks.merge(state.derived(ds, "with_issues")[["path", "label", "split", "issues"]], on="path",
                        how="left")
    event = st.dataframe(tables.readable(shown[["path", "decision", "new_label", "label", "split", "issues"]]),
                         hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                         key="review_marks")
    picked = [shown.iloc[i]["path"] for i in (event["selection"]["rows"] if event else [])]
    if picked and st.button(f"Clear {len(picked)} selected mark(s)"):
        for path in picked:
            review.clear_mark(ds.workspace, path)
        st.rerun()
    st.download_button("Download marks (CSV)", lambda: sheet_text(shown),
                       file_name="review_marks.csv", mime="text/csv", on_click="ignore")

st.subheader("Cleaned manifest")
manifest = tables.cleaned_manifest(samples, marks)
removed = int((marks["decision"] == "remove").sum())
relabelled = int((marks["decision"] == "relabel").sum())
st.caption(f"{len(manifest):,} decodable, labelled images; {removed:,} removed and {relabelled:,} relabelled by "
           "your marks. Paths are ./relative to the dataset folder; the CLI and the trainer take it with "
           "`--labels`." + ("" if state.marks_writable(ds) else " The marks cannot be read (the review store is "
                                                                 "damaged, see the note at the top): none is applied."))
st.dataframe(manifest.head(200), hide_index=True, width="stretch")
if len(manifest) > 200:
    st.caption(f"The first 200 of {len(manifest):,} rows; the download has them all.")
left, right = st.columns(2)
# the CSV is built when asked for: at 100k rows, building it on every rerun costs a second. A manifest is for
# the tools (--labels): written exactly, never quoted for spreadsheets
left.download_button("Download cleaned manifest (CSV)", lambda: manifest_text(manifest),
                     file_name="cleaned_manifest.csv", mime="text/csv", on_click="ignore")
if right.button("Save it in the workspace"):
    target = ds.workspace / "cleaned_manifest.csv"
    atomic_write_text(target, manifest_text(manifest))
    st.success("Saved in the workspace. Use it with:")
    st.code(shlex.join(["python", "-m", "inspectors", "scan", str(ds.root), "--labels", str(target)]), language=None)
