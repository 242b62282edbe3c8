import math

import numpy as np
import pytest

from inspectors import balance
from inspectors.config import BalanceConfig
from tests.inspectors.tables import samples


def counts_table(per_split):
    rows = []
    for split, per in per_split.items():
        for label, n in per.items():
            rows += [{"split": split, "label": label}] * n
    return samples(rows)


def test_priors_imbalance_and_init_losses():
    table = counts_table({"train": {"a": 60, "b": 30, "c": 10}, "val": {"a": 10, "b": 10}})
    s = balance.summarize(table, balance.inspect(table), BalanceConfig(rare_fraction=0.25))
    assert s["class_counts"] == {"train": {"a": 60, "b": 30, "c": 10}, "val": {"a": 10, "b": 10}}
    assert s["class_priors"] == {"a": 0.6, "b": 0.3, "c": 0.1}
    assert s["imbalanced_classes"] == {"train": [], "val": []}
    assert s["imbalance_ratio"]["train"] == 6.0 and s["missing_classes"]["val"] == ["c"]
    train = s["expected_init_loss"]["train"]
    assert train["uniform"] == pytest.approx(math.log(3))
    assert train["prior_biased"] == pytest.approx(-(0.6 * math.log(0.6) + 0.3 * math.log(0.3) + 0.1 * math.log(0.1)))
    assert s["expected_init_loss"]["val"]["prior_biased"] == pytest.approx(-(0.5 * math.log(0.6) + 0.5 * math.log(0.3)))
    w = s["suggested_class_weights"]
    assert w["c"] == pytest.approx(100 / 30, abs=1e-3) and w["a"] == pytest.approx(100 / 180, abs=1e-3)


def test_a_far_rarer_class_is_listed():
    table = counts_table({"train": {"a": 50, "b": 50, "c": 48, "rare": 8}})
    s = balance.summarize(table, balance.inspect(table))
    assert s["imbalanced_classes"] == {"train": ["rare"]}


def test_a_property_that_singles_out_a_class_is_a_shortcut_and_noise_is_not():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(300):
        label = ["a", "b", "c"][i % 3]
        rows.append({"label": label, "format": "PNG" if label == "a" else "JPEG",
                     "width": int(rng.integers(80, 90)) if label == "b" else int(rng.integers(60, 80)),
                     "brightness": float(rng.random())})
    found = balance.shortcuts(samples(rows), BalanceConfig())
    assert {(d["property"], d["class"], d["balanced_accuracy"]) for d in found} == {("format", "a", 1.0),
                                                                                   ("width", "b", 1.0),
                                                                                   ("aspect", "b", 1.0)}
    assert any("format alone tells 'a' from the other classes" in d["detail"] for d in found)
