import pandas as pd
import pytest

from inspectors.evaluate import evaluate, pair_scores


def table(rows, group=False):
    cols = ["path", "issue", "group"] if group else ["path", "issue"]
    return pd.DataFrame(rows, columns=cols)


def test_precision_and_recall_per_issue():
    truth = table([("a", "dark"), ("b", "dark"), ("c", "blurry")])
    found = table([("a", "dark"), ("x", "dark"), ("c", "blurry"), ("c", "blurry")])
    r = evaluate(found, truth).set_index("issue")
    assert (r.loc["dark", "precision"], r.loc["dark", "recall"]) == (0.5, 0.5)
    assert r.loc["dark", "false_pos"] == ["x"] and r.loc["dark", "missed"] == ["b"]
    assert (r.loc["blurry", "precision"], r.loc["blurry", "recall"]) == (1.0, 1.0)


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="not in the vocabulary"):
        evaluate(table([("a", "darkk")]), table([("a", "dark")]))
    with pytest.raises(ValueError, match="missing columns"):
        evaluate(pd.DataFrame({"path": ["a"]}), table([("a", "dark")]))


def test_pair_scores_count_pairs_within_groups():
    truth = table([("a", "exact_duplicate", "1"), ("b", "exact_duplicate", "1"), ("c", "exact_duplicate", "1")],
                  group=True)
    found = table([("a", "exact_duplicate", "E0"), ("b", "exact_duplicate", "E0"), ("d", "near_duplicate", "N1"),
                   ("e", "near_duplicate", "N1")], group=True)
    s = pair_scores(found, truth)
    assert (s["truth_pairs"], s["found_pairs"], s["true_pairs"]) == (3, 2, 1)
