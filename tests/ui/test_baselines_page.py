"""The Baselines, Label issues and Human baseline pages on the scanned sample data: they render with nothing
run yet, and show curves, the fixed batch, verdicts, a comparison, label suspects and a scored human sheet
from run folders written the way the trainer writes them (tests/ui/lab_runs.py)."""

import pytest

from inspectors import review
from inspectors.scan import read_samples
from tests.ui import lab_runs
from ui import labels, launcher

PAGES = ["pages/baselines.py", "pages/label_issues.py", "pages/human_baseline.py"]


def open_page(at, page):
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "subheader", "title", "info", "success",
                                              "warning", "error") for e in getattr(at, kind))


def run_shown(at):
    return next(s for s in at.selectbox if s.label == "Run shown")


def classes_of(val) -> list:
    return sorted(val["label"].unique())


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_nothing_run_yet(lab, page):
    at, _, _ = lab
    open_page(at, page)
    assert "No runs yet" in texts(at) or "Not run yet" in texts(at) or "No sheet yet" in texts(at)


def test_baselines_shows_a_finished_runs_curves_fixed_batch_and_verdicts(lab):
    at, workspace, val = lab
    run = lab_runs.finished_run(workspace, "20260101-000000-tiny_cnn", list(val["path"]), classes_of(val),
                                list(val["label"]))
    check = lab_runs.finished_run(workspace, "20260101-000100-check-tiny_cnn", list(val["path"]), classes_of(val),
                                  list(val["label"]), kind="check")
    lab_runs.add_checks(check)
    open_page(at, "pages/baselines.py")
    assert run_shown(at).value == check.name  # the newest run
    run_shown(at).set_value(run.name).run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Last evaluation at step 40" in shown
    assert "At step 40: 4 of 4 right" in shown
    assert "Report card: 6 of 7 checks passed" in shown
    assert "What to do: fix loss_decreases" in shown
    assert "RGB/BGR channels swapped" in shown and "float32" in shown
    assert len(at.get("plotly_chart")) >= 3  # loss, accuracy, heatmap


def test_compare_runs_lists_the_knob_that_differs_and_the_gap(lab):
    at, workspace, val = lab
    args = (list(val["path"]), classes_of(val), list(val["label"]))
    lab_runs.finished_run(workspace, "20260101-000000-tiny_cnn", *args, width=64, final_train=0.1, final_val=1.2)
    lab_runs.finished_run(workspace, "20260101-000100-tiny_cnn", *args, width=64, dropout=0.5, final_train=0.5,
                          final_val=0.8)
    open_page(at, "pages/baselines.py")
    assert at.multiselect(key="bl_compare").value == ["20260101-000100-tiny_cnn", "20260101-000000-tiny_cnn"]
    table = [d for d in at.dataframe if "gap" in d.value.columns][0].value
    assert list(table.columns[:3]) == ["run", "state", "dropout"]  # width is the same in both: not shown
    assert table["gap"].round(3).tolist() == [0.3, 1.1]


def test_tolerance_result_is_shown(lab):
    at, workspace, _ = lab
    (workspace / launcher.TOLERANCE_FILE).write_text(
        '{"model": "tiny_cnn", "rows": [{"input_size": 32, "val_acc": 0.8, "val_loss": 0.6, "train_loss": 0.5, '
        '"run": "b"}, {"input_size": 16, "val_acc": 0.6, "val_loss": 0.9, "train_loss": 0.8, "run": "a"}]}')
    open_page(at, "pages/baselines.py")
    table = [d for d in at.dataframe if "input_size" in d.value.columns][0].value
    assert table["input_size"].tolist() == [16, 32] and table["val_acc"].tolist() == [0.6, 0.8]


def test_label_issues_lists_suspects_and_marks_a_relabel_to_the_prediction(lab):
    at, workspace, val = lab
    paths, given = list(val["path"]), list(val["label"])
    lab_runs.label_issue_results(workspace, paths, given, classes_of(val), suspects=3)
    open_page(at, "pages/label_issues.py")
    assert {m.label: m.value for m in at.metric}["Suspected mislabels"] == "3"
    assert "2 images were predicted but not judged: the inspectors found the picture itself off (dark, outlier)" \
        in texts(at)
    suspects = [d for d in at.dataframe if "given" in d.value.columns][0].value
    assert suspects["path"].tolist() == paths[:3]
    first = paths[0]
    assert at.selectbox(key=f"li_new::{first}").value == suspects["predicted"].iloc[0]
    at.button(key=f"li_relabel::{first}").click().run()
    assert not at.exception, at.exception
    marks = review.marks(workspace)
    assert marks[["path", "decision", "new_label"]].values.tolist() == [[first, "relabel",
                                                                         suspects["predicted"].iloc[0]]]
    at.button(key=f"li_remove::{paths[1]}").click().run()
    assert dict(zip(review.marks(workspace)["path"], review.marks(workspace)["decision"], strict=True))[paths[1]] \
        == "remove"
    assert "marked **relabel → " in texts(at)


