import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]


def run(*args, env_cache=None):
    import os
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if env_cache:
        env["INSPECTORS_CACHE"] = str(env_cache)
    return subprocess.run([sys.executable, "-m", "inspectors", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_scan_writes_samples_and_config_to_workspace_and_out(small_dataset, tmp_path):
    out = tmp_path / "report"
    r = run("scan", small_dataset, "--out", out, "--workers", 2, env_cache=tmp_path / "cache")
    assert r.returncode == 0, r.stderr
    assert "images that decode           40" in r.stdout
    assert "train/cat/truncated.jpg: OSError" in r.stdout
    assert "train/dog/README.txt: .txt: not an image extension" in r.stdout
    samples = pd.read_parquet(out / "samples.parquet")
    assert len(samples) == 42 and samples["ok"].sum() == 40
    assert json.loads((out / "config.json").read_text())["scan"]["workers"] == 2
    workspaces = list((tmp_path / "cache").iterdir())
    assert len(workspaces) == 1 and (workspaces[0] / "samples.parquet").exists()
    assert r.stderr == ""  # no progress bar when stderr is not a terminal


def test_progress_bar_goes_to_stderr_on_request(small_dataset, tmp_path):
    r = run("scan", small_dataset, "--progress", env_cache=tmp_path / "cache")
    assert r.returncode == 0 and "41/41" in r.stderr and "41/41" not in r.stdout


def test_json_output_and_second_scan_from_cache(small_dataset, tmp_path):
    run("scan", small_dataset, env_cache=tmp_path / "cache")
    r = run("scan", small_dataset, "--json", env_cache=tmp_path / "cache")
    summary = json.loads(r.stdout)
    facts = summary["scan"]
    assert facts["read_this_scan"] == 0 and facts["from_cache"] == 41
    assert summary["issue_counts"]["corrupt"] == 1 and summary["class_counts"]["train"] == {"cat": 12, "dog": 12}
    assert facts["class_counts"]["train"] == {"cat": 13, "dog": 12}
    assert facts["failure_kinds"] == {"OSError": 1} and facts["unsupported"] == 1


def test_no_cache_leaves_the_cache_root_empty(small_dataset, tmp_path):
    r = run("scan", small_dataset, "--no-cache", "--out", tmp_path / "o", env_cache=tmp_path / "cache")
    assert r.returncode == 0 and (tmp_path / "o" / "samples.parquet").exists()
    assert not (tmp_path / "cache").exists()


def test_usage_errors_and_nothing_to_scan_exit_2(tmp_path):
    assert run("scan", tmp_path / "nope", env_cache=tmp_path / "c").returncode == 2
    (tmp_path / "empty").mkdir()
    r = run("scan", tmp_path / "empty", env_cache=tmp_path / "c")
    assert r.returncode == 2 and "no files to scan" in r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("file,cls\nx.png,cat\n")
    r = run("scan", bad, env_cache=tmp_path / "c")
    assert r.returncode == 2 and "lacks ['path', 'label']" in r.stderr
    assert run("scan", "--workers", "x", tmp_path).returncode == 2


def test_help_explains_the_options():
    r = run("scan", "--help")
    for flag in ("--labels", "--out", "--workers", "--cache", "--no-cache", "--layout", "--max-pixel-mb",
                 "--timeout", "--json", "--progress"):
        assert flag in r.stdout


def test_cache_info_and_clear(small_dataset, tmp_path):
    run("scan", small_dataset, env_cache=tmp_path / "cache")
    info = run("cache", "info", env_cache=tmp_path / "cache")
    assert "41 cached files, 40 thumbnails" in info.stdout
    cleared = run("cache", "clear", small_dataset, env_cache=tmp_path / "cache")
    assert cleared.returncode == 0 and "removed" in cleared.stdout
    assert "no workspaces" in run("cache", "info", env_cache=tmp_path / "cache").stdout


def test_csv_manifest_scan_reports_missing_and_orphans(tmp_path):
    from tests.conftest import encode, noise_image, write
    root = tmp_path / "csvds"
    for name in ("a.png", "b.png", "orphan.png"):
        write(root / "images" / name, encode(noise_image(), "PNG"))
    (root / "labels.csv").write_text("path,label,split\nimages/a.png,cat,train\nimages/b.png,dog,val\n"
                                     "images/gone.png,dog,val\n")
    r = run("scan", root / "labels.csv", "--json", env_cache=tmp_path / "cache")
    summary = json.loads(r.stdout)
    facts = summary["scan"]
    assert (facts["missing"], facts["orphans"], facts["decoded_ok"]) == (1, 1, 3)
    assert summary["issue_counts"]["missing_file"] == 1 and summary["issue_counts"]["orphan_file"] == 1


def test_fail_on_gates_until_findings_are_kept_or_known(small_dataset, tmp_path):
    import shutil

    from inspectors import review, workspace
    shutil.copy(small_dataset / "train" / "cat" / "cat_0.png", small_dataset / "test" / "cat" / "leaked.png")
    cache = tmp_path / "cache"
    r = run("scan", small_dataset, "--fail-on", "split_leak", "--out", tmp_path / "first", env_cache=cache)
    assert r.returncode == 1 and "1 finding(s) of split_leak are new" in r.stdout
    assert run("scan", small_dataset, "--fail-on", "split_leak", "--baseline", tmp_path / "first" / "findings.csv",
               env_cache=cache).returncode == 0
    ws = workspace.workspace_dir(small_dataset, None, cache)
    review.set_mark(ws, "test/cat/leaked.png", "keep")
    assert run("scan", small_dataset, "--fail-on", "split_leak", env_cache=cache).returncode == 0
    assert run("scan", small_dataset, "--fail-on", "corrupt", env_cache=cache).returncode == 1
    assert run("scan", small_dataset, "--fail-on", "nonsense", env_cache=cache).returncode == 2


def test_against_finds_copies_in_another_dataset(small_dataset, tmp_path):
    import shutil
    other = tmp_path / "pretrain"
    (other / "misc").mkdir(parents=True)
    shutil.copy(small_dataset / "test" / "dog" / "dog_2.png", other / "misc" / "x.png")
    r = run("scan", small_dataset, "--against", other, "--json", env_cache=tmp_path / "cache")
    summary = json.loads(r.stdout)
    assert summary["issue_counts"]["split_leak"] == 1 and summary["leak_matrix"]["other"]["test"] == 1


def test_set_overrides_a_threshold_and_is_recorded(small_dataset, tmp_path):
    r = run("scan", small_dataset, "--set", "duplicates.radius=6", "--out", tmp_path / "o", env_cache=tmp_path / "c")
    assert r.returncode == 0
    assert json.loads((tmp_path / "o" / "config.json").read_text())["duplicates"]["radius"] == 6
    assert run("scan", small_dataset, "--set", "duplicates.nope=1", env_cache=tmp_path / "c").returncode == 2


def test_cache_commands_find_the_workspace_of_a_folder_holding_its_own_manifest(tmp_path):
    """`scan FOLDER` reads FOLDER/labels.csv and keys its workspace by it; `cache info|clear FOLDER` must
    find that workspace, not one keyed by the folder alone."""
    from tests.conftest import encode, noise_image, write
    root = tmp_path / "csvds"
    write(root / "images" / "a.png", encode(noise_image(), "PNG"))
    (root / "labels.csv").write_text("path,label\nimages/a.png,cat\n")
    cache = tmp_path / "cache"
    assert run("scan", root, env_cache=cache).returncode == 0
    assert "1 cached files" in run("cache", "info", root, env_cache=cache).stdout
    cleared = run("cache", "clear", root, env_cache=cache)
    assert "removed" in cleared.stdout and not list(cache.glob("csvds-*"))
    assert "no workspace for" in run("cache", "info", root, env_cache=cache).stdout
