"""Label-noise sets for the label-issues benchmark, as a person meets them: real pictures and wrong labels that
mostly swap look-alike classes. A pure function of (name, size, noise, seed), written once under
benchmarks/data/ (gitignored) as PNGs plus a manifest (path,label) and the truth (path,true,given).

  photos32: 32 px windows cut from the real photos bundled with scikit-image and scikit-learn (_real_photos),
            one class per photo of the tuning group (10 classes), windows of random size and place, mirrored
            at random: crops of one photo are look-alikes, and some photos look alike (brick, grass).
  kinds32:  the same from all 20 photos, one class per kind of scene (10 classes: portrait, animal, texture,
            ...): a class holds different photos, and classes look alike (CIFAR-like).
  digits32: scikit-learn's handwritten digits rendered at 32 px (_digits32.render), shifted by up to 2 px.

Noise: a share `noise` of the images gets a wrong label. CONFUSED of them are swaps into the class a quick model
(nearest class mean of 8x8 thumbnails, on the clean labels) confuses each image's class with most; the rest are
uniform over the other classes.
"""

import hashlib
import io
import json
import shutil
from pathlib import Path

import _digits32
import _real_photos
import numpy as np
import pandas as pd
from PIL import Image

DATA = Path(__file__).resolve().parent / "data"
VERSION = 1  # bump on any change to what build() makes
CONFUSED = 0.7  # share of the wrong labels that go to the most-confused class
MIN_STD = 10.0  # grey std (0-255) below which a window is blank: refused


def _windows(rng, n: int, by_kind: bool = False) -> tuple[list[np.ndarray], list[str]]:
    names = _real_photos.names() if by_kind else _real_photos.names("tuning")
    images, labels = [], []
    while len(images) < n:
        name = names[int(rng.integers(len(names)))]
        photo = _real_photos.photo(name)
        h, w = photo.shape[:2]
        side = int(rng.integers(32, max(33, int(0.6 * min(h, w)))))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        small = np.asarray(Image.fromarray(photo[y:y + side, x:x + side]).resize((32, 32), Image.Resampling.LANCZOS))
        if small.mean(2).std() < MIN_STD:
            continue
        images.append(small[:, ::-1] if rng.random() < 0.5 else small)
        labels.append(_real_photos.PHOTOS[name][0] if by_kind else name)
    return images, labels


def _digits(rng, n: int) -> tuple[list[np.ndarray], list[str]]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    pick = rng.permutation(len(digits.target))[:n]
    images = []
    for i in pick:
        dx, dy = (int(v) for v in rng.integers(-2, 3, 2))
        images.append(_digits32.shifted(_digits32.render(digits.images[i]), dx, dy))
    return images, [str(digits.target[i]) for i in pick]


def confusion_partner(images: list[np.ndarray], labels: np.ndarray, classes: list[str]) -> dict:
    """{class: the class a nearest-class-mean model on 8x8 grey thumbnails most often mistakes it for}."""
    x = np.stack([np.asarray(Image.fromarray(np.asarray(a)).convert("L").resize((8, 8)), np.float32).ravel()
                  for a in images])
    means = np.stack([x[labels == c].mean(0) for c in classes])
    predicted = np.array(classes)[((x[:, None, :] - means[None]) ** 2).sum(2).argmin(1)]
    partner = {}
    for c in classes:
        wrong = pd.Series(predicted[(labels == c) & (predicted != c)]).value_counts()
        partner[c] = wrong.index[0] if len(wrong) else next(o for o in classes if o != c)
    return partner


def build(name: str, size: int, noise: float, seed: int = 0) -> Path:
    """The set's folder (images/, manifest.csv, truth.csv, facts.json), made once and reused."""
    folder = DATA / f"label_noise_{name}_{size}_{noise}_{seed}_v{VERSION}"
    if (folder / "truth.csv").exists():
        return folder
    rng = np.random.default_rng([seed, size, int(noise * 1000), int(hashlib.md5(name.encode()).hexdigest()[:6], 16)])
    images, true = (_windows(rng, size) if name == "photos32" else _windows(rng, size, by_kind=True)
                    if name == "kinds32" else _digits(rng, size))
    true = np.array(true, dtype=object)
    classes = sorted(set(true))
    partner = confusion_partner(images, true, classes)
    given = true.copy()
    wrong = rng.permutation(len(true))[:int(round(noise * len(true)))]
    for i in wrong:
        others = [c for c in classes if c != true[i]]
        given[i] = partner[true[i]] if rng.random() < CONFUSED else others[int(rng.integers(len(others)))]
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "images").mkdir(parents=True)
    paths = []
    for i, a in enumerate(images):
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(a)).save(buf, "PNG")
        path = f"images/{i:05d}.png"
        (tmp / path).write_bytes(buf.getvalue())
        paths.append(path)
    pd.DataFrame({"path": paths, "label": given}).to_csv(tmp / "manifest.csv", index=False)
    pd.DataFrame({"path": paths, "true": true, "given": given}).to_csv(tmp / "truth.csv", index=False)
    (tmp / "facts.json").write_text(json.dumps({"partner": partner, "wrong": len(wrong), "images": size}))
    tmp.rename(folder)
    return folder
