"""Where is the line: every pair the near-copy search judged, by how far it is from being called a copy,
so a person can judge the line on their own data.

The pairs are the duplicates inspector's own: its pictures (duplicates.pictures), its candidates and
measures (duplicates.judged_pairs) and its decision, as a number (copies.line_distance): the criterion
farthest past its limit, as a multiple of that limit. A pair is a copy exactly when it is at most 1, so the
chart's line is the line that builds the groups. Exact copies (same pixels) are one picture, as in the
inspector. A pair measured both as is and mirrored counts once, by its nearer reading (it is a copy when
either reading is).

A table scanned before content thumbnails (or with `duplicates.content` off) is judged by the hash rule
alone, which has no such number: the result then says so (`reason`) and holds no pairs.
"""

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import copies, duplicates
from .config import DuplicatesConfig
from .scan import read_samples
from .workspace import atomic_write_bytes

EDGES = np.round(np.arange(0, 3.05, 0.1), 2)  # bins (low, high] of 0.1 up to 3, one more past it; 1 is an edge
PAIR_COLUMNS = ["path_a", "path_b", "line_distance", "copy", "binding", "how", "mirrored", "zoom", "dx", "dy",
                "layout", "detail", "worst", "crowd"]
NO_CONTENT = ("This dataset was scanned before content thumbnails existed, so its near copies are judged by "
              "perceptual hash alone, which draws no line. Rescan to see the line.")
CONTENT_OFF = ("Near copies are judged by perceptual hash alone here (`duplicates.content=false`), which draws "
               "no line. Scan with `--set duplicates.content=true` to see it.")


@dataclass(frozen=True)
class PairDistances:
    pairs: pd.DataFrame  # PAIR_COLUMNS, one row per judged pair, nearest 0 first; `how` blank far past the line
    histogram: pd.DataFrame  # low, high (inf for the last bin), copies, not_copies: pairs per bin of line_distance
    pictures: int  # distinct pictures searched
    config: DuplicatesConfig = field(default_factory=DuplicatesConfig)  # the line's settings
    reason: str = ""  # why no line is drawn (then no pairs); "" when there is one


def pair_distances(samples: pd.DataFrame, config: DuplicatesConfig = DuplicatesConfig()) -> PairDistances:
    nodes = duplicates.pictures(samples, config)
    if not config.content or "content" not in nodes.columns or nodes["content"].isna().any():
        return PairDistances(_pairs(pd.DataFrame(columns=PAIR_COLUMNS)), histogram(np.empty(0), np.empty(0, bool)),
                             len(nodes), config, NO_CONTENT if config.content else CONTENT_OFF)
    judged = duplicates.judged_pairs(nodes, config) if duplicates.by_content(nodes, config) else None
    if judged is None or judged.empty:
        pairs = _pairs(pd.DataFrame(columns=PAIR_COLUMNS))
    else:
        judged = judged.assign(line_distance=copies.line_distance(judged, config),
                               binding=copies.binding(judged, config))
        i, j = judged["i"].to_numpy(np.int64), judged["j"].to_numpy(np.int64)
        judged = (judged.assign(lo=np.minimum(i, j), hi=np.maximum(i, j))
                  .sort_values(["line_distance", "mirrored"], kind="stable").drop_duplicates(["lo", "hi"]))
        paths = nodes["path"].to_numpy(object)
        described = judged.iloc[:_described(judged["line_distance"].to_numpy(float), judged["copy"].to_numpy(bool))]
        rows = copies.described_rows(nodes, np.r_[described["i"].to_numpy(np.int64), described["j"].to_numpy(np.int64)])
        how = [copies.difference(z, x, y, bool(m), rows[a], rows[b], t) for z, x, y, t, m, a, b in
               zip(described["zoom"], described["dx"], described["dy"], described["rotation"], described["mirrored"],
                   described["i"], described["j"], strict=True)]
        how += [""] * (len(judged) - len(how))
        pairs = _pairs(judged.assign(path_a=paths[judged["i"].to_numpy()], path_b=paths[judged["j"].to_numpy()],
                                     how=how))
    return PairDistances(pairs, histogram(pairs["line_distance"].to_numpy(float), pairs["copy"].to_numpy(bool)),
                         len(nodes), config)


