"""The pure table helpers behind the pages (no Streamlit needed)."""

import numpy as np
import pandas as pd

from tests.inspectors.tables import samples
from ui import tables


def test_issue_names_read_as_words_and_files_keep_the_vocabulary():
    assert tables.issue_name("near_duplicate") == "near duplicate"
    table = pd.DataFrame({"issues": ["exact_duplicate, split_leak", ""], "path": ["a_b.png", "c.png"]})
    shown = tables.readable(table)
    assert list(shown["issues"]) == ["exact duplicate, split leak", ""]
    assert list(shown["path"]) == ["a_b.png", "c.png"] and table["issues"][0] == "exact_duplicate, split_leak"


def test_issue_table_names_the_page_to_look_at():
    counts = pd.Series({"near_duplicate": 3, "odd_size": 1, "dark": 2})
    out = tables.issue_table(counts, {"near_duplicate": "duplicates", "odd_size": "sizes", "dark": "quality"})
    assert out.to_dict("list") == {"issue": ["near duplicate", "odd size", "dark"], "files": [3, 1, 2],
                                   "where to look": ["Duplicates", "Sizes", "Quality & outliers"]}


def test_whole_number_columns_get_whole_number_bins():
    table = samples([{"width": w} for w in (32, 32, 33, 40, 48)])
    dist = tables.size_distribution(table, "width")
    assert list(dist["bin"]) == [str(w) for w in range(32, 49)]  # 17 values: one bin each
    assert dist["count"].sum() == 5 and list(dist.loc[dist["bin"] == "32", "count"]) == [2]


def test_wide_whole_number_ranges_bin_on_whole_numbers():
    table = samples([{"width": w} for w in range(10, 1000, 7)])
    dist = tables.size_distribution(table, "width", bins=20)
    assert len(dist) <= 20 and dist["count"].sum() == len(table)
    assert (dist["bin_left"] == dist["bin_left"].astype(int)).all()
    assert list(dist["bin_left"][1:]) == list(dist["bin_right"][:-1] + 1)  # contiguous, inclusive ranges
    assert dist["bin"].iloc[0].startswith("10–")


def test_integer_edges_cover_the_range_without_empty_widths():
    edges = tables.integer_edges(1, 10_000, 40, log=True)
    assert edges[0] == 1 and edges[-1] == 10_001 and (np.diff(edges) >= 1).all() and len(edges) <= 41


def test_fractional_columns_keep_the_inspectors_bins():
    table = samples([{"width": w, "height": 64} for w in (32, 64, 128)])
    dist = tables.size_distribution(table, "aspect", bins=4)
    assert len(dist) == 4 and dist["count"].sum() == 3 and dist["bin"].iloc[0].startswith("0.5")


def test_filter_groups_keeps_what_the_choice_names():
    groups = pd.DataFrame({"group": ["E1", "N2", "N3"], "kind": ["exact", "near", "near"],
                           "conflicting": [True, False, False], "leaks": [False, True, False]})
    assert list(tables.filter_groups(groups, "all")["group"]) == ["E1", "N2", "N3"]
    assert list(tables.filter_groups(groups, "conflicting labels")["group"]) == ["E1"]
    assert list(tables.filter_groups(groups, "leaks")["group"]) == ["N2"]
    assert list(tables.filter_groups(groups, "near")["group"]) == ["N2", "N3"]


def test_the_cleaned_manifest_drops_removals_and_applies_relabels():
    table = samples([{"path": "a.png", "label": "cat"}, {"path": "b.png", "label": "cat"},
                     {"path": "c.png", "label": "dog"}, {"path": "d.png", "ok": False}, {"path": "/abs/e.png"}])
    marks = pd.DataFrame({"path": ["b.png", "c.png"], "decision": ["remove", "relabel"], "new_label": [None, "cat"]})
    out = tables.cleaned_manifest(table, marks)
    assert out.to_dict("list") == {"path": ["./a.png", "./c.png", "/abs/e.png"], "label": ["cat", "cat", "cat"],
                                   "split": ["train", "train", "train"]}
    assert len(tables.cleaned_manifest(table, marks.head(0))) == 4


def test_with_issues_adds_each_files_issues_and_worst_score_in_sample_order():
    table = pd.DataFrame({"path": ["c.png", "a.png", "b.png"], "label": ["x", "y", "x"]})
    found = pd.DataFrame({"path": ["a.png", "a.png", "c.png", "gone.png"], "issue": ["split_leak", "exact_duplicate",
                                                                                      "dark", "missing_file"],
                          "score": [0.2, 0.9, 0.5, 1.0]})
    out = tables.with_issues(table, found)
    assert list(out["path"]) == ["c.png", "a.png", "b.png"]
    assert list(out["issues"]) == ["dark", "exact_duplicate, split_leak", ""]
    assert list(out["worst_score"]) == [0.5, 0.9, 0.0]


def test_with_issues_on_a_dataset_without_findings_gives_every_file_none():
    out = tables.with_issues(pd.DataFrame({"path": ["a.png", "b.png"]}),
                             pd.DataFrame({"path": [], "issue": [], "score": []}))
    assert list(out["issues"]) == ["", ""] and list(out["worst_score"]) == [0.0, 0.0]


def test_the_issue_filter_matches_whole_issue_names():
    table = tables.with_issues(pd.DataFrame({"path": ["a", "b", "c"], "split": ["train"] * 3, "label": ["x"] * 3}),
                               pd.DataFrame({"path": ["a", "b"], "issue": ["near_duplicate", "exact_duplicate"],
                                             "score": [1.0, 1.0]}))
    assert list(table[tables.filter_mask(table, tables.Filter(issues=["exact_duplicate"]))]["path"]) == ["b"]
    assert list(table[tables.filter_mask(table, tables.Filter(issues=["duplicate"]))]["path"]) == []


def test_sort_order_is_a_stable_sort_by_the_column_then_path_with_missing_values_last():
    table = pd.DataFrame({"path": ["d", "b", "a", "c", "e"], "score": [0.5, np.nan, 0.5, 0.9, 0.1],
                          "label": pd.Series(["y", None, "x", "y", "x"], dtype="string"),
                          "mtime_ns": np.array([2**60 + 1, 2**60, 2**60 + 1, 5, 2**60], dtype=np.int64)})
    for column in ("score", "label", "mtime_ns", "path"):
        for descending in (True, False):
            expected = table.sort_values([column, "path"], ascending=[not descending, True], kind="stable",
                                         na_position="last")
            assert list(table["path"].iloc[tables.sort_order(table, column, descending)]) == list(expected["path"]), \
                column
    order = tables.sort_order(table, "score", True)
    keep = tables.filter_mask(table, tables.Filter(text="b")) | tables.filter_mask(table, tables.Filter(text="d"))
    assert list(table["path"].iloc[tables.view_positions(order, keep)]) == ["d", "b"]
    assert list(tables.page(table, 1, 2, order)["path"]) == ["d", "e"]
