"""The dashboard's frame around every page: pick a dataset, scan it with a live progress bar, navigate the
pages. app.py runs it; a page script reached without it (Streamlit's folder discovery of pages/) runs it
through enter().
"""

import sqlite3
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from inspectors import scan_cache
from inspectors.config import changed_settings, workspace_config
from inspectors.dataset import DatasetError
from ui import health, links, opener, pages, state
from ui.plain import md

FRAMED = "_inside_frame"  # session key: the page now running was reached through main()
LATER = "_after_the_frame"  # session key: what the page left to run once the frame's own work is done


def later(draw) -> None:
    """Run `draw` at the very end of this run, after the frame's work that follows the page (the sample dialog a
    thumbnail's click opens, the URL): for a page that waits on something slow, so that waiting holds up
    nothing else. Outside the frame: now."""
    if st.session_state.get(FRAMED):
        st.session_state[LATER].append(draw)
    else:
        draw()


def dataset_picker() -> None:
    arg_path, arg_labels = state.command_line_dataset()
    if "dataset_path" not in st.session_state:
        # a reload or a shared link: the dataset the URL names (by its workspace), else the command line's
        linked_id = st.query_params.get(links.WORKSPACE)
        linked = links.workspace_of_link(linked_id)
        if linked_id and not linked:
            st.warning(f"The link names a dataset this server does not know (workspace {md(linked_id)}): showing "
                       "the default one.")
        st.session_state["dataset_path"] = linked["path"] if linked else arg_path or state.DEFAULT_DATASET
        st.session_state["labels_path"] = linked["labels"] if linked else arg_labels or ""
        st.session_state["_from_link"] = bool(linked)
    # keep the typed values across page changes (Streamlit forgets a widget's state on navigation otherwise)
    for key in ("dataset_path", "labels_path"):
        st.session_state[key] = st.session_state[key]
    with st.sidebar:
        st.subheader("Dataset")
        recent = [r["path"] + (f"  (labels: {r['labels']})" if r.get("labels") else "") for r in state.recent()]
        if recent:
            choice = st.selectbox("Recent", ["—"] + recent, key="recent_choice")
            if choice != "—" and choice != st.session_state.get("_last_recent"):
                picked = state.recent()[recent.index(choice)]
                st.session_state["dataset_path"] = picked["path"]
                st.session_state["labels_path"] = picked.get("labels") or ""
                st.session_state["_last_recent"] = choice
        st.text_input("Folder, .csv manifest or URL", key="dataset_path",
                      help="A folder with a folder per class (optionally under train/ val/ test/), or a CSV "
                           "with a header path,label[,split]; either may be a URL in object storage "
                           "(an s3, gs or az address of a bucket and prefix), with credentials from the "
                           "environment.")
        st.text_input("Labels CSV (optional)", key="labels_path",
                      help="A manifest whose paths are relative to the folder above.")
        scan_clicked = st.button("Scan", type="primary", width="stretch")
    if not st.session_state["dataset_path"].strip():
        st.session_state["dataset"] = None
        st.sidebar.info("Type the path of a dataset folder or CSV manifest.")
        return
    try:
        ds = state.resolve(st.session_state["dataset_path"].strip(), st.session_state["labels_path"].strip() or None)
    except DatasetError as exc:
        st.session_state["dataset"] = None
        st.sidebar.error(md(exc))
        return
    # a damaged report file is derived data: scan again (quick, from the cache) rather than fail on every page
    rebuilt = state.damaged_reports(ds) if state.scanned(ds) else {}
    if not scan_clicked and not state.scanned(ds) and st.session_state.get("_from_link"):
        st.session_state["dataset"] = None  # a link never starts a scan: the Scan button does
        st.sidebar.info("This linked dataset has no report yet: press Scan to scan it.")
        return
    if scan_clicked or rebuilt or not state.scanned(ds):
        bar = st.sidebar.progress(0.0, text="listing files…")

        def progress(done, total):
            bar.progress(done / total if total else 1.0, text=f"scanned {done:,} / {total:,} images")
        try:
            result, _ = state.run_scan(ds, progress)
        except (DatasetError, ValueError, OSError, sqlite3.DatabaseError) as exc:
            st.session_state["dataset"] = None
            bar.empty()
            where = ds.workspace / scan_cache.CACHE_FILE if isinstance(exc, sqlite3.DatabaseError) else ds.workspace
            st.sidebar.error(md(exc if isinstance(exc, DatasetError) else f"The scan failed: {type(exc).__name__}: "
                                f"{exc} ({where})"))
            return
        bar.progress(1.0, text=f"{len(result.samples):,} files in {result.seconds:.1f} s "
                               f"({result.decoded:,} read, {result.cached:,} cached)")
        for path, reason in rebuilt.items():  # in the main area, above the page: where the eye goes
            st.warning(f"{md(path)} was damaged ({md(reason)}): scanning again rebuilt it.")
    st.session_state["dataset"] = ds
    st.session_state["_from_link"] = False
    if st.query_params.get(links.WORKSPACE) != ds.workspace.name:
        st.query_params[links.WORKSPACE] = ds.workspace.name  # the URL names the dataset: reloads and links keep it
    st.sidebar.caption(f"Workspace: {md(ds.workspace)}")
    settings_caption(ds)
    for path, reason in state.damaged(ds).items():  # one message per damaged file, above every page
        st.warning(f"**Damaged:** {md(path)}: {md(reason)}. " + health.CONSEQUENCE.get(path.name, health.LEFT_AS_IS))