DESCRIBED = 1.5  # pairs up to this line distance get their `how`, and the nearest NEAREST_OUTSIDE past the line
NEAREST_OUTSIDE = 50  # (the page shows the few nearest each side); describing all ~4 a picture cost seconds


def _described(line_distance: np.ndarray, copy: np.ndarray) -> int:
    """How many of the pairs (sorted by line distance) are described in words."""
    return max(int(np.searchsorted(line_distance, DESCRIBED, side="right")), int(copy.sum()) + NEAREST_OUTSIDE)


def _pairs(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[PAIR_COLUMNS].astype({"line_distance": float, "copy": bool, "mirrored": bool})
    return out.sort_values(["line_distance", "path_a", "path_b"], kind="stable").reset_index(drop=True)


def histogram(distance: np.ndarray, copy: np.ndarray) -> pd.DataFrame:
    """Pairs per bin (low, high] of line distance (the first from 0 included, the last unbounded), copies and
    not. A copy is at most 1 and 1 is an edge, so no bin holds both."""
    high = np.r_[EDGES[1:], np.inf]
    which = np.searchsorted(high, np.maximum(distance, 0), side="left")
    return pd.DataFrame({"low": EDGES, "high": high,
                         "copies": np.bincount(which[copy], minlength=len(EDGES)),
                         "not_copies": np.bincount(which[~copy], minlength=len(EDGES))})


def measured(workspace_dir, config: DuplicatesConfig = DuplicatesConfig()) -> PairDistances:
    """pair_distances of a scanned workspace's samples table, measured again (what the app's background process
    runs where `read` found none of these settings)."""
    return pair_distances(read_samples(workspace_dir), config)


FILE = "pair_distances.parquet"


def _stamp(folder) -> str:
    samples = (Path(folder) / "samples.parquet").stat()
    return f"{samples.st_size}:{samples.st_mtime_ns}"


def _settings(config: DuplicatesConfig) -> str:
    return json.dumps(dataclasses.asdict(config), sort_keys=True)


def write(result: PairDistances, folder) -> Path:
    """FILE in the folder that holds samples.parquet: the pairs, with what they were measured from."""
    target = Path(folder) / FILE
    table = pa.Table.from_pandas(result.pairs, preserve_index=False)
    meta = {b"pictures": str(result.pictures).encode(), b"reason": result.reason.encode(),
            b"settings": _settings(result.config).encode(), b"samples": _stamp(folder).encode()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    atomic_write_bytes(target, sink.getvalue().to_pybytes())
    return target


def read(folder, config: DuplicatesConfig) -> PairDistances | None:
    """The scan's pair distances, or None where there are none, or they are of other settings or another
    samples table."""
    path = Path(folder) / FILE
    try:
        meta = pq.read_schema(path).metadata or {}  # the pairs themselves only when they are of these
        if meta.get(b"settings", b"").decode() != _settings(config) or \
                meta.get(b"samples", b"").decode() != _stamp(folder):
            return None
        table = pq.read_table(path)
        pairs = _pairs(table.to_pandas())
        return PairDistances(pairs, histogram(pairs["line_distance"].to_numpy(float), pairs["copy"].to_numpy(bool)),
                             int(meta[b"pictures"]), config, meta.get(b"reason", b"").decode())
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None  # none yet, or damaged: measured again


def just_inside(result: PairDistances, n: int = 4) -> pd.DataFrame:
    """The copies nearest the line: the largest line distances at most 1."""
    inside = result.pairs[result.pairs["copy"]]
    return inside.sort_values("line_distance", ascending=False, kind="stable").head(n).reset_index(drop=True)


def just_outside(result: PairDistances, n: int = 4) -> pd.DataFrame:
    """The pairs turned down nearest the line: the smallest line distances past 1."""
    return result.pairs[~result.pairs["copy"]].head(n).reset_index(drop=True)
