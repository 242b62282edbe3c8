"""Quality: dark, light, blurry, near-blank and odd-mode images.

Each rule looks at what makes the problem, not at a proxy that normal images share:
- dark: the brightest pixels are dim too (the 99th luminance percentile), so a bright object on a
  black background is not "dark"; light: the darkest pixels are bright (washed out); neither is
  judged on icons and strips under blur_min_side a side (their geometry is the finding);
- blurry: edge energy (Laplacian variance on a fixed 64x64 grid) relative to the image's own
  variance, compared with the image's own class, so a class of naturally smooth images is not
  blurry, and a sharp object on a flat background (all its variance at the edges) is sharp. Not
  judged where the comparison means nothing: images too small to have edges, images stretched on
  the square grid far more than their class (strips), outliers (unlike every class, they have no
  class sharpness: a smooth random field is an outlier, not a blurred picture), and typical members
  of another class (a naturally smooth picture filed under the wrong class is a label issue);
- low information: next to no contrast or entropy;
- odd mode: a mode family (colour, grey, palette, alpha, CMYK, 16-bit) that few images share.
"""

import numpy as np
import pandas as pd

from . import findings as F
from . import outliers
from .config import QualityConfig
from .features import MODE_FAMILY
from .inspector import Inspector

NEEDS = ["path", "ok", "label", "mode", "width", "height", "brightness", "contrast", "sharpness", "entropy",
         "lum_p01", "lum_p99"]

MIN_CLASS_SIZE = 10  # below this a class's own median is noise: compare with the whole dataset
UNLABELLED = ""  # no class: in a set without classes (a flat folder) compared with the whole set; among classes
# (orphans outside a CSV) not judged for blur, since the whole set would call a naturally smooth picture blurry


def relative_contrast(ok: pd.DataFrame) -> np.ndarray:
    """Grey std over the room the mean leaves towards black or white: an under-exposed photo keeps its
    structure (0.1+), a flat field has none (< 0.02), whatever its brightness."""
    brightness = ok["brightness"].to_numpy(float)
    room = np.maximum(np.minimum(brightness, 1 - brightness), 0.02)
    return ok["contrast"].to_numpy(float) / room


def edge_energy(ok: pd.DataFrame) -> np.ndarray:
    """log(Laplacian variance / grey variance): high when the variance sits at edges."""
    var = np.maximum(ok["contrast"].to_numpy(float) ** 2, 1e-6)
    return np.log(np.maximum(ok["sharpness"].to_numpy(float), 1e-9) / var)


