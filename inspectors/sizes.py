"""Sizes: odd sizes and aspect ratios, and the distribution tables the Sizes page draws.

Rules on the log scale, against the median, with a floor on the spread: when most images share one
size the IQR is zero, and a rule built on it alone (cleanvision's trap) flags every other size.
Here an image is odd only if it is `size_factor` times off the median side AND beyond `robust_z`
robust stds of the dataset's own spread: a dataset of 256-1024 px photos has no odd 300 px image.
"""

import numpy as np
import pandas as pd

from . import findings as F
from .config import SizesConfig
from .inspector import Inspector

NEEDS = ["path", "ok", "width", "height", "bytes", "mode", "format"]


def geometry(samples: pd.DataFrame) -> pd.DataFrame:
    ok = samples[samples["ok"].astype(bool) & samples["width"].notna()]
    w = ok["width"].astype(float).to_numpy()
    h = ok["height"].astype(float).to_numpy()
    return pd.DataFrame({"path": ok["path"].to_numpy(), "width": w, "height": h,
                         "side": np.sqrt(w * h), "aspect": w / h, "megapixels": w * h / 1e6,
                         "bytes": ok["bytes"].astype(float).to_numpy(), "mode": ok["mode"].to_numpy()})


def _odd(values_log: np.ndarray, factor: float, z_limit: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(is_odd, score, median) for log-scale values: beyond log(factor) and beyond z_limit robust stds."""
    z, med, scale = F.robust_z(values_log)
    dist = np.abs(values_log - med)
    limit = max(np.log(factor), z_limit * scale)
    odd = dist > limit
    score = np.clip((dist - limit) / limit, 0, 1) * 0.5 + 0.5  # 0.5 at the limit, 1 at twice the limit
    return odd, score, med


def inspect(samples: pd.DataFrame, config: SizesConfig = SizesConfig()) -> pd.DataFrame:
    F.require(samples, NEEDS, "sizes")
    g = geometry(samples)
    if len(g) < 5:
        return F.empty()
    odd_side, side_score, med_side = _odd(np.log(g["side"].to_numpy()), config.size_factor, config.robust_z)
    odd_aspect, aspect_score, med_aspect = _odd(np.log(g["aspect"].to_numpy()), config.aspect_factor,
                                                config.robust_z)
    s, a = g[odd_side], g[odd_aspect]
    med_w, med_h = np.median(g["width"]), np.median(g["height"])
    return F.concat([
        F.findings(s["path"], "odd_size", side_score[odd_side],
                   [f"{w:.0f}x{h:.0f}: {max(side / np.exp(med_side), np.exp(med_side) / side):.1f}x "
                    f"{'larger' if side > np.exp(med_side) else 'smaller'} than the typical {med_w:.0f}x{med_h:.0f}"
                    for w, h, side in zip(s["width"], s["height"], s["side"], strict=True)]),
        F.findings(a["path"], "odd_aspect_ratio", aspect_score[odd_aspect],
                   [f"{w:.0f}x{h:.0f}: aspect {ar:.2f} vs the typical {np.exp(med_aspect):.2f}"
                    for w, h, ar in zip(a["width"], a["height"], a["aspect"], strict=True)]),
    ])


def summarize(samples: pd.DataFrame, found: pd.DataFrame, config: SizesConfig = SizesConfig()) -> dict:
    g = geometry(samples)
    if g.empty:
        return {}
    return {"sizes": {
        "median_width": float(g["width"].median()), "median_height": float(g["height"].median()),
        "distinct_sizes": int(g.groupby(["width", "height"]).ngroups),
        "most_common_size": "{:.0f}x{:.0f}".format(*g.groupby(["width", "height"]).size().idxmax()),
        "most_common_share": float(g.groupby(["width", "height"]).size().max() / len(g)),
    }}


def distribution(samples: pd.DataFrame, column: str, bins: int = 40) -> pd.DataFrame:
    """Histogram table (bin_left, bin_right, count) of width/height/side/aspect/megapixels/bytes,
    on a log scale where the spread is multiplicative; counts of each value for `mode`."""
    g = geometry(samples)
    if column == "mode":
        return g["mode"].value_counts().rename_axis("mode").reset_index(name="count")
    values = g[column].to_numpy()
    if len(values) == 0:
        return pd.DataFrame({"bin_left": [], "bin_right": [], "count": []})
    lo, hi = values.min(), values.max()
    edges = np.geomspace(lo, hi, bins + 1) if lo > 0 and hi / lo > 4 else np.linspace(lo, hi + 1e-9, bins + 1)
    counts, edges = np.histogram(values, edges)
    return pd.DataFrame({"bin_left": edges[:-1], "bin_right": edges[1:], "count": counts})


def size_grid(samples: pd.DataFrame, bins: int = 30) -> pd.DataFrame:
    """Width x height density on log bins: (w_left, w_right, h_left, h_right, count), non-empty cells only;
    aggregated so a million images still draw as a few hundred cells."""
    g = geometry(samples)
    if g.empty:
        return pd.DataFrame(columns=["w_left", "w_right", "h_left", "h_right", "count"])
    lo = min(g["width"].min(), g["height"].min())
    hi = max(g["width"].max(), g["height"].max())
    edges = np.geomspace(max(lo, 1), hi + 1, bins + 1)
    counts, _, _ = np.histogram2d(g["width"], g["height"], [edges, edges])
    wi, hi_ = np.nonzero(counts)
    return pd.DataFrame({"w_left": edges[wi], "w_right": edges[wi + 1], "h_left": edges[hi_],
                         "h_right": edges[hi_ + 1], "count": counts[wi, hi_].astype(int)})


INSPECTOR = Inspector("sizes", tuple(NEEDS), inspect, summarize, section="sizes")
