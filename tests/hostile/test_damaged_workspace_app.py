"""Damaged workspace files in the app: every page still renders, without an exception box, and one clear
message names the damaged file. Report files (samples.parquet, findings.csv, summary.json) are rebuilt by
scanning again; config.json (the command line's settings) and the scan cache are rebuilt on request (deleted,
or Scan); review marks are precious: a damaged review.sqlite is never written, the pages go on with read-only
marks."""

import shutil

import pytest

from inspectors import review
from inspectors.config import Config
from inspectors.dataset import load_dataset
from inspectors.run import scan_and_inspect
from inspectors.scan import read_samples
from inspectors.workspace import workspace_dir
from tests.hostile.helpers import tiny_images
from tests.ui import lab_runs
from tests.ui.conftest import REPO
from ui import labels

PAGES = ["pages/overview.py", "pages/browse.py", "pages/duplicates.py", "pages/integrity.py", "pages/balance.py",
         "pages/sizes.py", "pages/quality.py", "pages/review.py", "pages/baselines.py", "pages/label_issues.py",
         "pages/human_baseline.py"]
GARBAGE = bytes(range(256)) * 8  # not UTF-8, not JSON, not SQLite, not Parquet
RUN = "runs/20260101-000000-tiny_cnn"
CHECK = "runs/20260101-000100-check-tiny_cnn"
# the report files a scan writes: damaged, the app scans again (they are derived, and the cache makes it quick)
REBUILT = ["samples.parquet", "findings.csv", "summary.json"]
# left as they are, the pages going on without them (config.json holds the command line's settings: the scan
# waits until it is deleted rather than forget them)
KEPT = ["config.json", "review.sqlite", "scan_cache.sqlite", f"{RUN}/status.json", f"{RUN}/config.json",
        f"{RUN}/metrics.jsonl", f"{CHECK}/checks.json", f"{RUN}/fixed_batch.json", "label_issues/facts.json",
        "label_issues/predictions.csv", "label_issues/findings.csv", "human_baseline.json", "tolerance.json"]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """A scanned dataset whose workspace holds every kind of file: marks, runs, checks, label issues, a
    human sheet, a tolerance result. Each test damages a copy of it."""
    root = tmp_path_factory.mktemp("damaged")
    data = tiny_images(root / "ds", 24, classes=("a", "b"), side=16)
    tiny_images(data, 8, classes=("a", "b"), side=16, seed=1, split="val")
    cache = root / "cache"
    workspace = workspace_dir(data, None, cache)
    scan_and_inspect(load_dataset(data), Config(), workspace)
    samples = read_samples(workspace)
    val = samples[samples["split"] == "val"]
    args = (list(val["path"]), ["a", "b"], list(val["label"]))
    lab_runs.finished_run(workspace, RUN.split("/")[1], *args)
    lab_runs.add_checks(lab_runs.finished_run(workspace, CHECK.split("/")[1], *args, kind="check"))
    lab_runs.label_issue_results(workspace, args[0], args[2], ["a", "b"])
    (workspace / "tolerance.json").write_text('{"model": "tiny_cnn", "rows": [{"input_size": 16, "val_acc": 0.5, '
                                              '"val_loss": 0.7, "train_loss": 0.6, "run": "x"}]}')
    review.set_mark(workspace, samples["path"].iloc[0], "remove")
    pool = labels.candidates(samples)
    labels.save_sheet(workspace, labels.answer_sheet(labels.draw_sheet(pool, 3, 0), {}))
    return data, cache, workspace


@pytest.fixture
def damaged_copy(scanned, tmp_path, monkeypatch):
    """damage(name) garbles one file of a private copy of the workspace; returns (AppTest, workspace)."""
    from streamlit.testing.v1 import AppTest
    data, cache, workspace = scanned
    private = tmp_path / "cache"
    shutil.copytree(cache, private)
    ws = private / workspace.name
    monkeypatch.setenv("INSPECTORS_CACHE", str(private))

    def damage(name: str):
        (ws / name).write_bytes(GARBAGE)
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        at.session_state["dataset_path"] = str(data)
        at.session_state["labels_path"] = ""
        return at, ws
    return damage


def messages(at) -> list[str]:
    """Alert boxes of the whole app, sidebar included."""
    return [str(e.value) for kind in ("error", "warning", "info", "success") for e in getattr(at, kind)]


def naming(at, name: str) -> list[str]:
    return [m for m in messages(at) if name in m.replace("\\", "")]  # md() escapes the path's . and _


def every_page(at, name: str, named_on_every_page: bool) -> list[str]:
    """Problems seen on the pages: an exception box, or not one message naming the damaged file (on the first
    page only, when the file was rebuilt there)."""
    problems = []
    for number, page in enumerate(PAGES):
        at.run() if number == 0 else at.switch_page(page).run()  # the first run opens the Overview
        if at.exception:
            problems.append(f"{page}: {at.exception[0].message} {at.exception[0].stack_trace[-3:]}")
        wanted = 1 if named_on_every_page or number == 0 else 0
        if len(naming(at, name)) != wanted:
            problems.append(f"{page}: {len(naming(at, name))} messages name {name}, not {wanted}: {messages(at)}")
    return problems


@pytest.mark.parametrize("name", REBUILT)
def test_a_damaged_report_file_is_rebuilt_and_every_page_works(damaged_copy, name):
    at, ws = damaged_copy(name)
    problems = every_page(at, name, named_on_every_page=False)
    assert not problems, "\n".join(problems)
    assert (ws / name).read_bytes() != GARBAGE  # scanned again


@pytest.mark.parametrize("name", KEPT)
def test_a_damaged_file_is_named_once_left_as_it_is_and_every_page_works(damaged_copy, name):
    at, ws = damaged_copy(name)
    problems = every_page(at, name, named_on_every_page=True)
    assert not problems, "\n".join(problems)
    assert (ws / name).read_bytes() == GARBAGE  # never overwritten behind the user's back


def test_scan_rebuilds_a_damaged_scan_cache(damaged_copy):
    at, ws = damaged_copy("scan_cache.sqlite")
    at.run()
    next(b for b in at.sidebar.button if b.label == "Scan").click().run()
    assert not at.exception, at.exception
    if (ws / "scan_cache.sqlite").read_bytes() == GARBAGE:
        assert naming(at, "scan_cache.sqlite"), messages(at)  # at least it says which file stops the scan
        pytest.xfail("the scan does not yet set a damaged cache aside (issue 13 item 6, helper h13a's part)")
    assert not naming(at, "scan_cache.sqlite"), messages(at)
    at.switch_page("pages/browse.py").run()
    assert not at.exception and not [c for c in at.caption if "no image" in str(c.value)]  # thumbnails are back


def test_a_damaged_review_store_takes_no_marks_and_keeps_its_bytes(damaged_copy):
    at, ws = damaged_copy("review.sqlite")
    at.run()
    at.switch_page("pages/browse.py").run()
    at.checkbox(key=f"browse_sel::{read_samples(ws)['path'].iloc[0]}").check().run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "browse_sel_apply"], "a mark could be applied"
    assert any("read-only" in m for m in messages(at))
    assert (ws / "review.sqlite").read_bytes() == GARBAGE
