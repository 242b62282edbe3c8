"""One click on any thumbnail opens the sample in place: a dialog with the image at full size, its findings,
its copies and the mark buttons, and previous / next (the arrow keys) through the grid it was opened from.
The open sample is in the URL (links.OPEN), so a reload or a shared link opens it again."""

import streamlit as st

from ui import links, state, widgets
from ui.plain import md

OPEN, ORDER = widgets.OPEN_SAMPLE, widgets.OPEN_ORDER


def restore() -> None:
    """A sample named by the URL opens when the session has none open."""
    path = st.query_params.get(links.OPEN)
    if path and OPEN not in st.session_state:
        st.session_state[OPEN], st.session_state[ORDER] = path, [path]


def publish() -> None:
    path = st.session_state.get(OPEN)
    if path and st.query_params.get(links.OPEN) != path:
        st.query_params[links.OPEN] = path
    elif not path and links.OPEN in st.query_params:
        del st.query_params[links.OPEN]


def close() -> None:
    st.session_state.pop(OPEN, None)
    st.session_state.pop(ORDER, None)
    if links.OPEN in st.query_params:
        del st.query_params[links.OPEN]


def show(ds) -> None:
    """The dialog, when a sample is open (called by the frame after the page)."""
    if st.session_state.get(OPEN):
        _dialog(ds)


def _step(order: list, at: int) -> None:
    st.session_state[OPEN] = order[at]
    st.query_params[links.OPEN] = order[at]  # the dialog reruns alone: the frame's publish() does not run


@st.dialog("Sample", width="large", on_dismiss=close)
def _dialog(ds) -> None:
    path = st.session_state.get(OPEN)
    order = st.session_state.get(ORDER) or [path]
    at = order.index(path) if path in order else 0
    if not len(state.rows_of(ds, [path])):
        st.warning(f"{md(path)} is not in this dataset.")
        st.button("Close", on_click=close)
        return
    back, where, forward = st.columns([1, 2, 1])
    back.button("Previous", key="open_previous", shortcut="Left", disabled=at == 0, on_click=_step,
                args=(order, at - 1), width="stretch")
    where.caption(f"{at + 1} of {len(order)} in the grid it was opened from · ← → to move")
    forward.button("Next", key="open_next", shortcut="Right", disabled=at >= len(order) - 1, on_click=_step,
                   args=(order, at + 1), width="stretch")
    labels = sorted(x for x in state.samples(ds)["label"].dropna().unique() if x)
    widgets.mark_bar(ds, [path], "open_mark", labels)
    widgets.detail(ds, path)
