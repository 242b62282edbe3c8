"""ui/training.py and ui/labels.py: the tables behind the Baselines, Label issues and Human baseline pages
(the background launcher is tests/ui/test_launcher.py)."""

import math
import subprocess

import pandas as pd

from baselines import runs
from tests.ui import lab_runs
from ui import labels, launcher, training

CLASSES = ["circle", "square", "star"]


def test_fixed_batch_heatmap_has_one_row_per_image_and_one_column_per_evaluation():
    fixed = {"paths": ["a", "b"], "labels": ["square", "circle"], "classes": CLASSES}
    predictions = [{"step": 0, "probs": [[0.3, 0.4, 0.3], [0.2, 0.5, 0.3]]},
                   {"step": 10, "probs": [[0.1, 0.8, 0.1], [0.9, 0.05, 0.05]]}]
    matrix = training.fixed_batch_heatmap(fixed, predictions)
    assert list(matrix.index) == ["#1 square", "#2 circle"] and list(matrix.columns) == [0, 10]
    assert matrix.to_numpy().tolist() == [[0.4, 0.8], [0.2, 0.9]]


def test_latest_probabilities_give_the_top_classes_and_the_true_class():
    fixed = {"paths": ["a", "b"], "labels": ["square", "star"], "classes": CLASSES}
    predictions = [{"step": 0, "probs": [[0.3, 0.4, 0.3], [0.3, 0.4, 0.3]]},
                   {"step": 5, "probs": [[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]]}]
    first, second = training.latest_probabilities(fixed, predictions, top=2)
    assert first["step"] == 5 and first["correct"] and first["bars"][0] == {"class": "square", "p": 0.7, "true": True}
    assert not second["correct"] and [b["class"] for b in second["bars"]] == ["circle", "square"]
    assert second["p_true"] == 0.1
    assert training.latest_probabilities(fixed, []) == []


def test_compare_table_keeps_only_the_knobs_that_differ_and_computes_the_gap(tmp_path):
    val = [f"val/x{i}.png" for i in range(6)]
    given = [CLASSES[i % 3] for i in range(6)]
    a = lab_runs.finished_run(tmp_path, "a", val, CLASSES, given, width=64, final_train=0.1, final_val=1.3)
    b = lab_runs.finished_run(tmp_path, "b", val, CLASSES, given, width=64, dropout=0.3, final_train=0.4,
                              final_val=0.9)
    table = training.compare_table([training.run_summary(a), training.run_summary(b)])
    assert list(table.columns) == ["run", "state", "dropout", "steps", "train_loss", "val_loss", "val_acc", "gap",
                                   "best_val_loss", "best_step"]
    assert table["gap"].round(4).tolist() == [1.2, 0.5]
    assert table["best_step"].tolist() == [40, 40] and table["state"].tolist() == ["finished", "finished"]
    one = training.compare_table([training.run_summary(a)])
    assert {"model", "width", "input_size", "dropout"} <= set(one.columns)  # a single run shows every knob
    assert training.compare_table([]).empty


def test_run_summary_of_a_running_run_uses_its_last_evaluation(tmp_path):
    folder = tmp_path / "runs" / "r"
    folder.mkdir(parents=True)
    runs.append_jsonl(folder / "metrics.jsonl", [
        {"kind": "train", "step": 1, "epoch": 0.1, "loss": 2.0},
        {"kind": "eval", "step": 1, "epoch": 0.1, "val_loss": 2.5, "val_acc": 0.2, "train_loss": 2.0},
        {"kind": "eval", "step": 2, "epoch": 0.2, "val_loss": 2.1, "val_acc": 0.3, "train_loss": None}])
    s = training.run_summary(folder)
    assert (s["steps"], s["val_loss"], s["val_acc"], s["best_step"]) == (2, 2.1, 0.3, 2)
    assert math.isnan(s["train_loss"]) and math.isnan(s["gap"])


def test_compare_curves_are_long_with_train_and_val_at_each_evaluation(tmp_path):
    val, given = ["v1", "v2"], ["circle", "star"]
    a = lab_runs.finished_run(tmp_path, "a", val, CLASSES, given)
    curves = training.compare_curves([a, tmp_path / "runs" / "missing"])
    assert set(curves["curve"]) == {"train loss", "val loss", "val acc"}
    assert (curves["curve"] == "val loss").sum() == 4 and set(curves["run"]) == {"a"}


