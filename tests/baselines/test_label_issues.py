import numpy as np
import pandas as pd
import pytest
import torch

from baselines.crossfit import assign_folds, predict
from baselines.label_issues import (
    confident_learning,
    conflict_groups,
    input_size,
    inspector_findings,
    issue_findings,
    judge,
    prune_by_noise_rate,
    unreliable_images,
)
from inspectors import findings


def test_folds_are_stratified_and_cover_every_sample():
    targets = np.array([0] * 10 + [1] * 5)
    folds = assign_folds(targets, 5, seed=0)
    assert sorted(set(folds)) == [0, 1, 2, 3, 4]
    for f in range(5):
        assert (targets[folds == f] == 0).sum() == 2 and (targets[folds == f] == 1).sum() == 1
    assert (assign_folds(targets, 5, seed=0) == folds).all()


def test_confident_learning_flags_a_sample_confidently_predicted_as_another_class():
    labels = np.array([0, 0, 0, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.05, 0.95],  # the third "0" looks like a 1
                      [0.2, 0.8], [0.1, 0.9], [0.3, 0.7]])
    out = confident_learning(labels, probs)
    assert out["issue"].tolist() == [False, False, True, False, False, False]
    assert out.loc[2, "confident"] == 1 and out.loc[2, "score"] > 0.9


def test_a_hard_class_does_not_flood_the_list():
    # class 1 is hard: the model is unsure about all of its members, but never sure of another class
    labels = np.array([0, 0, 0, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.95, 0.05], [0.9, 0.1], [0.55, 0.45], [0.5, 0.5], [0.6, 0.4]])
    out = confident_learning(labels, probs)
    assert not out["issue"].any()


def test_prune_by_noise_rate_flags_the_estimated_count_by_margin():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.02, 0.98],
                      [0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.25, 0.75]])
    flagged = prune_by_noise_rate(labels, probs)
    assert flagged.tolist() == [False, False, False, True, False, False, False, False]


def test_unreliable_images_are_predicted_but_never_judged():
    # the third "0" is a dark image the model calls a 1: a bad picture, not evidence of a bad label
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.05, 0.95], [0.02, 0.98],
                      [0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.25, 0.75]])
    judged = np.array([True, True, False, True, True, True, True, True])
    out = judge(labels, probs, judged)
    assert out["issue"].tolist() == [False, False, False, True, False, False, False, False]
    assert out["score"].tolist() == [0.0, 0.0, 0.0, 0.98, 0.0, 0.0, 0.0, 0.0]
    assert out.loc[3, "confident"] == 1 and out.loc[2, "confident"] == 1  # the runner-up, for the predictions table
    # judged alone, the unreliable sample would have been flagged too
    assert judge(labels, probs, np.ones(8, bool))["issue"].tolist()[2]


def test_unreliable_samples_do_not_lower_a_class_threshold():
    # two dark "1"s with low self-confidence would drag class 1's threshold down to 0.5, so that the "0"
    # at p(1) = 0.7 counted as confidently a 1; left out, the threshold is 0.8 and it is not
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.3, 0.7], [0.2, 0.8], [0.2, 0.8], [0.8, 0.2], [0.8, 0.2]])
    every = judge(labels, probs, np.ones(7, bool), "confident_learning")
    assert every["issue"].tolist() == [False, False, True, False, False, True, True]
    reliable = judge(labels, probs, np.array([True] * 5 + [False] * 2), "confident_learning")
    assert reliable["issue"].tolist() == [False] * 7


