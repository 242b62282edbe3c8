import numpy as np

from inspectors import outliers
from inspectors.config import OutliersConfig
from tests.inspectors.tables import samples


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
