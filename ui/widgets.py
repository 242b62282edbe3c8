"""Page widgets over DataFrames: paged thumbnail galleries with review marks, the sample detail view,
filters. Grids show cached thumbnails from the workspace, never full-size files."""

import numpy as np
import pandas as pd
import streamlit as st

from inspectors import bulk, review
from ui import compare, images, links, state, tables
from ui.plain import md

SCORE_LEGEND = "Scores run from 0 to 1, and 1 is the most suspicious (unlike cleanvision/cleanlab, where low is bad)."
READ_ONLY = "Marks are read-only: the review store is damaged (see the note at the top), and nothing writes to it."


def random_per_class(samples: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """n random decodable images per class, in shuffled order: numpy over label codes (a groupby over a
    shuffled label column is slow on a big dataset)."""
    ok = np.flatnonzero(samples["ok"].astype(bool).to_numpy(bool))
    shuffled = ok[np.random.default_rng(seed).permutation(len(ok))]
    codes = pd.factorize(samples["label"])[0][shuffled]  # -1: no label (NaN), left out like groupby does
    by_class = np.argsort(codes, kind="stable")  # each class's rows together, still in shuffled order
    rank = np.arange(len(codes)) - np.searchsorted(codes[by_class], codes[by_class])  # position within its class
    chosen = np.sort(by_class[(rank < n) & (codes[by_class] >= 0)])
    return samples.iloc[shuffled[chosen]]


OPEN_SAMPLE, OPEN_ORDER = "open_sample", "open_order"  # the open sample and its grid's order (ui/opener.py)
THUMB_PX = 120  # every thumbnail fits a THUMB_PX square, so strips and big images keep the grid even
COMPARE_PX = 240  # duplicate groups: big enough to tell a copy from a look-alike
COMPARE_FULL_MAX = 12  # groups up to this size open their files (the thumbnails are only 128 px)


def display_width(row, side: int = THUMB_PX) -> int:
    """Width to show an image at so that neither side exceeds `side` (EXIF turns swap the sides)."""
    w, h = row.get("width"), row.get("height")
    if not w or not h or w != w or h != h:
        return side
    if row.get("exif_orientation") in (5, 6, 7, 8):
        w, h = h, w
    return max(8, round(side * min(1.0, float(w) / float(h))))


def full_view(ds, path: str, side: int = images.DETAIL_PX) -> images.FullView:
    """One file opened at `side` px under the workspace's own pixel limit (its last scan's settings)."""
    return images.open_for_display(ds.root, path, state.config(ds).scan.max_pixel_bytes, side)


def pager(total: int, size: int, key: str) -> int:
    """A page number input; returns the 0-based page."""
    pages = max(1, -(-total // size))
    if pages == 1:
        return 0
    asked = st.session_state.get(key)
    if isinstance(asked, int) and not 1 <= asked <= pages:  # a link's page beyond this view's last: its last
        st.session_state[key] = min(max(1, asked), pages)
    number = st.columns([1, 3])[0].number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, step=1,
                                                key=key)
    return int(number) - 1


def image_grid(ds, rows: pd.DataFrame, columns: int = 8, caption=None, select_key: str | None = None,
               side: int = THUMB_PX, full_size: bool = False, opens: bool = True) -> list:
    """Images in a grid, `side` px at most; with select_key, a checkbox under each; with `opens`, an Open
    button that shows the sample in a dialog. Cached thumbnails, unless full_size (a few files opened at
    `side`, for side-by-side comparison). caption(row) is plain text (paths, labels, details: shown as they
    are). Returns the selected paths."""
    caption = caption or (lambda r: r["path"].rsplit("/", 1)[-1])
    order = list(rows["path"])
    grid = select_key or f"grid{abs(hash(tuple(order))) % 10**8}"  # the Open buttons' keys: unique per grid
    thumbs = {} if full_size else state.thumbnails(ds, rows["path"])
    marks = state.marks(ds).set_index("path")["decision"].to_dict() if select_key else {}
    if select_key and order:
        page_selection(select_key, order)
    selected = []
    for i, (_, row) in enumerate(rows.iterrows()):
        if i % columns == 0:  # a fresh row of columns per line, so rows line up whatever the captions' length
            cells = st.columns(columns)
        with cells[i % columns]:
            view = full_view(ds, row["path"], side) if full_size and row.get("ok", True) else None
            data = view.image if view else thumbs.get(row["path"])
            if data is None:
                st.caption(f"no image ({'does not decode' if not row.get('ok', True) else 'not scanned'})")
            else:
                st.image(data, width=display_width(row, side))
            mark = marks.get(row["path"])
            note = f" · {view.note}" if view and view.note else ""  # a 12-bit file shown stretched
            st.caption(md(caption(row)) + (f" · **{mark}**" if mark else "") + note)
            below = st.columns(2) if select_key and opens else [st.container()] * 2
            if select_key and below[0].checkbox("select", key=f"{select_key}::{row['path']}",
                                                label_visibility="collapsed"):
                selected.append(row["path"])
            if opens:
                below[1].button("Open", key=f"{grid}::open::{row['path']}", type="tertiary", on_click=open_sample,
                                args=(row["path"], order), help="Full size, findings, copies and marks (← → move)")
    return selected


def selection_ticks(select_key: str, paths: list, value: bool) -> dict:
    """The checkbox states that tick (or clear) every one of `paths` in the grid `select_key`."""
    return {f"{select_key}::{path}": value for path in paths}


def _tick(select_key: str, paths: list, value: bool) -> None:
    st.session_state.update(selection_ticks(select_key, paths, value))  # a callback: before the boxes are drawn


def page_selection(select_key: str, paths: list) -> None:
    """Select every image this grid shows (a gallery page, a duplicate group) at once, or none; then the
    mark bar under the grid applies one decision to them all."""
    ticked = sum(bool(st.session_state.get(f"{select_key}::{p}")) for p in paths)
    left, right, _ = st.columns([1, 1, 3])
    left.button(f"Select all {len(paths):,} shown", key=f"{select_key}_all", type="tertiary", on_click=_tick,
                args=(select_key, list(paths), True), disabled=ticked == len(paths),
                help="Tick every image shown here, then mark them below.")
    right.button("Clear selection", key=f"{select_key}_none", type="tertiary", on_click=_tick,
                 args=(select_key, list(paths), False), disabled=not ticked)


def open_sample(path: str, order: list) -> None:
    """Open a sample in the dialog (ui/opener.py), with the grid's order for previous / next."""
    st.session_state[OPEN_SAMPLE], st.session_state[OPEN_ORDER] = path, list(order)
    st.query_params[links.OPEN] = path  # also from a copy inside the dialog, which reruns alone


def pair_grid(ds, pairs: pd.DataFrame, caption, columns: int = 4, side: int = 110) -> None:
    """Pairs of images side by side (path_a, path_b columns), `columns` pairs to a row, one caption each."""
    if pairs.empty:
        st.caption("None.")
        return
    thumbs = state.thumbnails(ds, list(pairs["path_a"]) + list(pairs["path_b"]))
    for i, pair in enumerate(pairs.to_dict("records")):
        if i % columns == 0:
            cells = st.columns(columns)
        with cells[i % columns].container(border=True):
            left, right = st.columns(2)
            for col, path in ((left, pair["path_a"]), (right, pair["path_b"])):
                data = thumbs.get(path)
                if data is None:
                    col.caption("no thumbnail")
                else:
                    col.image(data, width=side)
            st.caption(caption(pair))


def aligned_copies(ds, representative: str, copies: list, detail: dict, side: int = COMPARE_PX) -> None:
    """Each copy beside the group's representative: the copy redrawn in the representative's frame (the
    zoom, shift and mirror the inspector found undone) and where the two still differ."""
    thumbs = state.content_of(ds, [representative, *copies])
    first = images.open_for_display(ds.root, representative, state.config(ds).scan.max_pixel_bytes, side)[0]
    if first is None or representative not in thumbs:
        st.caption("The representative cannot be opened, or its scan predates content thumbnails: rescan.")
        return
    for path in copies:
        other = images.open_for_display(ds.root, path, state.config(ds).scan.max_pixel_bytes, side)[0]
        if other is None or path not in thumbs:
            continue
        how = compare.match(thumbs[representative], thumbs[path])
        cells = st.columns(3)
        cells[0].image(first, width=side, caption="representative")
        cells[1].image(compare.redrawn(first, other, how), width=side, caption=f"{path}, aligned on it")
        cells[2].image(compare.difference(first, compare.redrawn(first, other, how)), width=side,
                       caption=f"where they differ (agreement {how['detail']:.3f}): {detail.get(path, '')}")


def mark_bar(ds, paths: list, key: str, labels: list) -> None:
    """Keep / remove / relabel the selected samples; each mark is committed before the page says so."""
    if not paths:
        st.caption("Tick images to mark them keep / remove / relabel.")
        return
    if not state.marks_writable(ds):
        st.caption(READ_ONLY)
        return
    c1, c2, c3 = st.columns([2, 2, 1])
    what = "Mark it as" if len(paths) == 1 else f"Mark {len(paths)} selected as"
    decision = c1.radio(what, review.DECISIONS, horizontal=True, key=f"{key}_decision")
    new_label = c2.selectbox("New label", labels, key=f"{key}_label") if decision == "relabel" else None
    c3.button("Apply", key=f"{key}_apply", type="primary", on_click=_apply_marks,
              args=(ds.workspace, list(paths), decision, new_label, key))


def apply_bulk(ds, rows: list[tuple], what: str) -> None:
    """Marks (path, decision, new_label) set at once, undoably (review.set_marks), and said so."""
    n = review.set_marks(ds.workspace, rows, what)
    st.toast(f"Marked {n:,}: {md(what)}. Undo is on this page and on Review & export.")


def undo_button(ds, key: str) -> None:
    """Undo the last bulk action, when there is one to undo."""
    if not state.marks_writable(ds):
        return
    last = review.last_bulk(ds.workspace)
    if last and st.button(f"Undo: {md(last[0])} ({last[1]:,} marks)", key=key):
        review.undo_last(ds.workspace)
        st.rerun()


def _apply_marks(workspace, paths, decision, new_label, key):
    """Runs before the page re-renders, so the checkboxes can still be cleared."""
    if decision == "relabel":
        same = set(bulk.relabel_refused(state.rows_of(state.current(), paths), paths, new_label))
        if same:
            st.toast(f"Not relabelled: {len(same)} already labelled {md(new_label)}.")
        paths = [p for p in paths if p not in same]
    for path in paths:
        review.set_mark(workspace, path, decision, new_label)
    for path in paths:
        st.session_state[f"{key}::{path}"] = False
    st.toast(f"Marked {len(paths)} as {decision}" + (f" → {md(new_label)}" if new_label else ""))


def gallery(ds, table: pd.DataFrame, key: str, page_size: int = 40, columns: int = 8, caption=None,
            positions=None) -> None:
    """A paged gallery of the table's rows (or of its rows at `positions`, in that order) with review marks."""
    total = len(table) if positions is None else len(positions)
    number = pager(total, page_size, f"{key}_page")
    shown = tables.page(table, number, page_size, positions)
    st.caption(f"Showing {len(shown):,} of {total:,}")
    selected = image_grid(ds, shown, columns=columns, caption=caption, select_key=f"{key}_sel")
    labels = sorted(x for x in state.samples(ds)["label"].dropna().unique() if x)
    mark_bar(ds, selected, f"{key}_sel", labels)


def detail(ds, path: str) -> None:
    """One sample: the image at full size, its metadata and statistics, its findings, its copies (each opens
    in the dialog in turn)."""
    samples, found = state.samples(ds), state.findings(ds)
    row = state.rows_of(ds, [path]).iloc[0]
    st.subheader(md(path))
    left, right = st.columns([3, 2])
    with left:
        # only a file the scan decoded is opened again: one that hung or crashed it, or a bomb, never is
        view = full_view(ds, path) if row["ok"] else images.FullView(None, "", None)
        if view.image is not None:
            st.image(view.image, caption=f"{row['width']}×{row['height']} as stored, shown with EXIF orientation "
                                         f"{row['exif_orientation']} applied" + (f"; {view.note}" if view.note else ""))
        else:
            st.error(f"Cannot show this file: {md(view.error or row['error'])}")
    with right:
        mine = found[found["path"] == path]
        if len(mine):
            st.markdown("**Findings**")
            st.dataframe(tables.readable(mine[["issue", "score", "group", "detail"]]), hide_index=True,
                         width="stretch")
        else:
            st.success("No findings on this sample.")
        facts = row.drop(labels=[c for c in tables.HIDDEN_COLUMNS if c in row.index]).astype(str)
        st.dataframe(facts.rename("value"), width="stretch", height=300)
    groups = [g for g in mine["group"].unique() if g] if len(mine) else []
    if groups:
        members = found[found["group"].isin(groups) & found["issue"].isin(["exact_duplicate", "near_duplicate"])]
        copies = samples[samples["path"].isin(members["path"])]
        st.markdown(f"**Its copies** (groups {md(', '.join(groups))})")
        image_grid(ds, copies, columns=6, caption=lambda r: f"{r['split'] or '—'} / {r['label'] or '—'}: "
                                                         f"{r['path'].rsplit('/', 1)[-1]}")


WARNINGS_SHOWN = 20


def listing_warnings(summary: dict) -> None:
    """What the listing warned about when it read the dataset (a manifest naming a path twice with different
    labels, a folder it could not list), as `inspectors scan` prints it; nothing when it had no warning."""
    warnings = summary.get("warnings") or []
    if not warnings:
        return
    items = "\n".join(f"- {md(w)}" for w in warnings[:WARNINGS_SHOWN])
    more = f"\n\n… and {len(warnings) - WARNINGS_SHOWN:,} more." if len(warnings) > WARNINGS_SHOWN else ""
    st.warning(f"**Reading the dataset gave {len(warnings):,} warning(s):**\n\n{items}{more}")


def selected_row_path(event, table: pd.DataFrame) -> str | None:
    """The path of the row picked in a st.dataframe with on_select (dict access works in AppTest too)."""
    rows = event["selection"]["rows"] if event else []
    return table.iloc[rows[0]]["path"] if rows else None


def need_dataset():
    ds = state.current()
    if ds is None or not state.scanned(ds):
        st.info("Pick a dataset in the sidebar and press Scan.")
        st.stop()
    state.start_reading(ds)
    return ds
