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
