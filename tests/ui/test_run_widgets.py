"""ui/run_widgets.py: the figures the Baselines page draws from a run folder."""

import pandas as pd

from ui import run_picker, run_widgets


def test_the_loss_figure_smooths_on_request_and_draws_a_log_axis():
    train = pd.DataFrame({"step": [1, 2, 3], "loss": [2.0, 1.0, 0.5]})
    evals = pd.DataFrame({"step": [3], "val_loss": [0.9]})
    smoothed = run_widgets.loss_figure(train, evals, 0.9, False)
    assert [t.name for t in smoothed.data] == ["train loss (each step)", "train loss (smoothed 0.90)",
                                               "validation loss"]
    raw = run_widgets.loss_figure(train, evals, 0, True)
    assert [t.name for t in raw.data] == ["train loss (each step)", "validation loss"]
    assert raw.layout.yaxis.type == "log" and smoothed.layout.yaxis.type is None


def test_the_run_picker_is_a_new_widget_whenever_a_runs_label_changes():
    running = {"b": "b (train, running · val acc 40%)", "a": "a (train, finished)"}
    finished = {"b": "b (train, finished · val acc 70%)", "a": "a (train, finished)"}
    assert run_picker.picker_key("bl_run", running) == run_picker.picker_key("bl_run", dict(running))
    assert run_picker.picker_key("bl_run", running) != run_picker.picker_key("bl_run", finished)
    assert run_picker.picker_key("bl_run", running).startswith("bl_run_pick::")


def _job_page(folder):
    import streamlit as st

    from ui import run_widgets

    st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    run_widgets.follow(folder, "job")
    st.button("Another button below the panel", key="below")


def test_a_job_ending_while_the_whole_page_runs_does_not_rerun_it(monkeypatch, tmp_path):
    """A click reruns the whole page; if the job ends before the page reaches the clicked widget, a rerun from the
    panel there would drop the click (seen in chromium: 4 of 40 and 5 of 60 clicks lost on a page whose job kept
    ending). The panel's own refresh reruns the page instead."""
    from streamlit.testing.v1 import AppTest

    from ui import launcher

    states = iter(["running"] + ["finished"] * 20)  # running as the page starts, finished by the panel
    monkeypatch.setattr(launcher, "job_status", lambda folder: {"state": next(states), "command": "train"})
    monkeypatch.setattr(launcher, "log_text", lambda folder: "")
    at = AppTest.from_function(_job_page, args=(str(tmp_path),), default_timeout=30)
    at.run()
    assert not at.exception
    assert at.session_state["runs"] == 1
    assert any("finished" in box.value for box in at.success)  # the panel shows the end all the same