def blur_scores(ok: pd.DataFrame, config: QualityConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is_blurry, score, drop below the reference median) per image, each against its own class."""
    energy = edge_energy(ok)
    informative = relative_contrast(ok) >= config.low_info_contrast
    drop = np.zeros(len(ok))
    z = np.zeros(len(ok))
    labels = ok["label"].fillna(UNLABELLED).to_numpy()
    counts = pd.Series(labels).value_counts()
    classes = [c for c, n in counts.items() if c != UNLABELLED and n >= MIN_CLASS_SIZE]
    for label in np.unique(labels):
        members = (labels == label) & informative
        if label == UNLABELLED and classes:
            continue  # no class to compare with, in a set that has classes: not judged
        ref = members if label in classes else informative
        _, med, scale = F.robust_z(energy[ref], floor=0.1)
        drop[labels == label] = med - energy[labels == label]
        z[labels == label] = drop[labels == label] / scale
    blurry = informative & (z > config.blur_z) & (drop > config.blur_min_drop) & measurable_blur(ok, config)
    score = np.clip(drop / (2 * config.blur_min_drop), 0, 1)
    return blurry, score, drop


def measurable_blur(ok: pd.DataFrame, config: QualityConfig) -> np.ndarray:
    """Where edge energy can be compared with the class: the image has room for edges, and the square
    sharpness grid does not stretch it much more than its class (a 240x20 strip of a 60x60 class is
    stretched 12x, which blurs it by itself)."""
    w, h = ok["width"].to_numpy(float), ok["height"].to_numpy(float)
    log_aspect = np.log(w / h)
    labels = ok["label"].fillna(UNLABELLED).to_numpy()
    typical = pd.Series(log_aspect).groupby(labels).transform("median").to_numpy()
    return (np.minimum(w, h) >= config.blur_min_side) & \
        (np.abs(log_aspect - typical) <= np.log(config.blur_max_stretch))


def inspect(samples: pd.DataFrame, config: QualityConfig = QualityConfig(),
            outlier_judgement: outliers.Judgement | None = None) -> pd.DataFrame:
    """The quality findings. Blur candidates are checked against `outlier_judgement`: the one run.py computed
    with this run's outliers settings (the outlier inspector reports from the same), else the defaults'."""
    F.require(samples, NEEDS, "quality")
    ok = samples[samples["ok"].astype(bool) & samples["contrast"].notna()].reset_index(drop=True)
    if ok.empty:
        return F.empty()
    p99, p01 = ok["lum_p99"].to_numpy(float), ok["lum_p01"].to_numpy(float)
    contrast, entropy = ok["contrast"].to_numpy(float), ok["entropy"].to_numpy(float)
    low_info = relative_contrast(ok) < config.low_info_contrast
    room = np.minimum(ok["width"].to_numpy(float), ok["height"].to_numpy(float)) >= config.blur_min_side
    dark = (p99 < config.dark_p99) & ~low_info & room
    light = (p01 > config.light_p01) & ~low_info & room
    blurry, blur_score, drop = blur_scores(ok, config)
    blurry &= ~low_info & ~dark & ~light
    if blurry.any():  # no class to be blurrier than: outliers, and typical members of another class
        judged = outlier_judgement or outliers.judgement(samples)
        candidates = ok["path"][blurry]
        not_judged = outliers.outlier_paths(judged, candidates) | \
            set(outliers.typical_of_another_class(judged, candidates))
        blurry &= ~ok["path"].isin(not_judged).to_numpy()
    family = ok["mode"].map(MODE_FAMILY).fillna(ok["mode"]).to_numpy()
    share = pd.Series(family).map(pd.Series(family).value_counts(normalize=True)).to_numpy()
    majority = pd.Series(family).value_counts().idxmax()
    odd_mode = (family != majority) & (share < config.odd_mode_max_share)
    return F.concat([
        F.findings(ok["path"][dark], "dark", 1 - p99[dark] / config.dark_p99,
                   [f"even the brightest 1% of pixels are at {v:.0%} grey (under-exposed)" for v in p99[dark]]),
        F.findings(ok["path"][light], "light", (p01[light] - config.light_p01) / (1 - config.light_p01),
                   [f"even the darkest 1% of pixels are at {v:.0%} grey (washed out)" for v in p01[light]]),
        F.findings(ok["path"][blurry], "blurry", blur_score[blurry],
                   [f"edge energy {np.exp(d):.0f}x below the median of its class" for d in drop[blurry]]),
        F.findings(ok["path"][low_info], "low_information",
                   1 - relative_contrast(ok)[low_info] / config.low_info_contrast * 0.5,
                   [f"near-blank: grey std {c:.3f}, entropy {e:.2f} bits" for c, e in
                    zip(contrast[low_info], entropy[low_info], strict=True)]),
        F.findings(ok["path"][odd_mode], "odd_mode", 1 - share[odd_mode],
                   [f"mode {m} ({f}) in a dataset that is mostly {majority} ({s:.1%} share)" for m, f, s in
                    zip(ok["mode"][odd_mode], family[odd_mode], share[odd_mode], strict=True)]),
    ])


def summarize(samples: pd.DataFrame, found: pd.DataFrame, config: QualityConfig = QualityConfig()) -> dict:
    ok = samples[samples["ok"].astype(bool)]
    family = ok["mode"].map(MODE_FAMILY).fillna(ok["mode"])
    return {"mode_families": {k: int(v) for k, v in family.value_counts().items()}}


INSPECTOR = Inspector("quality", tuple(NEEDS), inspect, summarize, section="quality", uses=(outliers.JUDGEMENT,))
