import dataclasses
import json

import pandas as pd
import pytest

from inspectors import findings, jobs, outliers
from inspectors import run as run_module
from inspectors.__main__ import build_parser, effective_config
from inspectors.config import Config, changed_settings, config_from_dict, config_to_dict, workspace_config
from inspectors.dataset import load_dataset
from inspectors.schema import FINDING_COLUMNS
from tests.inspectors.tables import appearance, samples
from tests.inspectors.test_quality import pictures, sharp


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


def six_smooth_fields():
    """40 sharp drawings and 6 smooth colour fields in one class: with k = 10 the fields have too few look-alikes
    (outliers, so not judged for blur); with k = 5 they are a kind of picture of their own, blurrier than their
    class."""
    fields = [{"path": f"field{i}.png", "label": "shapes", "sharpness": 3e-4 * (1 + i / 20),
               "colour_entropy": 9.0 + i * 0.05} for i in range(6)]
    return pictures(sharp(40) + fields)


def test_set_outliers_k_reaches_quality_as_well_as_the_outlier_inspector():
    fields = [f"field{i}.png" for i in range(6)]
    found, _ = run_module.run(six_smooth_fields(), Config())
    assert sorted(found["path"]) == fields and set(found["issue"]) == {"outlier"}
    config = effective_config(build_parser().parse_args(["scan", "DATA", "--set", "outliers.k=5"]))
    found, _ = run_module.run(six_smooth_fields(), config)
    assert sorted(found["path"]) == fields and set(found["issue"]) == {"blurry"}


def test_the_outlier_search_runs_once_per_run(monkeypatch):
    calls = []
    judge = outliers.judge
    monkeypatch.setattr(outliers, "judge", lambda *args, **kw: calls.append(1) or judge(*args, **kw))
    found, _ = run_module.run(six_smooth_fields(), Config())
    assert "outlier" in set(found["issue"]) and len(calls) == 1


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


def test_a_workspace_of_an_older_version_keeps_its_settings_without_the_retired_ones():
    data = config_to_dict(Config())
    data["duplicates"].update(crowd_neighbours=12, radius=6)  # written before the crowd came from the candidates
    assert config_from_dict(data).duplicates.radius == 6


@pytest.mark.parametrize(("item", "message"), [
    ("duplicates.radius", "--set duplicates.radius: expected SECTION.KEY=VALUE, e.g. --set duplicates.radius=6"),
    ("duplicates.radius=", "--set duplicates.radius=: expected SECTION.KEY=VALUE"),
    ("radius=6", "--set radius=6: expected SECTION.KEY=VALUE"),
    ("duplicates.nope=1", "--set duplicates.nope=1: no such setting"),
    ("duplicates.radius=six", "--set duplicates.radius=six: duplicates.radius takes a whole number, not 'six'"),
    ("duplicates.radius=6.5", "duplicates.radius takes a whole number, not '6.5'"),
    ("quality.dark_p99=true", "quality.dark_p99 takes a number, not 'true'"),
])
def test_a_set_without_a_usable_value_says_what_it_expected(item, message):
    with pytest.raises(ValueError) as caught:
        effective_config(build_parser().parse_args(["scan", "DATA", "--set", item]))
    assert message in str(caught.value)


def test_set_takes_numbers_strings_and_lists_as_the_setting_wants():
    items = ["quality.dark_p99=1", "load.layout=csv", 'load.extensions=[".png"]']
    config = effective_config(build_parser().parse_args(["scan", "DATA", *[x for i in items for x in ("--set", i)]]))
    assert (config.quality.dark_p99, config.load.layout, config.load.extensions) == (1.0, "csv", (".png",))


def test_a_workspaces_settings_are_its_config_json_else_the_defaults(tmp_path):
    assert workspace_config(tmp_path) == Config()
    config = effective_config(build_parser().parse_args(["scan", "DATA", "--set", "duplicates.radius=6"]))
    run_module.write_reports(tmp_path, findings.empty(), {}, config)
    assert workspace_config(tmp_path) == config
    assert changed_settings(config) == {"duplicates.radius": 6} and changed_settings(Config()) == {}
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json: unreadable settings"):
        workspace_config(tmp_path)


def test_a_scan_records_its_status_in_a_job_folder_of_the_workspace(small_dataset, tmp_path):
    ws = tmp_path / "ws"
    config = dataclasses.replace(Config(), scan=dataclasses.replace(Config().scan, workers=1))
    result, found, _, _ = run_module.scan_and_inspect(load_dataset(small_dataset), config, ws)
    made = jobs.job_folders(ws, "scan")
    status = jobs.read(made[0])
    assert len(made) == 1 and (status["command"], status["state"]) == ("scan", "finished")
    assert status["result"]["files"] == len(result.samples) and status["result"]["findings"] == len(found)


def test_a_scan_that_fails_says_so_in_its_status(small_dataset, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("an inspector broke")
    monkeypatch.setattr(run_module, "run", broken)
    config = dataclasses.replace(Config(), scan=dataclasses.replace(Config().scan, workers=1))
    with pytest.raises(RuntimeError):
        run_module.scan_and_inspect(load_dataset(small_dataset), config, tmp_path / "ws")
    status = jobs.read(jobs.job_folders(tmp_path / "ws", "scan")[0])
    assert (status["state"], status["error"]) == ("failed", "RuntimeError: an inspector broke")


def test_a_scan_keeps_its_pair_distances_for_the_app_and_they_equal_a_new_measure(small_dataset, tmp_path):
    from inspectors import pair_distances
    from inspectors.scan import read_samples, write_samples

    ws = tmp_path / "ws"
    config = dataclasses.replace(Config(), scan=dataclasses.replace(Config().scan, workers=1))
    _, _, _, written = run_module.scan_and_inspect(load_dataset(small_dataset), config, ws)
    assert ws / pair_distances.FILE in written
    kept = pair_distances.read(ws, config.duplicates)
    fresh = pair_distances.pair_distances(read_samples(ws), config.duplicates)
    assert kept is not None and kept.pictures == fresh.pictures and kept.reason == fresh.reason
    pd.testing.assert_frame_equal(kept.pairs, fresh.pairs)
    pd.testing.assert_frame_equal(kept.histogram, fresh.histogram)
    other = dataclasses.replace(config.duplicates, min_detail=0.95)
    assert pair_distances.read(ws, other) is None  # other settings: measured again
    write_samples(read_samples(ws).head(5), ws)
    assert pair_distances.read(ws, config.duplicates) is None  # another samples table: measured again
