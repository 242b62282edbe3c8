"""The Baselines page's runs: the run shown follows a run to its end, runs are named and annotated, the loss
curves smooth and go log-scale, and the fixed batch scrubs back through the evaluations (run folders written
the way the trainer writes them, tests/ui/lab_runs.py)."""

import json
import os

from baselines import runs
from inspectors import jobs
from tests.ui import lab_runs
from tests.ui.test_baselines_page import classes_of, open_page, run_shown, texts
from ui import launcher
from ui.plain import md

PAGE = "pages/baselines.py"


def two_runs(workspace, val, running=False):
    args = (list(val["path"]), classes_of(val), list(val["label"]))
    old = lab_runs.finished_run(workspace, "20260101-000000-tiny_cnn", *args)
    new = lab_runs.finished_run(workspace, "20260101-000100-tiny_cnn", *args,
                                state="running" if running else "finished")
    if running:  # a live process: this one
        runs.write_json(new, jobs.FILE, {**runs.read_json(new, jobs.FILE), "pid": os.getpid()})
    return old, new


def test_the_run_shown_says_finished_when_its_run_ends_and_stays_on_it(lab):
    at, workspace, val = lab
    _, training_run = two_runs(workspace, val, running=True)
    check = lab_runs.finished_run(workspace, "20260101-000200-check-tiny_cnn", list(val["path"]), classes_of(val),
                                  list(val["label"]), kind="check")  # newer: the first option
    open_page(at, PAGE)
    run_shown(at).set_value(training_run.name).run()
    before = run_shown(at)
    assert before.value == training_run.name and "running" in before.options[1]
    runs.write_json(training_run, jobs.FILE, {**runs.read_json(training_run, jobs.FILE), "state": "finished"})
    at.run()
    after = run_shown(at)
    # a changed label makes a new widget (the browser would hold the old label as the value), on the same run
    assert after.key != before.key
    assert after.value == training_run.name and after.options[1].startswith(f"{training_run.name} (train, finished")
    assert after.options[0].startswith(check.name)
    assert f"**{md(training_run.name)}** · `train` · finished" in [s.value for s in at.success]


def test_a_run_is_named_and_annotated_and_the_name_and_note_show_in_the_lists(lab):
    at, workspace, val = lab
    old, new = two_runs(workspace, val)
    open_page(at, PAGE)
    assert run_shown(at).value == new.name
    at.text_input(key=f"bl_notes::{new.name}_name").set_value("wide, no dropout")
    at.text_area(key=f"bl_notes::{new.name}_note").set_value("Overfits by step 30.")
    next(b for b in at.button if b.label == "Save name and note").click().run()
    assert not at.exception, at.exception
    assert json.loads((new / runs.NOTES_FILE).read_text()) == {"name": "wide, no dropout",
                                                               "note": "Overfits by step 30."}
    assert run_shown(at).options[0].startswith(f"wide, no dropout · {new.name} (train, finished")
    assert f"Note: {md('Overfits by step 30.')}" in texts(at)
    table = next(d for d in at.dataframe if "gap" in d.value.columns).value
    assert table["name"].tolist() == ["wide, no dropout", ""] and table["note"].tolist() == ["Overfits by step 30.", ""]


def test_the_loss_curve_smooths_or_not_and_goes_log_scale(lab):
    at, workspace, val = lab
    two_runs(workspace, val)
    open_page(at, PAGE)

    def loss_spec():
        return json.loads(next(c for c in at.get("plotly_chart") if "cross-entropy" in c.proto.spec).proto.spec)

    names = [t["name"] for t in loss_spec()["data"]]
    assert names == ["train loss (each step)", "train loss (smoothed 0.90)", "validation loss"]
    at.slider(key="bl_loss_smoothing").set_value(0.0)
    at.toggle(key="bl_loss_log").set_value(True).run()
    spec = loss_spec()
    assert [t["name"] for t in spec["data"]] == ["train loss (each step)", "validation loss"]
    assert spec["layout"]["yaxis"]["type"] == "log"


def test_the_step_slider_scrubs_the_fixed_batch_back_through_training(lab):
    at, workspace, val = lab
    _, new = two_runs(workspace, val)
    open_page(at, PAGE)
    slider = at.select_slider(key=f"bl_live_{new.name}_step::5")  # a new widget per number of evaluations
    assert slider.options == ["0", "10", "20", "30", "40"] and slider.value == 40
    assert "At step 40: 4 of 4 right" in texts(at)
    slider.set_value(10).run()
    assert "At step 10: 4 of 4 right" in texts(at) and "At step 40:" not in texts(at)
    # a new evaluation arrives: the pinned step stays
    runs.append_jsonl(new / "fixed_predictions.jsonl", [{**runs.read_jsonl(new / "fixed_predictions.jsonl")[-1],
                                                         "step": 50}])
    at.run()
    assert at.select_slider(key=f"bl_live_{new.name}_step::6").value == 10 and "At step 10:" in texts(at)
    # step 0 predicts every class equally: only the images of the first class count as right (a stable tie-break)
    at.select_slider(key=f"bl_live_{new.name}_step::6").set_value(0).run()
    first = sorted(val["label"].unique())[0]
    assert f"At step 0: {sum(label == first for label in val['label'][:4])} of 4 right" in texts(at)
    # back to the newest: it follows the run again
    at.select_slider(key=f"bl_live_{new.name}_step::6").set_value(50).run()
    runs.append_jsonl(new / "fixed_predictions.jsonl", [{**runs.read_jsonl(new / "fixed_predictions.jsonl")[-1],
                                                         "step": 60}])
    at.run()
    assert at.select_slider(key=f"bl_live_{new.name}_step::7").value == 60 and "At step 60:" in texts(at)


def test_a_tolerance_sweep_whose_runs_underfit_is_called_out_with_the_next_step(lab):
    at, workspace, val = lab
    args = (list(val["path"]), classes_of(val), list(val["label"]))
    rows = []
    for size, final_val in ((16, 0.85), (32, 0.83)):  # validation loss as low as the training loss: underfit
        run = lab_runs.finished_run(workspace, f"20260101-0000{size}-tiny_cnn-{size}px", *args, kind="tolerance",
                                    final_train=0.8, final_val=final_val)
        rows.append({"input_size": size, "val_acc": 0.7, "val_loss": final_val, "train_loss": 0.8, "run": run.name})
    (workspace / launcher.TOLERANCE_FILE).write_text(json.dumps({"model": "tiny_cnn", "rows": rows}))
    open_page(at, PAGE)
    warning = next(w.value for w in at.warning if "this sweep" in w.value)
    assert warning.startswith("**Every run of this sweep underfits (16 px, 32 px)")
    assert "step 3 of the recipe" in warning