def test_a_copy_whose_label_the_model_rules_out_is_flagged_though_not_confidently_another_class():
    # 4 and 5 are one picture (group g1) labelled 0 and 1; 6 and 7 another (g2), both labelled 1. On 5 the model
    # leans to 0 (0.55) without reaching class 0's threshold (0.92), so confident learning lets it pass
    labels = np.array([0, 0, 1, 1, 0, 1, 1, 1])
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.1, 0.9], [0.05, 0.95],
                      [0.9, 0.1], [0.55, 0.45], [0.2, 0.8], [0.3, 0.7]])
    groups = np.array(["", "", "", "", "g1", "g1", "g2", "g2"], dtype=object)
    judged = np.ones(8, bool)
    assert not judge(labels, probs, judged, "confident_learning")["issue"].any()
    out = judge(labels, probs, judged, "confident_learning", groups)
    assert out["issue"].tolist() == [False] * 5 + [True, False, False]
    assert out.loc[5, "copy"] and out.loc[5, "confident"] == 0
    # beliefs averaged over the two copies: p(0) = 0.725, p(1) = 0.275
    assert out.loc[5, "p_confident"] == pytest.approx(0.725) and out.loc[5, "p_own"] == pytest.approx(0.275)
    assert out.loc[5, "score"] == pytest.approx(0.725) and out.loc[5, "p_given"] == pytest.approx(0.45)
    # set aside (unreliable), a copy neither votes nor gets a verdict
    assert not judge(labels, probs, np.array([True] * 5 + [False] * 3), "confident_learning", groups)["issue"].any()


def test_label_issue_findings_are_built_like_every_inspectors_findings():
    labels = np.array([0, 0, 1, 1, 0, 1])
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.1, 0.9], [0.05, 0.95], [0.9, 0.1], [0.55, 0.45]])
    groups = np.array(["", "", "", "", "g1", "g1"], dtype=object)
    verdict = judge(labels, probs, np.ones(6, bool), "confident_learning", groups)
    suspects = pd.DataFrame({"path": [f"{i}.png" for i in range(6)], "label": ["a", "a", "b", "b", "a", "b"],
                             "p_label": verdict["p_given"], "score": verdict["score"]})[verdict["issue"]]
    found = issue_findings(suspects, verdict[verdict["issue"]], ["a", "b"], groups[verdict["issue"].to_numpy()])
    assert found.dtypes.to_dict() == findings.empty().dtypes.to_dict()
    assert found[["path", "issue", "group"]].values.tolist() == [["5.png", "label_issue", ""]]
    assert found["detail"][0].startswith("labelled 'b'; a copy of this picture is labelled 'a' (conflicting_labels "
                                         "group g1)") and found["score"][0] == pytest.approx(0.725)


def test_of_two_copies_both_flagged_the_one_the_copies_agree_on_is_cleared():
    # the copy labelled 0 (4) trained beside its twin labelled 1 and leans to 1 (0.7): confident learning flags
    # both; averaged over the two, the picture is a 0 (0.625), so only 5's label is wrong
    labels = np.array([0, 0, 1, 1, 0, 1, 1, 1])
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.1, 0.9], [0.05, 0.95],
                      [0.3, 0.7], [0.95, 0.05], [0.2, 0.8], [0.3, 0.7]])
    groups = np.array(["", "", "", "", "g1", "g1", "", ""], dtype=object)
    judged = np.ones(8, bool)
    flagged = judge(labels, probs, judged, "confident_learning")["issue"]
    assert flagged.tolist() == [False] * 4 + [True, True] + [False] * 2
    out = judge(labels, probs, judged, "confident_learning", groups)
    assert out["issue"].tolist() == [False] * 5 + [True, False, False]
    assert out.loc[4, "score"] == 0.0 and not out.loc[5, "copy"]  # 5 was confident learning's own find


def test_conflict_groups_come_from_the_inspectors_findings(tmp_path):
    pd.DataFrame({"path": ["a.png", "a.png", "b.png", "c.png"],
                  "issue": ["exact_duplicate", "conflicting_labels", "conflicting_labels", "near_duplicate"],
                  "score": 1.0, "group": ["E1", "E1", "E1", "N2"], "detail": ""}).to_csv(tmp_path / "findings.csv",
                                                                                        index=False)
    found = inspector_findings(tmp_path)
    assert conflict_groups(found, ["c.png", "b.png", "a.png", "z.png"]).tolist() == ["", "E1", "E1", ""]
    assert conflict_groups(inspector_findings(tmp_path / "none"), ["a.png"]).tolist() == [""]


