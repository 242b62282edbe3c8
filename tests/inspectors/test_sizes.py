import numpy as np

from inspectors import sizes
from tests.inspectors.tables import samples


def test_one_dominant_size_does_not_make_every_other_size_odd():
    rows = [{"width": 32, "height": 32}] * 95 + [{"width": 36, "height": 30}, {"width": 28, "height": 34},
                                                {"width": 8, "height": 8}, {"width": 400, "height": 380},
                                                {"width": 160, "height": 10}]
    found = sizes.inspect(samples(rows))
    got = sorted(zip(found["path"], found["issue"], strict=True))
    assert got == [("f97.png", "odd_size"), ("f98.png", "odd_size"), ("f99.png", "odd_aspect_ratio")]
    assert "4.0x smaller than the typical 32x32" in found.set_index("path").loc["f97.png", "detail"]


def test_a_naturally_wide_spread_has_no_odd_sizes():
    rng = np.random.default_rng(0)
    rows = [{"width": int(w), "height": int(h)} for w, h in rng.integers(256, 1025, size=(300, 2))]
    assert sizes.inspect(samples(rows)).empty


def test_size_grid_aggregates_to_cells():
    rows = [{"width": 32, "height": 32}] * 1000 + [{"width": 64, "height": 48}] * 10
    grid = sizes.size_grid(samples(rows), bins=10)
    assert grid["count"].sum() == 1010 and len(grid) == 2


def test_distribution_of_modes_and_widths():
    table = samples([{"mode": "RGB"}] * 3 + [{"mode": "L", "width": 10}])
    assert dict(zip(*sizes.distribution(table, "mode").T.values, strict=True)) == {"RGB": 3, "L": 1}
    assert sizes.distribution(table, "width", bins=4)["count"].sum() == 4
