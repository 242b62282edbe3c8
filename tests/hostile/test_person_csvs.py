"""Formula injection: every CSV a person opens in a spreadsheet (findings, the baselines' val_predictions.csv
and label-issue predictions.csv, the app's exports) goes through one writer (inspectors/sheets.py) that
neutralises cells taken from class names and paths, and the tools read those files back exactly. Manifests
are for the tools: written exactly."""

import ast
import csv

import pandas as pd
import pytest

import inspectors.scan
from baselines.__main__ import main as baselines
from inspectors.dataset import load_dataset
from inspectors.run import read_findings, write_findings
from inspectors.sheets import manifest_text, read_sheet, sheet_text, write_sheet
from tests.hostile.helpers import REPO, tiny_images
from ui import labels, tables

FORMULAS = ['=HYPERLINK("http://x")', "@SUM(A1)", "+1", "-1"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TINY = ["--input-size", "16", "--width", "4", "--batch-size", "8", "--threads", "1", "--max-steps", "2"]
PRODUCT = ["inspectors", "baselines", "ui", "pages", "app.py"]


def raw_cells(path) -> list[str]:
    """Every cell as a spreadsheet reads it: the CSV's text, no pandas."""
    with open(path, newline="", encoding="utf-8") as f:
        return [cell for row in csv.reader(f) for cell in row]


def is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def assert_no_formula(path) -> None:
    """No text cell starts with a formula trigger (a number such as -0.5 in a number column is not text)."""
    runs = [cell for cell in raw_cells(path) if cell.startswith(TRIGGERS) and not is_number(cell)]
    assert not runs, f"{path.name}: cells a spreadsheet would run: {runs[:5]}"


@pytest.fixture
def formula_classes(tmp_path, monkeypatch):
    """A dataset whose four classes are named like formulas (a CSV manifest: `/` cannot be in a folder name),
    train and val; a cache of the test's own and one scan worker."""
    monkeypatch.setattr(inspectors.scan, "worker_count", lambda requested: 1)
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    root = tiny_images(tmp_path / "ds", 32, classes=("a", "b", "c", "d"), side=16)
    rows = []
    for i, png in enumerate(sorted(root.rglob("*.png"))):
        rows.append({"path": png.relative_to(root).as_posix(), "label": FORMULAS[i % 4],
                     "split": "val" if i % 4 == i // 4 % 4 else "train"})
    manifest = tmp_path / "labels.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    assert sorted(load_dataset(root, manifest).samples["label"].unique()) == sorted(FORMULAS)
    return root, manifest


def test_val_predictions_csv_cannot_run_a_formula_and_reads_back_exactly(formula_classes, tmp_path):
    root, manifest = formula_classes
    run = tmp_path / "run"
    assert baselines(["train", str(root), "--labels", str(manifest), "--out", str(run), *TINY]) == 0
    assert_no_formula(run / "val_predictions.csv")
    back = read_sheet(run / "val_predictions.csv", dtype=str)
    assert set(back["label"]) == set(FORMULAS) and set(back["predicted"]) <= set(FORMULAS)


def test_label_issue_predictions_and_findings_cannot_run_a_formula(formula_classes, tmp_path):
    root, manifest = formula_classes
    cache = tmp_path / "cache"
    assert baselines(["label-issues", str(root), "--labels", str(manifest), "--folds", "2", *TINY]) == 0
    folder = next(cache.iterdir()) / "label_issues"
    assert_no_formula(folder / "predictions.csv")
    assert_no_formula(folder / "findings.csv")
    found = labels.read_label_issues(folder.parent)  # what the Label issues page reads
    assert set(found["predictions"]["label"]) == set(FORMULAS)


@pytest.mark.parametrize("value", FORMULAS + ["'-1", "''=x", "'plain", "=", "\tx", "plain"])
def test_a_sheet_gives_back_every_cell_exactly(tmp_path, value):
    table = pd.DataFrame({"path": [value, "train/a/x.png"], "label": [value, value], "score": [-1.0, 0.5]})
    written = write_sheet(table, tmp_path / "t.csv")
    assert_no_formula(written)
    assert value in ("plain", "'plain") or value not in raw_cells(written)  # the label column is text: quoted
    back = read_sheet(written, dtype={"path": str, "label": str})
    assert back["path"].tolist() == [value, "train/a/x.png"] and back["label"].tolist() == [value, value]
    assert back["score"].tolist() == [-1.0, 0.5]  # numbers stay numbers


def test_findings_csv_gives_back_paths_that_start_with_a_quote(tmp_path):
    found = pd.DataFrame({"path": ["'=a.png", "-1/b.png"], "issue": ["corrupt", "dark"], "score": [1.0, 0.5],
                          "group": ["", ""], "detail": ["'+x", "@y"]})
    back = read_findings(write_findings(found, tmp_path))
    assert back["path"].tolist() == ["'=a.png", "-1/b.png"] and back["detail"].tolist() == ["'+x", "@y"]


def test_the_apps_exports_cannot_run_a_formula(tmp_path):
    marks = pd.DataFrame({"path": ["-1/x.png"], "decision": ["relabel"], "new_label": ['=HYPERLINK("http://x")'],
                          "note": ["@SUM(A1)"], "updated": [0.0]})
    view = pd.DataFrame({"path": ["+1/y.png"], "label": pd.Categorical(["-1"]), "issues": ["dark"], "width": [-3]})
    for name, table in (("marks", marks), ("view", view)):
        (tmp_path / f"{name}.csv").write_text(sheet_text(table))
        assert_no_formula(tmp_path / f"{name}.csv")
    assert raw_cells(tmp_path / "view.csv")[-1] == "-3"  # a number is not a formula


def test_a_cleaned_manifest_is_written_exactly(tmp_path):
    samples = pd.DataFrame({"path": ["a/1.png", "b/2.png", "c/3.png"], "label": ["-1", "'-1", '=HYPERLINK("x")'],
                            "split": ["train", "@val", ""], "ok": True})
    manifest = tables.cleaned_manifest(samples, pd.DataFrame(columns=["path", "decision", "new_label"]))
    (tmp_path / "m.csv").write_text(manifest_text(manifest))
    with open(tmp_path / "m.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["label"] for r in rows] == ["-1", "'-1", '=HYPERLINK("x")'] and rows[1]["split"] == "@val"


def test_no_module_writes_a_csv_except_the_one_writer():
    """to_csv / csv.writer anywhere else would bypass the neutralising (or the exact manifest) writer."""
    found = []
    for name in PRODUCT:
        path = REPO / name
        for source in [path] if path.is_file() else sorted(path.rglob("*.py")):
            if source.relative_to(REPO).as_posix() == "inspectors/sheets.py":
                continue
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Attribute) and node.attr in ("to_csv", "writer", "DictWriter"):
                    found.append(f"{source.relative_to(REPO)}:{node.lineno} .{node.attr}")
    assert not found, found
