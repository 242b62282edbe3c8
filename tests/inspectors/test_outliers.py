import numpy as np

from inspectors import outliers
from inspectors.config import OutliersConfig
from tests.inspectors.tables import samples


def blob(rng, cx, cy) -> bytes:
    """A 16x16 grey image: a soft bright blob at (cx, cy) plus a little noise."""
    y, x = np.mgrid[0:16, 0:16]
    img = 200 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8.0) + rng.normal(0, 4, (16, 16)) + 20
    return np.clip(img, 0, 255).astype(np.uint8).tobytes()


def test_an_image_unlike_everything_is_an_outlier_and_a_mislabelled_one_is_not():
    rng = np.random.default_rng(0)
    rows = [{"path": f"a{i}.png", "label": "left", "appearance": blob(rng, rng.uniform(3, 6), rng.uniform(6, 10))}
            for i in range(60)]
    rows += [{"path": f"b{i}.png", "label": "right", "appearance": blob(rng, rng.uniform(10, 13), rng.uniform(6, 10))}
             for i in range(60)]
    rows.append({"path": "noise.png", "label": "left", "appearance": rng.integers(0, 256, 256, np.uint8).tobytes()})
    rows.append({"path": "mislabelled.png", "label": "left", "appearance": blob(rng, 12, 8)})
    found = outliers.inspect(samples(rows), OutliersConfig(k=5))
    assert list(found["path"]) == ["noise.png"]
    assert found["score"].iloc[0] >= 0.5


def test_too_few_images_give_no_findings():
    assert outliers.inspect(samples([{}] * 5)).empty