def test_label_issues_of_a_weak_model_warn_on_top_and_show_both_classes_beside_each_suggestion(lab):
    import json

    import pandas as pd

    at, workspace, val = lab
    paths, given = list(val["path"]), list(val["label"])
    classes = classes_of(val)
    lab_runs.label_issue_results(workspace, paths, given, classes, suspects=2)
    folder = workspace / "label_issues"
    predictions = pd.read_csv(folder / "predictions.csv")
    predictions["suggested"] = predictions["predicted"]
    predictions["rank_score"] = 1 - predictions["p_label"]
    predictions["suspect"] = [i < 2 for i in range(len(predictions))]
    predictions["unreliable"] = ""
    predictions.to_csv(folder / "predictions.csv", index=False)
    facts = json.loads((folder / "facts.json").read_text())
    facts.update({"oos_accuracy": 0.61, "weak_model": True, "candidates": 9, "flag_cap": 2, "found": 2})
    (folder / "facts.json").write_text(json.dumps(facts))
    open_page(at, "pages/label_issues.py")
    warning = at.warning[0].value
    assert warning.startswith("The baseline is 61% accurate on held-out images: these are ranked suggestions, not "
                              "verdicts") and "Only the 2 with the strongest evidence are flagged" in warning
    assert "The filter suspects 9 images; the model supports flagging 2" in texts(at)
    first_suggested = predictions["suggested"][0]
    # beside the first suggestion: its given class and the suggested one, as the model sees them
    assert f"given class **{given[0]}**, as the model sees it:" in texts(at)
    assert f"suggested class **{first_suggested}**, as the model sees it:" in texts(at)
    examples = labels.class_examples(predictions, 3)
    assert set(examples[first_suggested]) <= set(paths[2:]) and len(examples[first_suggested]) >= 1
    assert len(at.get("image")) >= 4  # 2 suspects, each with rows of class examples
    ranked = [d for d in at.dataframe if "rank_score" in d.value.columns][0].value
    assert ranked["path"].tolist()[:2] == paths[:2] and ranked["rank_score"].is_monotonic_decreasing


def test_human_baseline_sheet_is_answered_scored_and_kept(lab):
    at, workspace, _ = lab
    open_page(at, "pages/human_baseline.py")
    at.number_input(key="hb_n").set_value(3)
    at.button(key="hb_draw").click().run()
    assert not at.exception, at.exception
    sheet = labels.load_sheet(workspace)
    assert sheet["n"] == 3 and not sheet["submitted"]
    samples = read_samples(workspace).set_index("path")["label"]
    # two right, one wrong, whatever images were drawn
    answers = [samples[sheet["paths"][0]], samples[sheet["paths"][1]],
               next(c for c in sorted(samples[samples != ""].unique()) if c != samples[sheet["paths"][2]])]
    for i, answer in enumerate(answers):
        at.selectbox(key=f"hb_answer::{sheet['created']}::{i}").set_value(answer)
    at.button[[b.label for b in at.button].index("Submit and score")].click().run()
    assert not at.exception, at.exception
    kept = labels.load_sheet(workspace)
    assert kept["submitted"] and list(kept["answers"].values()) == answers
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Your accuracy"] == "67%"
    assert metrics["Model's accuracy on these images"] == "—"  # no run yet
    # a reload shows the same scored sheet, now beside a finished run's predictions on the same images
    every_val = labels.candidates(read_samples(workspace))
    lab_runs.finished_run(workspace, "20260101-000000-tiny_cnn", list(every_val["path"]),
                          sorted(every_val["label"].unique()), list(every_val["label"]))
    right = {p for i, p in enumerate(every_val["path"]) if i % 2 == 0}  # the fake model is right on every other
    open_page(at, "pages/human_baseline.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Your accuracy"] == "67%"
    assert metrics["Model's accuracy on these images"] == f"{sum(p in right for p in sheet['paths']) / 3:.0%}"


def test_label_issues_of_a_strong_model_say_which_suspects_the_filter_passed_over(lab):
    import json

    at, workspace, val = lab
    lab_runs.label_issue_results(workspace, list(val["path"]), list(val["label"]), classes_of(val), suspects=3)
    folder = workspace / "label_issues"
    facts = json.loads((folder / "facts.json").read_text())
    facts.update({"oos_accuracy": 0.93, "weak_model": False, "candidates": 2, "found": 3, "from_disagreement": 1,
                  "estimated_noise": 2, "estimated_noise_calibrated": 3, "flag_cap": 3})
    (folder / "facts.json").write_text(json.dumps(facts))
    open_page(at, "pages/label_issues.py")
    assert not at.warning
    assert "1 of the suspects were passed over by the filter, yet the model, accurate enough to trust, predicts " \
           "another class for them (confident learning estimates about 3 wrong labels in all)." in texts(at)
