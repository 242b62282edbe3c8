from inspectors import outliers, quality
from tests.inspectors.tables import samples


def by_issue(found):
    return {issue: sorted(part["path"]) for issue, part in found.groupby("issue")}


def pictures(rows: list[dict]):
    """A samples table whose rows set colour_entropy (a scan column the shared helper leaves out)."""
    table = samples(rows)
    table["colour_entropy"] = [r.get("colour_entropy", 3.0) for r in rows]
    return table


def sharp(n: int, label: str = "shapes", **extra) -> list[dict]:
    return [{"path": f"{label}{i}.png", "label": label, "sharpness": 0.02 * (1 + i % 5 / 10),
             "colour_entropy": 2.5 + i % 5 * 0.2, **extra} for i in range(n)]


def test_dark_light_and_blank_are_told_apart_from_normal_dark_scenes():
    normal = [{"path": f"n{i}.png", "sharpness": 0.02 + i * 1e-4} for i in range(30)]
    table = samples(normal + [
        {"path": "underexposed.png", "lum_p99": 0.12, "brightness": 0.05, "contrast": 0.03, "sharpness": 6e-4},
        {"path": "star_on_black.png", "lum_p01": 0.0, "lum_p99": 0.95, "brightness": 0.08, "contrast": 0.2},
        {"path": "washed_out.png", "lum_p01": 0.88, "brightness": 0.95, "contrast": 0.03, "sharpness": 6e-4},
        {"path": "blank.png", "contrast": 0.004, "entropy": 0.6, "lum_p01": 0.5, "lum_p99": 0.51},
    ])
    got = by_issue(quality.inspect(table))
    assert got == {"dark": ["underexposed.png"], "light": ["washed_out.png"], "low_information": ["blank.png"]}


def test_blur_is_judged_against_the_image_own_class():
    sharp = [{"path": f"sharp{i}.png", "label": "shapes", "sharpness": 0.02 * (1 + i % 5 / 10)} for i in range(30)]
    smooth = [{"path": f"smooth{i}.png", "label": "gradients", "sharpness": 2e-4 * (1 + i % 5 / 10)}
              for i in range(30)]
    blurred = [{"path": "blurred.png", "label": "shapes", "sharpness": 3e-4}]
    got = by_issue(quality.inspect(pictures(sharp + smooth + blurred)))
    assert got == {"blurry": ["blurred.png"]}


def test_a_rare_mode_family_is_odd_but_a_common_one_is_not():
    table = samples([{"mode": "RGB"}] * 40 + [{"mode": "L"}] * 30 + [{"path": "cmyk.jpg", "mode": "CMYK"},
                                                                      {"path": "deep.png", "mode": "I;16"}])
    found = quality.inspect(table)
    assert by_issue(found) == {"odd_mode": ["cmyk.jpg", "deep.png"]}
    assert "mode CMYK (CMYK) in a dataset that is mostly colour" in found["detail"].iloc[0] + found["detail"].iloc[1]


def test_strips_stretched_by_the_square_grid_and_tiny_images_are_not_judged_for_blur_or_exposure():
    soft = {"sharpness": 3e-4}
    dim = {"lum_p99": 0.05, "brightness": 0.03, "contrast": 0.02, "sharpness": 6e-4}
    table = pictures(sharp(30) + [
        {"path": "strip.png", "label": "shapes", "width": 240, "height": 20, **soft},  # stretched 12x
        {"path": "blurred.png", "label": "shapes", **soft},
        {"path": "dark_strip.png", "label": "shapes", "width": 7, "height": 110, **dim},  # no room for a scene
        {"path": "dark.png", "label": "shapes", **dim},
    ])
    assert by_issue(quality.inspect(table)) == {"blurry": ["blurred.png"], "dark": ["dark.png"]}


def test_a_smooth_outlier_is_an_outlier_not_a_blurred_picture():
    field = {"path": "field.jpg", "label": "shapes", "sharpness": 3e-4, "colour_entropy": 9.0}
    blurred = {"path": "blurred.jpg", "label": "shapes", "sharpness": 3e-4, "colour_entropy": 3.2}
    table = pictures(sharp(40) + [field, blurred])
    assert by_issue(quality.inspect(table)) == {"blurry": ["blurred.jpg"]}
    assert list(outliers.inspect(table)["path"]) == ["field.jpg"]


def test_a_naturally_smooth_picture_filed_under_another_class_is_not_blurry():
    waves = [{"path": f"waves{i}.png", "label": "waves", "sharpness": 2e-4 * (1 + i % 5 / 10),
              "colour_entropy": 4.5 + i % 3 * 0.1, "lum_p01": 0.3, "lum_p99": 0.9, "brightness": 0.6}
             for i in range(30)]
    misfiled = {**waves[7], "path": "waves_filed_as_shapes.png", "label": "shapes"}  # a typical wave
    blurred = {"path": "blurred.png", "label": "shapes", "sharpness": 3e-4}
    table = pictures(sharp(30) + waves + [misfiled, blurred])
    assert by_issue(quality.inspect(table)) == {"blurry": ["blurred.png"]}
    judged = outliers.judgement(table)
    assert outliers.typical_of_another_class(judged, ["waves_filed_as_shapes.png", "blurred.png"]) == {
        "waves_filed_as_shapes.png": "waves"}


def test_unlabelled_files_are_not_judged_for_blur_among_classes_but_a_flat_folder_is_judged_as_a_whole():
    orphans = [{"path": f"orphan{i}.png", "label": "", "sharpness": 3e-4 * (1 + i % 5 / 10)} for i in range(12)]
    assert quality.inspect(pictures(sharp(40) + orphans)).empty  # no class to be blurrier than
    flat = [{**r, "label": ""} for r in sharp(40)] + [{"path": "soft.png", "label": "", "sharpness": 3e-4}]
    assert by_issue(quality.inspect(pictures(flat))) == {"blurry": ["soft.png"]}
