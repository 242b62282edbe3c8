"""inspectors/inspector.py: the contract each inspector declares, checked when the registry is built."""

import pytest

from inspectors import quality
from inspectors import run as run_module
from inspectors.inspector import Inspector, Shared, registry


def nothing(samples, settings=None):
    return samples


def test_every_registered_inspector_declares_its_settings_and_what_it_shares():
    assert list(run_module.INSPECTORS) == ["integrity", "duplicates", "balance", "sizes", "quality", "outliers"]
    assert [i.section for i in run_module.INSPECTORS.values()] == [None, "duplicates", "balance", "sizes",
                                                                   "quality", "outliers"]
    assert [name for name, i in run_module.INSPECTORS.items() if i.cross_dataset] == ["duplicates"]
    assert [s.name for s in quality.INSPECTOR.uses] == ["outlier_judgement"]


def test_a_name_registered_twice_is_an_error():
    with pytest.raises(ValueError, match="'a' is registered twice"):
        registry(Inspector("a", (), nothing), Inspector("a", (), nothing))


def test_a_config_section_that_does_not_exist_is_an_error():
    with pytest.raises(ValueError, match="no config section 'colour'"):
        Inspector("a", (), nothing, section="colour")
    with pytest.raises(ValueError, match="no config section 'knn'"):
        Inspector("a", (), nothing, uses=(Shared("x", "knn", nothing),))


def test_a_cross_dataset_inspector_cannot_take_what_was_computed_over_one_dataset():
    with pytest.raises(ValueError, match="cross-dataset"):
        Inspector("a", (), nothing, cross_dataset=True, uses=(Shared("x", "outliers", nothing),))
