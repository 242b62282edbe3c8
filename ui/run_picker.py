"""The Baselines page's choice of run: a picker whose labels carry each run's name, state and accuracy, and
the editor of a run's name and note (saved in the run folder, baselines/runs.py)."""

import zlib
from pathlib import Path

import streamlit as st

from baselines import runs
from ui import launcher, training
from ui.plain import md


def picker_key(prefix: str, labels: dict) -> str:
    """The picker's widget key, new whenever a label changes. A selectbox's value travels between the browser
    and the server as its option's label, and these labels change as a run goes on (its state, its accuracy,
    a new name): a label the browser still holds from before matches no option any more, and Streamlit then
    falls back to the first option (or the browser keeps drawing the stale label), so the page showed another
    run, or the old state, after a run ended. A fresh widget per set of labels starts from the remembered run."""
    text = "\n".join(f"{run}\t{label}" for run, label in labels.items())
    return f"{prefix}_pick::{zlib.crc32(text.encode()):08x}"


def pick_run(ds, kinds: tuple, remember: str, label: str = "Run shown") -> Path | None:
    """The run folder to show: the one remembered under session key `remember` (a launch sets it too), else
    the one still training, else the newest; None when there is no run of these kinds."""
    current = launcher.current_run(ds.workspace, kinds, st.session_state.get(remember))
    if current is None:
        return None
    listed = training.list_trained(ds.workspace, kinds)
    labels = dict(zip(listed["run"], listed["label"], strict=True))
    if st.session_state.get(remember) not in labels:
        st.session_state[remember] = current.name
    key = picker_key(remember, labels)
    options = list(labels)

    def remember_choice():
        st.session_state[remember] = st.session_state[key]

    st.selectbox(label, options, index=options.index(st.session_state[remember]), key=key,
                 format_func=lambda name: labels.get(name, name), on_change=remember_choice,
                 help="The newest run, or the one still training. Older runs stay in the workspace's runs/ folder.")
    return Path(ds.workspace) / runs.RUNS / st.session_state[remember]


def notes_editor(folder: Path, key: str) -> None:
    """The run's note under the picker, and a form to name and annotate it."""
    notes = runs.read_notes(folder)
    if notes["note"]:
        st.caption(f"Note: {md(notes['note'])}")
    prefix = f"{key}::{folder.name}"

    def save():
        runs.write_notes(folder, st.session_state[f"{prefix}_name"], st.session_state[f"{prefix}_note"])

    with st.expander("Name and note" + (f" ({md(notes['name'])})" if notes["name"] else ""), expanded=False):
        with st.form(f"{prefix}_form", border=False):
            st.text_input("Name", notes["name"], max_chars=runs.NAME_CHARS, key=f"{prefix}_name",
                          placeholder="e.g. wide, no dropout", help="Shown in the run lists and in Compare runs.")
            st.text_area("Note", notes["note"], key=f"{prefix}_note", height=80,
                         placeholder="What this run tried, and what it showed.")
            st.form_submit_button("Save name and note", on_click=save)
