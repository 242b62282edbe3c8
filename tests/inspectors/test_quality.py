from inspectors import quality
from tests.inspectors.tables import samples


def by_issue(found):
    return {issue: sorted(part["path"]) for issue, part in found.groupby("issue")}


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
    got = by_issue(quality.inspect(samples(sharp + smooth + blurred)))
    assert got == {"blurry": ["blurred.png"]}


def test_a_rare_mode_family_is_odd_but_a_common_one_is_not():
    table = samples([{"mode": "RGB"}] * 40 + [{"mode": "L"}] * 30 + [{"path": "cmyk.jpg", "mode": "CMYK"},
                                                                      {"path": "deep.png", "mode": "I;16"}])
    found = quality.inspect(table)
    assert by_issue(found) == {"odd_mode": ["cmyk.jpg", "deep.png"]}
    assert "mode CMYK (CMYK) in a dataset that is mostly colour" in found["detail"].iloc[0] + found["detail"].iloc[1]