def settings_caption(ds) -> None:
    """The settings a scan of this workspace uses, where they differ from the defaults."""
    try:
        changed = changed_settings(workspace_config(ds.workspace))
    except ValueError as exc:  # a damaged config.json: named above the page, like every damaged file
        st.warning(md(exc))
        return
    if changed:
        st.sidebar.caption("Settings: " + ", ".join(f"`{k}={v}`" for k, v in changed.items()),
                           help="From the workspace's config.json, written by the last scan (the command line's "
                                "--set or --config). The Scan button keeps them; every other setting is the default.")
    else:
        st.sidebar.caption("Settings: the defaults")


def main() -> None:
    """The whole app for one run: the sidebar, the navigation, the page Streamlit was asked for, and what
    follows every page."""
    with as_main_script():
        st.set_page_config(page_title="Dataset inspector", layout="wide")
        dataset_picker()
        page = st.navigation([st.Page(p.file, title=p.label, default=i == 0)
                              for i, p in enumerate(pages.PAGES)])
        name = page.url_path or pages.PAGES[0].name
        if st.session_state.get("dataset") is not None:  # every page names its dataset: marks land where one sees
            st.caption(f"Dataset: {md(st.session_state['dataset'].path)}")
        links.restore(name)
        opener.restore()
        st.session_state[FRAMED], st.session_state[LATER] = True, []
        try:
            page.run()
        finally:  # also when the page stops or reruns: the next run starts outside the frame again
            st.session_state[FRAMED] = False
        links.publish(name)
        ds = st.session_state.get("dataset")
        if ds is not None and state.scanned(ds):
            opener.publish()
            opener.show(ds)
            state.warm(ds)  # after the page: the derived tables would slow its first run
        for draw in st.session_state.pop(LATER, []):
            draw()


@contextmanager
def as_main_script():
    """Streamlit names a widget partly by the script it runs in: app.py itself when it serves a page through
    st.navigation, but the page's own script when its discovery of pages/ runs a page (or app.py as a page).
    Run the frame as app.py whichever way this run came in, or the sidebar's widgets (the Scan button, the
    dataset boxes) would change identity between a fresh server's first run and the next, and the first
    click on them would be lost."""
    ctx = get_script_run_ctx()
    if ctx is None:
        yield
        return
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
        yield


def enter() -> None:
    """Every page script calls this before any other Streamlit call. Reached through st.navigation (main()
    above), the page is already inside the frame: nothing to do. Reached through Streamlit's folder
    discovery of pages/ (a fresh server's first run, AppTest's every run: ENVIRONMENT.md), the script runs
    bare, without the sidebar or the navigation: then the whole frame runs instead, which serves this same
    page through st.navigation, and the bare run stops. Either way the page renders once, inside the frame."""
    if st.session_state.get(FRAMED):
        return
    main()
    st.stop()
