"""The copy benchmark's scorer (benchmarks/_copies_score.py) on a truth and findings built by hand."""

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import _copies_score as S  # noqa: E402


def row(path, split, window, role="base", kind="base", original="", photo="grass", group="tuning", changed=False):
    return {"path": path, "split": split, "photo": photo, "group": group, "x0": window[0], "y0": window[1],
            "x1": window[2], "y1": window[3], "changed": changed, "mirrored": False, "role": role, "kind": kind,
            "original": original, "source": "", "source_key": "", "near_source": ""}


TRUTH = pd.DataFrame([
    row("train/a.jpg", "train", (0, 0, 100, 100)),
    row("test/a_crop.jpg", "test", (0, 0, 100, 90), "copy", "crop", "train/a.jpg"),
    row("test/a_moved.jpg", "test", (60, 0, 160, 100), "negative", "neighbour", "train/a.jpg"),
    row("train/b.jpg", "train", (0, 300, 100, 400)),
    row("test/b_hue.jpg", "test", (0, 300, 100, 400), "copy", "hue", "train/b.jpg", group="tuning"),
    row("train/c.jpg", "train", (0, 0, 100, 100), photo="flower", group="held_out"),
    row("test/c_half.jpg", "test", (30, 0, 130, 100), photo="flower", group="held_out"),  # 0.7: ambiguous
])


def findings(rows):
    return pd.DataFrame(rows, columns=["path", "issue", "score", "group", "detail"]).fillna("")


def test_a_leaked_copy_counts_only_when_grouped_and_flagged_and_false_pairs_lower_precision():
    found = findings([
        ("train/a.jpg", "near_duplicate", 1, "N1", ""), ("test/a_crop.jpg", "near_duplicate", 1, "N1", ""),
        ("test/a_moved.jpg", "near_duplicate", 1, "N1", ""), ("test/a_crop.jpg", "split_leak", 1, "N1", ""),
        ("test/a_moved.jpg", "split_leak", 1, "N1", ""),
        ("train/b.jpg", "near_duplicate", 1, "N2", ""), ("test/b_hue.jpg", "near_duplicate", 1, "N2", ""),
        ("train/c.jpg", "near_duplicate", 1, "N3", ""), ("test/c_half.jpg", "near_duplicate", 1, "N3", ""),
        ("test/c_half.jpg", "split_leak", 1, "N3", ""),
    ])
    result = S.score(TRUTH, found)
    recall = result["recall"].set_index("path")
    assert recall.loc["test/a_crop.jpg", "found"] and recall.loc["test/b_hue.jpg", "grouped"]
    assert not recall.loc["test/b_hue.jpg", "found"]  # a train->test copy not flagged split_leak
    assert list(result["negatives"]["grouped"]) == [True]
    assert S.precision(result["pairs"][result["pairs"]["group"] == "tuning"])[:3] == (0.5, 2, 2)
    assert S.precision(result["pairs"][result["pairs"]["group"] == "held_out"])[1:] == (0, 0, 1)
    assert (result["leak_flagged"], result["leak_true"], result["leak_ambiguous"]) == (3, 1, 1)
    assert result["false_leaks"] == ["test/a_moved.jpg"]
    assert (result["leak_truth"], result["leak_truth_found"], result["largest_group"]) == (2, 1, 3)


def test_a_grouped_file_missing_from_the_truth_is_an_error_naming_it():
    found = findings([("train/a.jpg", "near_duplicate", 1, "N1", ""), ("train/z.jpg", "near_duplicate", 1, "N1", "")])
    try:
        S.score(TRUTH, found)
    except ValueError as e:
        assert "train/z.jpg" in str(e)
    else:
        raise AssertionError("no error")
