"""The URL holds the view: the dataset's workspace id (never a path: a link must not make the server scan a
folder), the open sample, and each page's filters and sort. A reload keeps them; a copied link opens the same
view. Widgets keep their values in st.session_state under their keys; this module copies the keys a page
binds from the URL into the session when the session has no value yet, and back into the URL on every run."""

import re
from pathlib import Path

import streamlit as st

from inspectors import workspace

WORKSPACE, OPEN = "ws", "open"
WORKSPACE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")

# each page's bound widget keys: their kind (list: a repeated parameter; str, bool, int) and the widget's
# default, which the URL leaves out
BINDINGS = {
    "browse": {"browse_split": (list, []), "browse_label": (list, []), "browse_issue": (list, []),
               "browse_text": (str, ""), "browse_sort": (str, "worst_score"), "browse_desc": (bool, True),
               "browse_view": (str, "Gallery"), "browse_page": (int, 1)},
    "duplicates": {"dup_only": (str, "all")},
}


def workspace_of_link(ws_id: str | None, root: Path | None = None) -> dict | None:
    """{"path", "labels"} of the dataset whose workspace is `ws_id` under the app's cache root, from its
    workspace.json; None for an id that is malformed or names no workspace of this server."""
    if not ws_id or not WORKSPACE_ID.match(ws_id) or ws_id in (".", ".."):
        return None
    folder = (root or workspace.cache_root()) / ws_id
    meta = workspace.workspace_marker(folder) if workspace.is_workspace(folder) else {}
    if not meta.get("dataset"):
        return None
    return {"path": str(meta["dataset"]), "labels": str(meta.get("labels") or "")}


def decode(kind, values: list[str]):
    if kind is list:
        return list(values)
    value = values[-1] if values else ""
    if kind is bool:
        return value == "1"
    if kind is int:
        return int(value) if value.lstrip("-").isdigit() else None
    return value


def encode(kind, value) -> list[str] | str | None:
    if kind is list:
        return [str(v) for v in value] or None
    if kind is bool:
        return "1" if value else "0"
    return None if value in (None, "") else str(value)


PUBLISHED = "_links_published"  # what publish() last wrote: a URL value that differs came from a link


def restore(page: str) -> None:
    """Before the page's widgets: the URL's values for the keys the session has no value for yet (a reload, a
    shared link) or that differ from what this session last put there (a link inside the app)."""
    published = st.session_state.get(PUBLISHED, {})
    for key, (kind, _) in BINDINGS.get(page, {}).items():
        if key not in st.query_params:
            continue
        raw = st.query_params.get_all(key)
        if key in st.session_state and published.get(key) == raw:
            continue
        value = decode(kind, raw)
        if value is not None:
            st.session_state[key] = value


def publish(page: str) -> None:
    """After the page's widgets: their values into the URL (and no other page's)."""
    bound = BINDINGS.get(page, {})
    for other in {k for keys in BINDINGS.values() for k in keys} - set(bound):
        if other in st.query_params:
            del st.query_params[other]
    published = {}
    for key, (kind, default) in bound.items():
        current = st.session_state.get(key, default)
        value = None if current == default else encode(kind, current)
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
            continue
        published[key] = value if isinstance(value, list) else [value]
        if st.query_params.get_all(key) != published[key]:
            st.query_params[key] = value
    st.session_state[PUBLISHED] = published


def keep_valid(key: str, options) -> None:
    """Drop a bound value (from a link) that is not among the widget's options: a stale or edited link shows
    the unfiltered view rather than an error."""
    value = st.session_state.get(key)
    allowed = set(options)
    if isinstance(value, list):
        st.session_state[key] = [v for v in value if v in allowed]
    elif value is not None and value not in allowed:
        del st.session_state[key]

