import numpy as np

from inspectors import outliers
from inspectors.config import OutliersConfig
from tests.inspectors.tables import content, samples


def pictures(rows: list[dict]):
    """A samples table whose rows set colour_entropy (a scan column the shared helper leaves out)."""
    table = samples(rows)
    table["colour_entropy"] = [r.get("colour_entropy", 3.0) for r in rows]
    return table


def drawings(n: int, prefix: str = "n") -> list[dict]:
    """Typical pictures of the set: a few colours, sharp edges, a light background, varying a little."""
    return [{"path": f"{prefix}{i}.png", "colour_entropy": 2.5 + i % 5 * 0.2, "sharpness": 0.02 * (1 + i % 4 / 10),
             "contrast": 0.2 + i % 3 * 0.01} for i in range(n)]


def noise(i: int) -> dict:
    """Dense colour noise: every colour and the most edge energy of all."""
    return {"path": f"noise{i}.jpg", "colour_entropy": 9.5 + i * 0.05, "sharpness": 1.0, "contrast": 0.2}


def test_a_handful_of_stray_pictures_are_outliers_even_when_alike_but_a_kind_of_twelve_is_not():
    smooth_class = [{"path": f"waves{i}.png", "colour_entropy": 4.5, "sharpness": 2e-4 * (1 + i % 3 / 10),
                     "lum_p01": 0.3, "lum_p99": 0.9, "brightness": 0.6} for i in range(12)]
    found = outliers.inspect(pictures(drawings(40) + smooth_class + [noise(i) for i in range(3)]))
    assert sorted(found["path"]) == ["noise0.jpg", "noise1.jpg", "noise2.jpg"]
    assert (found["score"] > 0.5).all()
    assert "fewer than 10 look-alikes" in found["detail"].iloc[0]
    assert found["detail"].iloc[0].endswith("most unusual: colour entropy 9.50, typical 3.10")


def test_a_blurred_picture_is_not_an_outlier_but_a_smooth_many_coloured_field_is():
    blurred = {"path": "blurred.jpg", "colour_entropy": 3.2, "sharpness": 2e-4}  # blur is quality's finding
    field = {"path": "field.jpg", "colour_entropy": 9.0, "sharpness": 2e-4}  # smooth, but no drawing has its colours
    found = outliers.inspect(pictures(drawings(40) + [blurred, field]))
    assert list(found["path"]) == ["field.jpg"]
    assert "most unusual: colour entropy 9.00" in found["detail"].iloc[0]


def test_labels_play_no_part():
    rows = [{**r, "label": "cat"} for r in drawings(40)] + [{"path": "dog_drawing_filed_as_cat.png", "label": "cat"}]
    rows += [{**r, "path": f"dog{i}.png", "label": "dog"} for i, r in enumerate(drawings(5))]
    assert outliers.inspect(pictures(rows)).empty


def test_tiny_images_rare_mode_families_and_blank_images_are_not_judged():
    odd = [{**noise(0), "path": "icon.png", "width": 8, "height": 8},
           {**noise(1), "path": "cmyk.jpg", "mode": "CMYK"},
           {**noise(2), "path": "blank.png", "contrast": 0.005}]
    assert outliers.inspect(pictures(drawings(40) + odd)).empty


def test_each_mode_family_is_compared_with_itself():
    grey = [{**r, "path": f"g{i}.png", "mode": "L", "colour_entropy": 1.2, "sharpness": 0.05} for i, r in
            enumerate(drawings(40))]  # a big grey family unlike the colour one: two normal kinds, no outliers
    assert outliers.inspect(pictures(drawings(40) + grey)).empty


def test_too_few_images_give_no_findings():
    assert outliers.inspect(pictures([{}] * 5)).empty


def test_kth_distance_skips_the_point_itself_but_counts_its_copies():
    reference = np.array([[0.0], [0.0], [1.0], [3.0]])
    assert outliers.kth_distance(np.array([[0.0]]), reference, 1).tolist() == [0.0]
    # point 0 inside the reference: its nearest other point is its copy (row 1), then 1.0, then 3.0
    got = [outliers.kth_distance(np.array([[0.0]]), reference, k, np.array([0]))[0] for k in (1, 2, 3)]
    assert got == [0.0, 1.0, 3.0]


def test_outlier_paths_answers_for_the_paths_asked_only():
    table = pictures(drawings(40) + [noise(0), noise(1)])
    judged = outliers.judgement(table, OutliersConfig())
    assert outliers.outlier_paths(judged, ["noise0.jpg", "n3.png"]) == {"noise0.jpg"}
    assert outliers.outlier_paths(judged) == {"noise0.jpg", "noise1.jpg"}


def thumbnail(draw) -> bytes:
    """A 32x32 grey content thumbnail: black, with `draw(image)` painting on it."""
    image = np.zeros((32, 32), np.uint8)
    draw(image)
    return image.tobytes()


def bar(i: int) -> bytes:
    """A thick vertical stroke, like a handwritten one, moved a few px and a little longer or shorter."""
    dx, dy, length = i % 5 - 2, i // 5 % 3 - 1, 16 + i % 4
    return thumbnail(lambda a: a.__setitem__((slice(8 + dy, 8 + dy + length), slice(14 + dx, 18 + dx)), 255))