def test_tolerance_frame_is_sorted_by_size(tmp_path):
    runs.write_json(tmp_path, launcher.TOLERANCE_FILE, {"model": "tiny_cnn", "rows": [
        {"input_size": 64, "val_acc": 0.9, "val_loss": 0.3, "train_loss": 0.2, "run": "c"},
        {"input_size": 16, "val_acc": 0.5, "val_loss": 1.3, "train_loss": 1.2, "run": "a"}]})
    model, table = training.tolerance_frame(tmp_path)
    assert model == "tiny_cnn" and table["input_size"].tolist() == [16, 64]
    assert training.tolerance_frame(tmp_path / "none")[1].empty


def test_data_uri_names_the_image_type():
    assert training.data_uri(b"\x89PNG\r\n\x1a\nrest").startswith("data:image/png;base64,")
    assert training.data_uri(b"\xff\xd8\xff\xe0").startswith("data:image/jpeg;base64,")
    assert training.data_uri(None) is None


# ---- ui/labels.py ----------------------------------------------------------------------------------------------

def test_suspects_join_findings_with_predictions_and_marks(tmp_path):
    paths = ["a.png", "b.png", "c.png", "d.png"]
    lab_runs.label_issue_results(tmp_path, paths, ["circle", "square", "star", "circle"], CLASSES, suspects=2)
    found = labels.read_label_issues(tmp_path)
    marks = pd.DataFrame({"path": ["b.png"], "decision": ["relabel"], "new_label": ["star"]})
    table = labels.suspects(found["findings"], found["predictions"], marks)
    assert table[["path", "given", "predicted", "score", "mark"]].values.tolist() == [
        ["a.png", "circle", "square", 1.0, ""], ["b.png", "square", "star", 0.9, "relabel → star"]]
    assert labels.top_losses(found["predictions"], 3)["path"].tolist() == ["a.png", "b.png", "c.png"]
    matrix = labels.confusion_frame(found["confusion"])
    assert matrix.index.name == "given" and matrix.loc["star", "star"] == 5
    empty = labels.read_label_issues(tmp_path / "nothing")
    assert labels.suspects(empty["findings"], empty["predictions"], marks).empty and not empty["facts"]


def test_the_human_sheet_is_seeded_and_scored_against_the_model_on_the_same_images(tmp_path):
    samples = pd.DataFrame({"path": [f"val/{i}.png" for i in range(10)] + ["train/t.png"],
                            "label": [CLASSES[i % 3] for i in range(10)] + ["circle"],
                            "split": ["val"] * 10 + ["train"], "ok": [True] * 11})
    pool = labels.candidates(samples)
    assert len(pool) == 10
    sheet = labels.draw_sheet(pool, 4, seed=3, now=100.0)
    assert sheet == labels.draw_sheet(pool, 4, seed=3, now=100.0) and len(set(sheet["paths"])) == 4
    truth = dict(zip(pool["path"], pool["label"], strict=True))
    answers = {sheet["paths"][0]: truth[sheet["paths"][0]], sheet["paths"][1]: "—",
               sheet["paths"][2]: "wrong"}
    done = labels.answer_sheet(sheet, answers, now=160.0)
    assert done["seconds"] == 60.0 and sheet["paths"][1] not in done["answers"]
    model = {sheet["paths"][0]: "wrong", sheet["paths"][1]: truth[sheet["paths"][1]]}
    facts, table = labels.score_sheet(done, truth, model)
    assert (facts["answered"], facts["correct"], facts["human_acc"]) == (2, 1, 0.25)
    assert (facts["model_n"], facts["model_correct"], facts["model_acc"]) == (2, 1, 0.5)
    assert table["you"].tolist() == [True, False, False, False]
    labels.save_sheet(tmp_path, done)
    assert labels.load_sheet(tmp_path) == done


def test_the_model_predictions_come_from_the_newest_finished_training_run(tmp_path):
    lab_runs.finished_run(tmp_path, "20260101-000000-tiny_cnn", ["v1", "v2"], CLASSES, ["circle", "star"])
    lab_runs.finished_run(tmp_path, "20260101-000100-check-tiny_cnn", ["v1", "v2"], CLASSES, ["star", "star"],
                          kind="check")
    run, predicted = labels.model_predictions(tmp_path)
    assert run == "20260101-000000-tiny_cnn" and predicted == {"v1": "circle", "v2": "circle"}
    assert labels.model_predictions(tmp_path / "none") == (None, {})


