"""Bulk review: keep one per duplicate group, undo the last bulk action, no relabel to the same class."""

import pandas as pd
import pytest

from inspectors import bulk, review

SAMPLES = pd.DataFrame({
    "path": ["test/a.jpg", "train/a.jpg", "train/a_big.jpg", "val/b.jpg", "train/b.jpg", "train/c.jpg"],
    "split": ["test", "train", "train", "val", "train", "train"],
    "label": ["cat", "cat", "cat", "dog", "dog", "dog"],
    "width": [32, 32, 64, 32, 32, 32], "height": [32, 32, 64, 32, 32, 32],
    "sharpness": [5.0, 1.0, 2.0, 9.0, 1.0, 1.0]})
FINDINGS = pd.DataFrame({
    "path": ["test/a.jpg", "train/a.jpg", "train/a_big.jpg", "val/b.jpg", "train/b.jpg", "test/a.jpg"],
    "issue": ["near_duplicate"] * 5 + ["split_leak"],
    "group": ["N1", "N1", "N1", "N2", "N2", "N1"], "score": 1.0, "detail": ""})


@pytest.mark.parametrize(("prefer", "kept"), [("in train", {"train/a_big.jpg", "train/b.jpg"}),
                                              ("largest", {"train/a_big.jpg", "val/b.jpg"}),
                                              ("sharpest", {"test/a.jpg", "val/b.jpg"})])
def test_one_member_of_each_group_is_kept_and_the_rest_removed(prefer, kept):
    marks = bulk.keep_one_per_group(SAMPLES, FINDINGS, prefer)
    assert set(marks.loc[marks["decision"] == "keep", "path"]) == kept
    assert len(marks) == 5 and marks.groupby("group")["decision"].apply(lambda d: (d == "keep").sum()).eq(1).all()
    assert "train/c.jpg" not in set(marks["path"])  # in no group: untouched


def test_only_the_groups_asked_for():
    marks = bulk.keep_one_per_group(SAMPLES, FINDINGS, "in train", groups=["N2"])
    assert set(marks["path"]) == {"val/b.jpg", "train/b.jpg"}


def test_undo_puts_back_exactly_what_the_bulk_action_replaced(tmp_path):
    review.set_mark(tmp_path, "test/a.jpg", "relabel", "dog")
    marks = bulk.keep_one_per_group(SAMPLES, FINDINGS, "in train")
    assert review.set_marks(tmp_path, [(p, d, None) for p, d in zip(marks["path"], marks["decision"], strict=True)],
                            "keep one per group") == 5
    assert review.last_bulk(tmp_path) == ("keep one per group", 5)
    assert len(review.marks(tmp_path)) == 5
    assert review.undo_last(tmp_path) == 5
    after = review.marks(tmp_path)
    assert list(after["path"]) == ["test/a.jpg"] and after["new_label"].iloc[0] == "dog"  # the earlier mark is back
    assert review.last_bulk(tmp_path) is None and review.undo_last(tmp_path) == 0


def test_a_relabel_to_the_class_a_file_has_is_refused():
    assert bulk.relabel_refused(SAMPLES, ["train/a.jpg", "val/b.jpg"], "cat") == ["train/a.jpg"]
