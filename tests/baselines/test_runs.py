"""The run folder as a reader sees it: the page and the CLI read while the trainer writes."""

import json

from baselines import runs


def test_read_jsonl_ignores_a_half_written_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    runs.append_jsonl(path, [{"step": 1}, {"step": 2}])
    with open(path, "a") as f:
        f.write('{"step": 3, "lo')  # the writer is mid-line
    assert runs.read_jsonl(path) == [{"step": 1}, {"step": 2}]
    with open(path, "a") as f:
        f.write('ss": 0.5}\n')
    assert runs.read_jsonl(path)[-1] == {"step": 3, "loss": 0.5}


def test_read_jsonl_of_a_missing_file_is_empty(tmp_path):
    assert runs.read_jsonl(tmp_path / "nope.jsonl") == []


def test_metrics_split_train_steps_from_evaluations(tmp_path):
    runs.append_jsonl(tmp_path / "metrics.jsonl", [
        {"kind": "eval", "step": 0, "val_loss": 1.1}, {"kind": "train", "step": 1, "loss": 1.0},
        {"kind": "train", "step": 2, "loss": 0.9}, {"kind": "eval", "step": 2, "val_loss": 0.8}])
    train, evals = runs.metrics(tmp_path)
    assert train["step"].tolist() == [1, 2] and evals["val_loss"].tolist() == [1.1, 0.8]


def test_read_json_of_a_missing_or_broken_file_gives_the_default(tmp_path):
    (tmp_path / "broken.json").write_text('{"a": ')
    assert runs.read_json(tmp_path, "broken.json", {}) == {}
    assert runs.read_json(tmp_path, "missing.json") is None


def test_new_run_dirs_are_unique_within_one_second(tmp_path):
    folders = [runs.new_run_dir(tmp_path, "tiny_cnn") for _ in range(3)]
    assert len({f.name for f in folders}) == 3
    assert all(f.is_dir() and f.parent == tmp_path / "runs" and "tiny_cnn" in f.name for f in folders)


def test_write_json_is_atomic_and_readable(tmp_path):
    runs.write_json(tmp_path, "x.json", {"path": tmp_path})  # default=str for paths
    assert json.loads((tmp_path / "x.json").read_text()) == {"path": str(tmp_path)}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_a_runs_name_and_note_are_kept_in_its_folder_and_default_to_empty(tmp_path):
    assert runs.read_notes(tmp_path) == {"name": "", "note": ""}
    saved = runs.write_notes(tmp_path, "  wide\n no   dropout ", "Width 64.\nOverfits by epoch 3. ")
    assert saved == {"name": "wide no dropout", "note": "Width 64.\nOverfits by epoch 3."}
    assert runs.read_notes(tmp_path) == saved
    assert len(runs.write_notes(tmp_path, "x" * 500, "")["name"]) == runs.NAME_CHARS
    (tmp_path / runs.NOTES_FILE).write_text('{"name": 3, "note": ["a"]}')  # hand-edited into nonsense
    assert runs.read_notes(tmp_path) == {"name": "", "note": ""}
