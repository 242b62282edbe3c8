"""The line chart's pairs are the inspector's own, judged by the very decision that builds the groups."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.datasets import load_sample_images

from inspectors import copies, duplicates
from inspectors import pair_distances as P
from inspectors.config import DuplicatesConfig
from tests.inspectors.tables import samples

BOX = (200, 100, 296, 196)
OTHER_BOX = (420, 230, 516, 326)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.fromarray(load_sample_images().images[0]).convert("L")  # china.jpg, 640x427


def thumb(photo, box, mirror=False) -> bytes:
    im = photo.resize((32, 32), Image.Resampling.LANCZOS, box=box)
    return np.asarray(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if mirror else im, np.uint8).tobytes()


def clear(x, y, box) -> bool:
    return not (x + 64 > box[0] - 10 and x < box[2] + 10 and y + 64 > box[1] - 10 and y < box[3] + 10)


@pytest.fixture(scope="module")
def table(photo) -> pd.DataFrame:
    """Windows of the photo that do not overlap; one window with a shifted and a cropped copy, another with a
    mirrored one (a group of three at most: the crowd test leaves room for that many)."""
    corners = [(x, y) for x in range(0, 570, 70) for y in range(0, 360, 70) if clear(x, y, (200, 94, 305, 196))
               and clear(x, y, OTHER_BOX)]
    rows = [{"path": f"other/{k:02d}.png", "content": thumb(photo, (x, y, x + 64, y + 64))}
            for k, (x, y) in enumerate(corners)]
    rows += [{"path": "a/orig.png", "content": thumb(photo, BOX)},
             {"path": "a/shifted.png", "content": thumb(photo, (209, 94, 305, 190))},
             {"path": "a/cropped.png", "content": thumb(photo, (205, 105, 291, 191))},
             {"path": "b/orig.png", "content": thumb(photo, OTHER_BOX)},
             {"path": "b/mirrored.png", "content": thumb(photo, OTHER_BOX, mirror=True)}]
    return samples(rows)


def test_every_pair_the_inspector_groups_is_inside_the_line_and_every_other_outside(table):
    found = duplicates.inspect(table)
    near = found[found["issue"] == "near_duplicate"]
    assert sorted(near["path"]) == ["a/cropped.png", "a/orig.png", "a/shifted.png", "b/mirrored.png", "b/orig.png"]
    result = P.pair_distances(table)
    pairs = result.pairs
    assert result.reason == "" and result.pictures == len(table) and len(pairs) > 40
    by_pair = {frozenset(ab): (d, c) for *ab, d, c in pairs[["path_a", "path_b", "line_distance", "copy"]]
               .itertuples(index=False)}
    for _, members in near.groupby("group"):
        centre = members.loc[members["detail"].str.startswith("representative"), "path"].iloc[0]
        for member in members["path"][members["path"] != centre]:
            distance, copy = by_pair[frozenset((centre, member))]
            assert copy and distance <= 1
    assert (pairs.loc[pairs["copy"], "line_distance"] <= 1).all()
    assert (pairs.loc[~pairs["copy"], "line_distance"] > 1).all() and (~pairs["copy"]).sum() > 30
    hist = result.histogram
    assert hist["copies"].sum() == pairs["copy"].sum() and hist["not_copies"].sum() == (~pairs["copy"]).sum()
    assert (hist.loc[hist["copies"] > 0, "high"] <= 1).all() and (hist.loc[hist["not_copies"] > 0, "low"] >= 1).all()


def test_each_pair_says_how_it_differs_and_what_turned_it_down(table):
    result = P.pair_distances(table)
    pairs = result.pairs
    how = {frozenset((a, b)): (a, h) for a, b, h in pairs[["path_a", "path_b", "how"]].itertuples(index=False)}
    assert how[frozenset(("b/orig.png", "b/mirrored.png"))][1] == "mirrored"
    # how the second (the later path) differs from the first: its window moved 3 px right and 2 up (of the 32 px
    # thumbnail), so its content sits 6 px left and 4 down in the 64 px file
    assert how[frozenset(("a/orig.png", "a/shifted.png"))] == ("a/orig.png", "shifted 6 px left, 4 px down")
    inside, outside = P.just_inside(result, 2), P.just_outside(result, 2)
    assert list(inside["line_distance"]) == sorted(pairs.loc[pairs["copy"], "line_distance"], reverse=True)[:2]
    assert list(outside["line_distance"]) == sorted(pairs.loc[~pairs["copy"], "line_distance"])[:2]
    assert set(result.pairs["binding"]) <= set(copies.CRITERIA)


def measures(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"layout": rng.uniform(0.8, 1, n), "detail": rng.uniform(0.7, 1, n),
                         "worst": rng.uniform(0, 1, n), "crowd": rng.choice([-1.0, 0.5, 0.9, 1.0], n),
                         "recoloured": rng.uniform(0, 0.5, n), "vouched": rng.random(n) < 0.3,
                         "mirrored": rng.random(n) < 0.2, "zoom": rng.choice([1.0, 1.1], n),
                         "dx": rng.choice([0.0, 2.0], n), "dy": 0.0, "rotation": 0.0})


def test_a_pair_is_a_copy_exactly_when_its_line_distance_is_at_most_1():
    pairs = measures(20_000)
    config = DuplicatesConfig()
    assert (copies.decide(pairs, config) == (copies.line_distance(pairs, config) <= 1)).all()
    moved = (pairs["dx"] > 0) | (pairs["zoom"] > 1) | pairs["mirrored"]
    strict = moved & (pairs["recoloured"] > config.max_recolour) | pairs["mirrored"] & (
        pairs["recoloured"] > config.max_recolour_mirrored)
    limit = np.where(strict, config.recoloured_crowd_ratio, config.crowd_ratio)
    miss, apart = 1 - pairs["detail"], 1 - pairs["crowd"]
    detail = (pairs["detail"] >= config.min_detail) | (pairs["detail"] >= config.min_detail_alone) & (
        miss <= config.alone_crowd_ratio * apart)
    rule = ((pairs["layout"] >= config.min_layout) & detail
            & (pairs["worst"] <= config.max_worst_block) & (miss <= limit * apart)
            | pairs["vouched"] & (miss <= config.vouched_crowd_ratio * apart))  # the rule as the config states it
    assert (copies.decide(pairs, config) == rule).all() and 0.05 < rule.mean() < 0.5


def test_the_line_distance_is_the_criterion_farthest_past_its_limit():
    base = {"layout": 0.95, "detail": 0.97, "worst": 0.3, "crowd": 0.5, "recoloured": 0.0, "vouched": False,
            "mirrored": False, "zoom": 1.0, "dx": 0.0, "dy": 0.0, "rotation": 0.0}
    pairs = pd.DataFrame([base, {**base, "layout": 0.8}, {**base, "worst": 0.9}, {**base, "crowd": 0.95},
                          {**base, "crowd": 0.95, "layout": 0.5, "vouched": True}, {**base, "crowd": 1.0}])
    config = DuplicatesConfig(crowd_ratio=0.3, min_layout=0.9, min_detail=0.85, max_worst_block=0.6,
                              vouched_crowd_ratio=0.4)
    # layout 0.05/0.1, detail 0.03/0.15, block 0.3/0.6, crowd 0.03/(0.3*0.5): the layout and the block tie at 0.5
    assert copies.line_distance(pairs, config) == pytest.approx([0.5, 2.0, 1.5, 0.03 / 0.015, 0.03 / 0.02, np.inf])
    assert list(copies.binding(pairs, config)) == ["layout", "layout", "uneven block", "crowd", "crowd", "crowd"]


def test_a_table_without_content_thumbnails_says_to_rescan(table):
    old = table.assign(content=None)
    result = P.pair_distances(old)
    assert result.reason == P.NO_CONTENT and "Rescan to see the line" in result.reason
    assert result.pairs.empty and list(result.pairs.columns) == P.PAIR_COLUMNS
    assert result.histogram[["copies", "not_copies"]].sum().sum() == 0 and result.pictures == len(table)
    assert P.pair_distances(table.drop(columns=["content"])).reason == P.NO_CONTENT
    assert P.pair_distances(table, DuplicatesConfig(content=False)).reason == P.CONTENT_OFF


def test_a_single_picture_has_no_pairs_and_a_missing_column_fails_loudly(table):
    result = P.pair_distances(table.head(1))
    assert result.reason == "" and result.pairs.empty and result.pictures == 1
    with pytest.raises(KeyError, match="phash"):
        P.pair_distances(table.drop(columns=["phash"]))


def test_pairs_near_the_line_are_described_and_far_ones_left_blank():
    distance = np.r_[np.linspace(0.2, 1.0, 10), np.linspace(1.05, 1.5, 20), np.linspace(1.6, 9, 500)]
    copy = distance <= 1
    assert P._described(distance, copy) == max(30, 10 + P.NEAREST_OUTSIDE)  # at least the nearest 50 past the line
    far = np.r_[0.5, np.linspace(2, 9, 200)]
    assert P._described(far, far <= 1) == 1 + P.NEAREST_OUTSIDE


def test_a_pair_whose_detail_is_a_little_low_is_a_copy_only_where_it_stands_out_from_its_crowd():
    config = DuplicatesConfig()
    base = {"layout": 0.95, "detail": 0.87, "worst": 0.3, "crowd": -1.0, "recoloured": 0.0, "vouched": False,
            "mirrored": False, "zoom": 1.1, "dx": 0.0, "dy": 0.0, "rotation": 0.0}
    pairs = pd.DataFrame([base,  # no look-alike came near either picture
                          {**base, "crowd": 0.2},  # its look-alikes agree far less (0.13 <= 0.2 x 0.8)
                          {**base, "crowd": 0.5},  # they agree nearly as well: a look-alike in a crowd
                          {**base, "detail": 0.84},  # below the lower floor whatever its crowd
                          {**base, "detail": 0.92, "crowd": 0.5}])  # above min_detail: the crowd rule alone
    assert list(copies.decide(pairs, config)) == [True, True, False, False, True]
    assert list(copies.binding(pairs, config)[[2, 3]]) == ["detail", "detail"]


def test_a_mirror_image_in_other_colours_must_stand_out_further_than_a_shifted_one():
    config = DuplicatesConfig()
    base = {"layout": 0.96, "detail": 0.93, "worst": 0.4, "crowd": 0.6, "recoloured": 0.15, "vouched": False,
            "mirrored": False, "zoom": 1.0, "dx": 2.0, "dy": 0.0, "rotation": 0.0}
    pairs = pd.DataFrame([base, {**base, "mirrored": True}, {**base, "mirrored": True, "recoloured": 0.05},
                          {**base, "mirrored": True, "crowd": 0.2}])
    # shifted, colours 0.15 apart: the crowd rule as usual; mirrored: only where it stands out 0.1x as far
    assert list(copies.decide(pairs, config)) == [True, False, True, True]
