"""Browse: the whole dataset as a gallery or a table; filter, sort, open a sample, mark it."""

import numpy as np
import streamlit as st

from inspectors import bulk, review
from inspectors.sheets import sheet_text
from ui import frame, links, pages, state, tables, widgets

VIEWS = ["Gallery", "Table"]

frame.enter()
ds = widgets.need_dataset()
samples, found = state.samples(ds), state.findings(ds)
table = state.derived(ds, "with_issues")
st.title(pages.PAGE["browse"].title)

splits, labels, issues = (sorted(table["split"].unique()), sorted(table["label"].unique()),
                          sorted(found["issue"].unique()))
internal = st.session_state.get("browse_internal", False)
scores = ["worst_score"] + [c for c in table.columns if c.startswith(tables.SCORE_PREFIX)]
sortable = scores + [c for c in table.columns if c not in tables.HIDDEN_COLUMNS and c not in scores
                     and (internal or c not in tables.INTERNAL_COLUMNS)]
for key, options in (("browse_split", splits), ("browse_label", labels), ("browse_issue", issues),
                     ("browse_sort", sortable), ("browse_view", VIEWS)):
    links.keep_valid(key, options)  # a link's values that this dataset does not have are dropped
with st.expander("Filters", expanded=True):
    c1, c2, c3, c4 = st.columns(4)
    spec = tables.Filter(
        splits=c1.multiselect("Split", splits, key="browse_split"),
        labels=c2.multiselect("Class", labels, key="browse_label"),
        issues=c3.multiselect("Issue", issues, key="browse_issue", format_func=tables.issue_name),
        text=c4.text_input("Path contains", key="browse_text"))
    numeric = st.selectbox("Range on", ["—"] + tables.NUMERIC_FILTERS, key="browse_range_col")
    if numeric != "—":
        values = table[numeric].dropna().astype(float)
        if len(values) and values.min() < values.max():
            low, high = st.slider(numeric, float(values.min()), float(values.max()),
                                  (float(values.min()), float(values.max())), key=f"browse_range_{numeric}")
            spec.ranges[numeric] = (low, high)
c1, c2, c3 = st.columns([2, 1, 1])
sort_by = c1.selectbox("Sort by", sortable, index=sortable.index("worst_score"), key="browse_sort",
                       format_func=tables.column_label,
                       help="Each issue's score is a column: sort by it to see the most suspicious first.")
descending = c2.toggle("Descending", value=True, key="browse_desc")
view_as = c3.radio("View", VIEWS, horizontal=True, key="browse_view")
c3.toggle("Internal columns", key="browse_internal", help="Hashes, listing flags, luminance percentiles, colour "
          "means: the scan's bookkeeping, hidden from the table and the sort until asked for.")
# positions, not a frame: the sort is cached per column, the filter is a mask, and only the rows shown are taken
view = tables.view_positions(state.sort_order(ds, sort_by, descending), tables.filter_mask(table, spec))
st.caption(f"{len(view):,} of {len(table):,} files match")
if 0 < len(view) < len(table) and state.marks_writable(ds):  # a filtered view, not the whole dataset
    with st.expander(f"Mark all {len(view):,} files of this view"):
        c1, c2, c3 = st.columns([2, 2, 1])
        decision = c1.radio("As", review.DECISIONS, horizontal=True, key="browse_bulk_decision")
        new_label = c2.selectbox("New label", labels, key="browse_bulk_label") if decision == "relabel" else None
        if c3.button("Mark them", key="browse_bulk_apply", type="primary"):
            paths = table["path"].to_numpy(object)[view]
            refused = set(bulk.relabel_refused(state.rows_of(ds, paths), paths, new_label)) if new_label else set()
            widgets.apply_bulk(ds, [(p, decision, new_label) for p in paths if p not in refused],
                               f"{decision}{' as ' + new_label if new_label else ''}, {len(paths) - len(refused):,} "
                               "files of a Browse view")
widgets.undo_button(ds, "browse_undo")

if view_as == "Gallery":
    shown_value = sort_by not in ("path", "label", "split", "issues")  # the caption shows the sorted value

    def caption(r):
        value = r[sort_by]
        if not shown_value or value != value:  # not a value to show, or blank (NaN)
            value = ""
        else:
            name = "score" if sort_by == "worst_score" else sort_by.removeprefix(tables.SCORE_PREFIX)
            value = f" · {name} " + (f"{value:.3g}" if isinstance(value, float | np.floating) else str(value))
        return (f"{r['path'].rsplit('/', 1)[-1]} · {r['split'] or '—'} / {r['label'] or '—'}"
                f" · {tables.issue_name(r['issues'] or 'ok')}{value}")
    widgets.gallery(ds, table, key="browse", positions=view, caption=caption)
else:
    number = widgets.pager(len(view), 200, "browse_table_page")
    shown = tables.page(table, number, 200, view)
    columns = [c for c in shown.columns if c not in tables.HIDDEN_COLUMNS
               and (internal or c not in tables.INTERNAL_COLUMNS)]
    event = st.dataframe(tables.readable(shown[columns]).rename(columns=tables.column_label), hide_index=True,
                         width="stretch", on_select="rerun",
                         selection_mode="single-row", key="browse_table")
    picked = widgets.selected_row_path(event, shown)
    if picked and st.session_state.get("_browse_picked") != picked:  # a newly picked row opens in the dialog
        widgets.open_sample(picked, list(shown["path"]))
    st.session_state["_browse_picked"] = picked
    # built only when clicked: a 100k-row CSV on every rerun would slow every click on the page
    st.download_button("Export this filtered view (CSV)", lambda: sheet_text(table.iloc[view][columns]),
                       file_name="filtered_view.csv", mime="text/csv", on_click="ignore")