def test_unreliable_images_come_from_the_inspectors_findings(tmp_path):
    pd.DataFrame({"path": ["a.png", "a.png", "b.png", "c.png", "d.png"],
                  "issue": ["dark", "outlier", "blurry", "near_duplicate", "odd_size"],
                  "score": 1.0, "group": "", "detail": ""}).to_csv(tmp_path / "findings.csv", index=False)
    reason = unreliable_images(inspector_findings(tmp_path), ["a.png", "b.png", "c.png", "d.png", "e.png"])
    assert reason.tolist() == ["dark,outlier", "", "", "odd_size", ""]
    assert unreliable_images(inspector_findings(tmp_path), ["a.png"], issues=()).tolist() == [""]
    assert unreliable_images(inspector_findings(tmp_path / "nowhere"), ["a.png"]).tolist() == [""]


@pytest.mark.parametrize("side, cap, expected", [(62, 64, 64), (45, 64, 32), (46, 64, 64), (40, 64, 32),
                                                  (300, 64, 64), (10, 64, 16), (110, 224, 128), (12, 64, 16)])
def test_input_size_is_the_standard_side_nearest_the_median_short_side(side, cap, expected):
    table = pd.DataFrame({"path": [f"{i}.png" for i in range(5)], "label": "a", "split": "", "ok": True,
                          "width": side, "height": side * 2})
    assert input_size(table, cap=cap) == expected


class Lopsided(torch.nn.Module):
    """Says class 1 with certainty when the left column is brighter than the right one, else class 0."""

    def forward(self, x):
        left_brighter = (x[:, 0, 0, 0] > x[:, 0, 0, -1]).float()
        return torch.stack([1 - left_brighter, left_brighter], 1) * 50


def test_held_out_predictions_average_the_mirrored_image():
    x = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    x[0, :, :, 0] = 200  # bright on the left; its mirror is bright on the right
    x[1, :, :, -1] = 200
    plain = predict(Lopsided(), x, torch.zeros(3), torch.ones(3), mirror=False)
    assert plain.round().tolist() == [[0.0, 1.0], [1.0, 0.0]]
    mirrored = predict(Lopsided(), x, torch.zeros(3), torch.ones(3))
    assert mirrored.tolist() == [[0.5, 0.5], [0.5, 0.5]]


def test_both_flags_only_what_confident_learning_and_the_noise_rate_agree_on():
    # class 0 holds A, confidently a 1 (p 0.72 >= class 1's mean 0.7), and B, split between 1 and 2 and sure of
    # neither, but with the larger margin over its given label: the noise rate allows one flag in class 0
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    probs = np.array([[0.9, 0.05, 0.05]] * 3 + [[0.23, 0.72, 0.05], [0.0, 0.6, 0.4]]
                     + [[0.1, 0.8, 0.1], [0.2, 0.6, 0.2], [0.1, 0.7, 0.2]] + [[0.05, 0.05, 0.9]] * 3)
    every = np.ones(11, bool)
    a, b = [False] * 3 + [True, False] + [False] * 6, [False] * 4 + [True] + [False] * 6
    assert judge(labels, probs, every, "confident_learning")["issue"].tolist() == a
    assert judge(labels, probs, every, "prune_by_noise_rate")["issue"].tolist() == b
    assert not judge(labels, probs, every, "both")["issue"].any()
    with pytest.raises(ValueError, match="choose one of"):
        judge(labels, probs, every, "cleanest")


def planted_probabilities(seed: int, n: int = 2000, c: int = 6):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, c, n)
    logits = rng.normal(size=(n, c)) * 1.2
    logits[np.arange(n), true] += 2.5
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = true.copy()
    flip = rng.random(n) < 0.08
    labels[flip] = (labels[flip] + rng.integers(1, c, flip.sum())) % c
    return labels, probs


@pytest.mark.parametrize("seed", [0, 1])
def test_our_filters_are_cleanlabs_on_the_same_probabilities(seed):
    from cleanlab.filter import find_label_issues

    labels, probs = planted_probabilities(seed)
    every = np.ones(len(labels), bool)
    for name in ("confident_learning", "prune_by_noise_rate"):
        ours = judge(labels, probs, every, name)["issue"].to_numpy()
        assert (ours == find_label_issues(labels, probs, filter_by=name)).all(), name
    both = judge(labels, probs, every, "both")["issue"].to_numpy()
    cl = find_label_issues(labels, probs, filter_by="confident_learning")
    pruned = find_label_issues(labels, probs, filter_by="prune_by_noise_rate")
    assert (both == (cl & pruned)).all()  # ours: both of cleanlab's (its own "both" pairs prune_by_class)
