import json

import pandas as pd
import pytest

from inspectors import run as run_module
from inspectors.config import Config, config_from_dict, config_to_dict
from inspectors.schema import FINDING_COLUMNS
from tests.inspectors.tables import appearance, samples


def test_every_registered_inspector_runs_and_the_summary_has_its_facts():
    table = samples([{"path": f"cat/{i}.png"} for i in range(20)] + [
        {"path": "cat/bad.png", "ok": False, "error": "OSError: broken"},
        {"path": "cat/copy.png", "pixel_hash": "p0"}])
    found, summary = run_module.run(table, Config())
    assert list(found.columns) == FINDING_COLUMNS
    assert summary["issue_counts"]["corrupt"] == 1 and summary["issue_counts"]["exact_duplicate"] == 2
    for key in ("class_counts", "leak_matrix", "expected_init_loss", "channel_mean", "shortcuts", "sizes",
                "mode_families", "corrupt_kinds"):
        assert key in summary
    assert set(summary["inspector_seconds"]) == set(run_module.INSPECTORS)
    json.dumps(summary)  # the summary is plain JSON


def test_against_another_dataset_finds_leaks_but_reports_only_ours():
    ours = samples([{"path": "test/a.png", "split": "test", "pixel_hash": "x"},
                    {"path": "test/b.png", "split": "test"}])
    other = samples([{"path": "a.png", "split": "", "pixel_hash": "x"}]
                    + [{"pixel_hash": f"o{i}", "phash": 977 * i + 13, "appearance": appearance(100 + i)}
                       for i in range(5)])
    found, summary = run_module.run(ours, Config(), against=other)
    assert sorted(zip(found["path"], found["issue"], strict=True)) == [("test/a.png", "exact_duplicate"),
                                                                       ("test/a.png", "split_leak")]
    assert summary["leak_matrix"]["other"]["test"] == 1
    assert summary["class_counts"] == {"test": {"cat": 2}}  # the other dataset does not count as ours


def test_findings_csv_neutralises_formulas_and_reads_back(tmp_path):
    found = pd.DataFrame({"path": ["=cmd.png", "ok.png"], "issue": ["corrupt", "corrupt"], "score": [1.0, 1.0],
                          "group": ["", ""], "detail": ["@SUM(A1)", "fine"]})
    path = run_module.write_findings(found, tmp_path)
    text = path.read_text()
    assert "'=cmd.png" in text and "'@SUM(A1)" in text
    back = run_module.read_findings(path)
    assert list(back["path"]) == ["=cmd.png", "ok.png"] and list(back["detail"]) == ["@SUM(A1)", "fine"]


def test_config_round_trips_and_rejects_typos():
    data = config_to_dict(Config())
    assert config_from_dict(data) == Config()
    data["duplicates"]["radiuss"] = 3
    with pytest.raises(ValueError, match="radiuss"):
        config_from_dict(data)