def test_run_names_add_the_knobs_that_differ_and_chance_is_the_largest_class_share(tmp_path):
    a = lab_runs.finished_run(tmp_path, "a", ["v"], CLASSES, ["star"], dropout=0.0)
    b = lab_runs.finished_run(tmp_path, "b", ["v"], CLASSES, ["star"], dropout=0.5)
    names = training.run_names([training.run_summary(a), training.run_summary(b)])
    assert names == {"a": "a (dropout 0.0)", "b": "b (dropout 0.5)"}
    assert training.run_names([training.run_summary(a)]) == {"a": "a"}
    assert training.chance_accuracy({"class_counts": {"val": {"a": 3, "b": 1}}}) == 0.75
    assert training.chance_accuracy({}) is None


def test_fit_width_keeps_tall_images_inside_the_square():
    import io

    from PIL import Image
    tall = io.BytesIO()
    Image.new("RGB", (10, 100)).save(tall, "PNG")
    assert training.fit_width(tall.getvalue(), 100) == 10
    assert training.fit_width(Image.new("RGB", (300, 100)), 90) == 90
    assert training.fit_width(b"not an image", 50) == 50


def test_a_weak_out_of_sample_model_is_called_weak():
    assert labels.weak_model({"samples": 100, "oos_accuracy": 0.5, "found": 3})
    assert labels.weak_model({"samples": 100, "oos_accuracy": 0.9, "found": 30})
    assert not labels.weak_model({"samples": 100, "oos_accuracy": 0.9, "found": 5})
    assert not labels.weak_model({})


def test_the_runs_listed_are_newest_first_and_a_dead_running_one_is_stopped(tmp_path):
    old = lab_runs.finished_run(tmp_path, "20240101-000000-tiny_cnn", ["v1"], CLASSES, ["circle"])
    new = lab_runs.finished_run(tmp_path, "20240102-000000-tiny_cnn", ["v1"], CLASSES, ["circle"], state="running")
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: its pid is gone
    status = runs.read_json(new, "status.json")
    runs.write_json(new, "status.json", {**status, "pid": child.pid})
    (tmp_path / "runs" / "stray.txt").write_text("not a run")
    table = training.list_trained(tmp_path)
    assert table["run"].tolist() == [new.name, old.name]
    assert table["state"].tolist() == ["stopped", "finished"]
    assert table["model"].tolist() == ["tiny_cnn", "tiny_cnn"] and table["val_acc"].iloc[1] == 0.7


def test_smoothing_zero_gives_the_raw_values_and_more_weight_a_flatter_curve():
    values = pd.Series([1.0, 0.0, 1.0, 0.0])
    assert training.smooth(values, 0).tolist() == values.tolist()
    assert training.smooth(values, 0.5).tolist() == [1.0, 0.5, 0.75, 0.375]
    assert training.smooth(values, 0.9).std() < training.smooth(values, 0.5).std()


def test_probabilities_at_a_step_and_the_scrubber_follows_the_newest_until_moved():
    fixed = {"paths": ["a"], "labels": ["square"], "classes": CLASSES}
    predictions = [{"step": 0, "probs": [[0.5, 0.3, 0.2]]}, {"step": 10, "probs": [[0.1, 0.8, 0.1]]}]
    (at_0,) = training.probabilities_at(fixed, predictions, 0)
    assert at_0["step"] == 0 and not at_0["correct"] and at_0["p_true"] == 0.3
    assert training.probabilities_at(fixed, predictions, 99)[0]["step"] == 10  # never evaluated: the latest
    assert training.step_shown(None, [0, 10]) == 10 and training.step_shown(None, []) is None
    assert training.step_shown(0, [0, 10, 20]) == 0  # pinned: stays while the run goes on
    assert training.step_shown(5, [0, 10, 20]) == 20  # a step this run never evaluated: the newest
    assert training.step_pinned(10, [0, 10, 20]) == 10
    assert training.step_pinned(20, [0, 10, 20]) is None  # moved to the newest: follow the run again


def test_a_runs_name_leads_its_label_and_legend_and_the_compare_table_shows_name_and_note(tmp_path):
    a = lab_runs.finished_run(tmp_path, "a", ["v"], CLASSES, ["star"], dropout=0.0)
    b = lab_runs.finished_run(tmp_path, "b", ["v"], CLASSES, ["star"], dropout=0.5)
    runs.write_notes(a, "plain", "the first try")
    assert training.list_trained(tmp_path)["label"].tolist() == ["b (train, finished · val acc 70%)",
                                                                 "plain · a (train, finished · val acc 70%)"]
    summaries = [training.run_summary(a), training.run_summary(b)]
    assert training.run_names(summaries) == {"a": "plain (dropout 0.0)", "b": "b (dropout 0.5)"}
    table = training.compare_table(summaries)
    assert list(table.columns[:3]) == ["run", "name", "state"] and table.columns[-1] == "note"
    assert table["note"].tolist() == ["the first try", ""]
