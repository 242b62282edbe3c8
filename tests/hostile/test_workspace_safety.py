"""`cache info|clear` touch only workspaces: a folder kept under the cache root that holds anything else (a
dataset, notes, a workspace someone put their own files in) is never listed as one and never deleted."""

import json

from inspectors import workspace
from inspectors.__main__ import main
from tests.hostile.helpers import fingerprint, tiny_images


def scanned(tmp_path, name="ds"):
    """A dataset scanned into tmp_path/cache; returns (dataset root, cache root, its workspace)."""
    ds = tiny_images(tmp_path / name, 6)
    cache = tmp_path / "cache"
    assert main(["scan", str(ds), "--cache", str(cache), "--quiet", "--workers", "1"]) == 0
    return ds, cache, workspace.workspace_dir(ds, None, cache)


def users_folders(cache):
    """What a user might keep under the folder they pass as --cache: a dataset, notes, a folder that holds a
    file named like a workspace's beside their own."""
    tiny_images(cache / "my_photos", 3)
    (cache / "notes").mkdir()
    (cache / "notes" / "todo.txt").write_text("buy milk\n")
    (cache / "mixed").mkdir()
    (cache / "mixed" / "config.json").write_text("{}")
    (cache / "mixed" / "holiday.jpg").write_bytes(b"not ours")
    return {name: fingerprint(cache / name) for name in ("my_photos", "notes", "mixed")}


def test_cache_clear_removes_workspaces_and_leaves_every_other_folder_as_it_was(tmp_path, capsys):
    _, cache, ws = scanned(tmp_path)
    before = users_folders(cache)
    assert main(["cache", "clear", "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert not ws.exists() and f"removed {ws}" in out
    assert {name: fingerprint(cache / name) for name in before} == before
    assert "left alone: 3 folder(s) that are not workspaces" in out


def test_cache_info_lists_workspaces_with_their_dataset_and_no_other_folder(tmp_path, capsys):
    ds, cache, ws = scanned(tmp_path)
    users_folders(cache)
    capsys.readouterr()
    assert main(["cache", "info", "--cache", str(cache)]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line for line in lines if line.startswith("  ")]
    assert len(listed) == 1 and listed[0].startswith(f"  {ws.name}: dataset {ds}, 6 cached files")
    assert not any(name in line for line in listed for name in ("my_photos", "notes", "mixed"))


def test_a_workspace_records_the_dataset_it_belongs_to(tmp_path):
    ds, _, ws = scanned(tmp_path)
    marker = json.loads((ws / workspace.MARKER).read_text())
    assert marker["dataset"] == str(ds) and marker["labels"] is None


def test_a_workspace_made_before_markers_is_recognised_by_its_files(tmp_path, capsys):
    _, cache, ws = scanned(tmp_path)
    (ws / workspace.MARKER).unlink()
    (ws / "runs" / "tiny_cnn-1").mkdir(parents=True)
    (ws / "runs" / "tiny_cnn-1" / "metrics.jsonl").write_text("{}\n")
    assert workspace.is_workspace(ws)
    assert main(["cache", "clear", "--cache", str(cache)]) == 0
    assert not ws.exists()


def test_a_workspace_holding_a_users_file_is_not_cleared(tmp_path, capsys):
    ds, cache, ws = scanned(tmp_path)
    (ws / "my_thesis.tex").write_text("months of work")
    before = fingerprint(ws)
    assert main(["cache", "clear", str(ds), "--cache", str(cache)]) == 2
    assert fingerprint(ws) == before
    assert main(["cache", "clear", "--cache", str(cache)]) == 0
    assert fingerprint(ws) == before and "left alone: 1 folder(s)" in capsys.readouterr().out


def test_cache_clear_of_one_dataset_removes_only_its_workspace(tmp_path, capsys):
    ds, cache, ws = scanned(tmp_path)
    _, _, other = scanned(tmp_path, "other")
    assert main(["cache", "clear", str(ds), "--cache", str(cache)]) == 0
    assert not ws.exists() and workspace.is_workspace(other)
