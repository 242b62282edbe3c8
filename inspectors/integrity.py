"""Integrity: files that fail to decode, whose content contradicts their name, or that are not images,
not there, or not in the manifest. Each reason comes from the scan's `error` column."""

import numpy as np
import pandas as pd

from . import findings as F
from .inspector import Inspector
from .schema import ENTRY_IMAGE, ENTRY_MISSING, ENTRY_UNSUPPORTED

NEEDS = ["path", "entry", "ok", "error", "format", "orphan"]

# what each extension promises; PIL's name for the content on the right ("MPO" is a multi-picture JPEG)
EXTENSION_FORMATS = {
    ".jpg": {"JPEG", "MPO"}, ".jpeg": {"JPEG", "MPO"}, ".jfif": {"JPEG", "MPO"}, ".png": {"PNG"},
    ".gif": {"GIF"}, ".bmp": {"BMP", "DIB"}, ".tif": {"TIFF"}, ".tiff": {"TIFF"}, ".webp": {"WEBP"},
    ".ppm": {"PPM"}, ".pgm": {"PPM"}, ".pbm": {"PPM"},
}


def extension(paths: pd.Series) -> pd.Series:
    return paths.str.extract(r"(\.[^./]+)$", expand=False).fillna("").str.lower()


def inspect(samples: pd.DataFrame, config=None) -> pd.DataFrame:
    F.require(samples, NEEDS, "integrity")
    image = samples["entry"] == ENTRY_IMAGE
    error = samples["error"].fillna("")
    gone = image & ~samples["ok"] & error.str.startswith("FileNotFoundError")  # deleted after listing
    corrupt = samples[image & ~samples["ok"] & ~gone]
    missing = samples[(samples["entry"] == ENTRY_MISSING) | gone]
    unsupported = samples[samples["entry"] == ENTRY_UNSUPPORTED]
    orphans = samples[samples["orphan"].astype(bool)]
    ok = samples[image & samples["ok"]]
    ext = extension(ok["path"])
    expected = ext.map(EXTENSION_FORMATS)
    mismatch = ok[np.array([fmt not in want if isinstance(want, set) else False
                            for fmt, want in zip(ok["format"].fillna(""), expected, strict=True)], dtype=bool)]
    mismatch_ext = extension(mismatch["path"])
    return F.concat([
        F.findings(corrupt["path"], "corrupt", 1.0, corrupt["error"].fillna("does not decode")),
        F.findings(mismatch["path"], "format_mismatch", 1.0,
                   [f"named {e} but the content is {fmt}" for e, fmt in zip(mismatch_ext, mismatch["format"],
                                                                            strict=True)]),
        F.findings(unsupported["path"], "unsupported_file", 1.0, unsupported["error"].fillna("not an image")),
        F.findings(missing["path"], "missing_file", 1.0,
                   missing["error"].fillna("named by the manifest, but no such file")),
        F.findings(orphans["path"], "orphan_file", 1.0, "an image under the dataset root that the manifest does "
                   "not name (no label)"),
    ])


def summarize(samples: pd.DataFrame, found: pd.DataFrame, config=None) -> dict:
    corrupt = found[found["issue"] == "corrupt"]
    kinds = corrupt["detail"].str.split(":").str[0].value_counts()
    return {"corrupt_kinds": {k: int(v) for k, v in kinds.items()}}


INSPECTOR = Inspector("integrity", tuple(NEEDS), inspect, summarize)
