import numpy as np

from baselines.label_issues import assign_folds, confident_learning, prune_by_noise_rate


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