def ring(i: int) -> bytes:
    y, x = np.mgrid[:32, :32] - 15.5 - np.array([i % 3 - 1, i // 3 % 3 - 1])[:, None, None]
    return thumbnail(lambda a: a.__setitem__(np.abs(np.hypot(x, y) - 9) < 2, 255))


def checker() -> bytes:
    return thumbnail(lambda a: a.__setitem__((np.indices((32, 32)) // 4).sum(axis=0) % 2 == 1, 255))


def strokes(n: int, label: str = "one", draw=bar) -> list[dict]:
    """A class of alike pictures (one row per image, every other scan column alike: the first rule sees no
    difference)."""
    return [{"path": f"{label}{i}.png", "label": label, "content": draw(i)} for i in range(n)]


def test_a_stray_picture_among_a_class_of_alike_pictures_is_unlike_its_class():
    found = outliers.inspect(pictures(strokes(40) + [{"path": "checker.png", "label": "one", "content": checker()}]))
    assert list(found["path"]) == ["checker.png"]
    assert found["detail"].iloc[0].startswith("unlike every image of its class 'one': its 5th most alike in the "
                                              "class is 0.")
    assert found["score"].iloc[0] > 0.5


def test_a_class_of_varied_but_normal_pictures_has_no_outliers():
    varied = [{"path": f"blobs{i}.png", "label": "blobs", "content": content(f"b{i}")} for i in range(60)]
    assert outliers.inspect(pictures(strokes(40) + varied)).empty


def test_a_negative_of_its_class_is_left_to_the_first_rule():
    negative = np.frombuffer(bar(3), np.uint8) ^ 255  # or a transparent glyph composited on white
    assert outliers.inspect(pictures(strokes(40) + [{"path": "dark_on_light.png", "label": "one",
                                                      "content": negative.tobytes()}])).empty


def test_a_picture_typical_of_another_class_is_a_label_issue_not_an_outlier():
    misfiled = {"path": "ring_filed_as_one.png", "label": "one", "content": ring(4)}
    assert list(outliers.inspect(pictures(strokes(40) + [misfiled]))["path"]) == ["ring_filed_as_one.png"]
    assert outliers.inspect(pictures(strokes(40) + strokes(40, "zero", ring) + [misfiled])).empty


def test_no_content_no_labels_or_a_small_class_leave_the_second_opinion_out():
    stray = {"path": "checker.png", "label": "one", "content": checker()}
    table = pictures(strokes(40) + [stray])
    assert outliers.inspect(table.drop(columns="content")).empty  # an old cache: the first rule alone
    assert outliers.inspect(table.assign(label="")).empty
    assert outliers.inspect(pictures(strokes(OutliersConfig().min_class_size - 2) + [stray])).empty


def test_an_image_both_rules_flag_is_one_finding_with_both_reasons():
    stray = {**noise(0), "label": "one", "content": checker()}
    found = outliers.inspect(pictures([{**r, **d} for r, d in zip(strokes(40), drawings(40), strict=True)] + [stray]))
    assert list(found["path"]) == ["noise0.jpg"]
    assert found["detail"].iloc[0].startswith("fewer than 10 look-alikes")
    assert "; also unlike every image of its class 'one'" in found["detail"].iloc[0]


def test_a_class_compared_with_every_member_agrees_with_one_searched_through_an_index():
    from inspectors import content as search

    rng = np.random.default_rng(0)
    g = search.blur(rng.uniform(0, 255, (300, 32, 32)).astype(np.float32), 3.0)
    g[150:] = 255 - g[:150] + rng.normal(0, 2, (150, 32, 32))  # negatives: alike too
    g[10] = g[11]  # an exact copy counts, the picture itself does not
    blurred = search.blur(g, search.SEARCH_BLUR)
    dense, indexed = outliers.Members(blurred), outliers.Members(blurred, dense_rows=0)
    assert dense.index is None and indexed.vectors is None
    itself = np.arange(300)
    for shifts in (search.SEARCH_SHIFTS, (0,)):
        a = outliers.kth_similarity(dense, blurred, 3, itself, shifts)
        b = outliers.kth_similarity(indexed, blurred, 3, itself, shifts)
        assert np.allclose(a, b, atol=1e-5)
    assert outliers.kth_similarity(dense, blurred[[10]], 1, np.array([10]))[0] > 0.999
    assert np.allclose(outliers.kth_similarity(dense, blurred[:5], 2), outliers.kth_similarity(indexed, blurred[:5], 2),
                       atol=1e-5)


def test_counting_the_members_above_a_floor_tells_who_is_below_the_kth_as_ranking_them_does():
    from inspectors import content as search

    rng = np.random.default_rng(1)
    g = search.blur(rng.uniform(0, 255, (200, 32, 32)).astype(np.float32), 3.0)
    g[100:140] = g[:40] + rng.normal(0, 3, (40, 32, 32))  # near copies: their 1st most alike is close
    blurred = search.blur(g, search.SEARCH_BLUR)
    dense, indexed = outliers.Members(blurred), outliers.Members(blurred, dense_rows=0)
    itself = np.arange(200)
    for k in (1, 3):
        kth = outliers.kth_similarity(dense, blurred, k, itself, (0,))
        for floor in np.quantile(kth, [0.1, 0.5, 0.9]).astype(np.float32):
            expected = kth < floor
            assert 0 < expected.sum() < len(expected)
            assert np.array_equal(outliers.below_kth(dense, blurred, k, floor, itself, (0,)), expected)
            assert np.array_equal(outliers.below_kth(indexed, blurred, k, floor, itself, (0,)),
                                  outliers.kth_similarity(indexed, blurred, k, itself, (0,)) < floor)
