"""Quality: dark, light, blurry, near-blank and odd-mode images.

Each rule looks at what makes the problem, not at a proxy that normal images share:
- dark: the brightest pixels are dim too (the 99th luminance percentile), so a bright object on a
  black background is not "dark"; light: the darkest pixels are bright (washed out);
- blurry: edge energy (Laplacian variance on a fixed 64x64 grid) relative to the image's own
  variance, compared with the image's own class, so a class of naturally smooth images is not
  blurry, and a sharp object on a flat background (all its variance at the edges) is sharp;
- low information: next to no contrast or entropy;
- odd mode: a mode family (colour, grey, palette, alpha, CMYK, 16-bit) that few images share.
"""

import numpy as np
import pandas as pd

from . import findings as F
from .config import QualityConfig

NEEDS = ["path", "ok", "label", "mode", "width", "height", "brightness", "contrast", "sharpness", "entropy",
         "lum_p01", "lum_p99"]

MODE_FAMILY = {"RGB": "colour", "YCbCr": "colour", "L": "greyscale", "1": "greyscale", "P": "palette",
               "RGBA": "alpha", "LA": "alpha", "PA": "alpha", "RGBa": "alpha", "La": "alpha", "CMYK": "CMYK",
               "I;16": "16-bit", "I;16B": "16-bit", "I;16L": "16-bit", "I;16N": "16-bit", "I": "32-bit",
               "F": "32-bit float", "LAB": "LAB", "HSV": "HSV"}
MIN_CLASS_SIZE = 10  # below this a class's own median is noise: compare with the whole dataset


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
    labels = ok["label"].fillna("").to_numpy()
    counts = pd.Series(labels).value_counts()
    for label in np.unique(labels):
        members = (labels == label) & informative
        ref = members if counts.get(label, 0) >= MIN_CLASS_SIZE else informative
        _, med, scale = F.robust_z(energy[ref], floor=0.1)
        drop[labels == label] = med - energy[labels == label]
        z[labels == label] = drop[labels == label] / scale
    blurry = informative & (z > config.blur_z) & (drop > config.blur_min_drop)
    score = np.clip(drop / (2 * config.blur_min_drop), 0, 1)
    return blurry, score, drop


def inspect(samples: pd.DataFrame, config: QualityConfig = QualityConfig()) -> pd.DataFrame:
    F.require(samples, NEEDS, "quality")
    ok = samples[samples["ok"].astype(bool) & samples["contrast"].notna()].reset_index(drop=True)
    if ok.empty:
        return F.empty()
    p99, p01 = ok["lum_p99"].to_numpy(float), ok["lum_p01"].to_numpy(float)
    contrast, entropy = ok["contrast"].to_numpy(float), ok["entropy"].to_numpy(float)
    low_info = relative_contrast(ok) < config.low_info_contrast
    dark = (p99 < config.dark_p99) & ~low_info
    light = (p01 > config.light_p01) & ~low_info
    blurry, blur_score, drop = blur_scores(ok, config)
    big_enough = np.minimum(ok["width"].to_numpy(float), ok["height"].to_numpy(float)) >= config.blur_min_side
    blurry &= ~low_info & ~dark & ~light & big_enough
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
