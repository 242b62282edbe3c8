"""Which pictures are the same photo after an edit (content.py finds and aligns the candidates), and how
each copy differs from its group's representative.

A candidate pair is a copy when, once aligned, both its layout and its detail agree (`min_layout`,
`min_detail`), and it stands out from the crowd: pictures with little in them (a dark edge on a plain
field, a blue sky, a circle on a gradient, one handwritten digit among thousands) align well with many
others once shifts and zooms are allowed, so a pair counts only when it agrees far better than either
picture agrees with its `crowd_rank`-th best partner among its nearest (`crowd_ratio` of that one's
disagreement, 1 - detail). A copy of a picture in a crowd still stands out when it is as close as
re-encoding leaves copies; a look-alike does not.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from . import alignment, content, vector_join
from .config import DuplicatesConfig

PAIR_COLUMNS = ["i", "j", "similarity", "mirrored", "zoom", "dx", "dy", "rotation", "layout", "detail", "worst",
                "crowd", "recoloured", "vouched", "copy"]


def crowd_levels(pairs: pd.DataFrame, n: int, config: DuplicatesConfig) -> np.ndarray:
    """Per picture (n of them): the detail correlation of its `crowd_rank`-th best partner among the aligned
    candidate pairs (-1 with fewer): its nearest in both searches and those that found it. A picture's own
    copies are among them, so the rank leaves room for a group of crowd_rank pictures; partners the hash rule
    vouches for (resized, re-encoded copies) are no crowd at all, so a larger group of such copies still
    stands out. The candidates are aligned already: the crowd costs nothing more."""
    rows = pairs[~pairs["vouched"].to_numpy(bool)]
    i, j = rows["i"].to_numpy(np.int64), rows["j"].to_numpy(np.int64)
    detail = np.tile(rows["detail"].to_numpy(np.float32), 2)  # a partner once, at its best (plain or mirrored)
    return vector_join.kth_distinct(np.r_[i, j], np.r_[j, i], detail, config.crowd_rank, n)


def content_pairs(nodes: pd.DataFrame, config: DuplicatesConfig, also=None) -> pd.DataFrame:
    """Candidate pairs among the pictures (positions in `nodes`, which has `content` and the mean colours),
    from the content search and `also`: a function giving pairs found otherwise (i, j, and `vouched`, a bool
    per pair, where the hash rule took them for copies), aligned, with their measurements and the verdict
    (`decide`). `also` runs on a thread of its own while the content search runs: it needs none of the
    search, and the search leaves part of a core idle."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(also) if also is not None else None
        g = content.fill_strips(content.greys(list(nodes["content"])))
        # the search's indexes and spectra are dropped before the alignment makes its own blurred copies
        found = content.candidates(content.Search(g, config.mirrored), config.neighbours, config.min_similarity,
                                   config.min_spectrum_similarity)
        i, j, vouched = later.result() if later is not None else (np.empty(0, np.int64),) * 2 + (None,)
    if len(i):
        found = content.merged(found, i, j)
    aligned = alignment.align(g, found, quick_below=alignment.QUICK_BELOW)
    pairs = pd.DataFrame({"i": found.i, "j": found.j, "similarity": found.similarity})
    pairs[ALIGNED] = _measures(aligned)
    pairs["vouched"] = _vouched(pairs, (i, j), vouched)
    _finish(g, found, pairs, aligned, config)
    crowd = crowd_levels(pairs, len(g), config)
    pairs["crowd"] = np.maximum(crowd[pairs["i"].to_numpy()], crowd[pairs["j"].to_numpy()])
    pairs["recoloured"] = colour_change(nodes, pairs["i"].to_numpy(), pairs["j"].to_numpy())
    pairs["copy"] = decide(pairs, config)
    return pairs[PAIR_COLUMNS]


ALIGNED = ["mirrored", "zoom", "dx", "dy", "rotation", "layout", "detail", "worst"]  # what content_pairs takes
# from the alignment


def _measures(aligned: alignment.Alignment) -> pd.DataFrame:
    return pd.DataFrame({c: getattr(aligned, c) for c in ALIGNED})


def could_be_copies(pairs: pd.DataFrame, config: DuplicatesConfig) -> np.ndarray:
    """Pairs that `decide` might call copies, whatever their crowd: alike by layout, detail (the looser of its
    two lines) and evenness, or vouched for by the hash rule."""
    return (((pairs["layout"] >= config.min_layout)
             & (pairs["detail"] >= min(config.min_detail, config.min_detail_alone))
             & (pairs["worst"] <= config.max_worst_block)) | pairs["vouched"]).to_numpy(bool)


def _finish(g: np.ndarray, found, pairs: pd.DataFrame, aligned: alignment.Alignment, config: DuplicatesConfig
            ) -> None:
    """Refine in full the partially refined pairs (alignment.QUICK_BELOW) that a verdict reads: those of every
    picture in a pair that might be a copy, whose crowd level is their detail (crowd_levels). The others'
    measures, a little low, decide nothing: a picture without such a pair has no copy whatever its crowd.
    Repeated while a finished pair turns out alike and brings in new pictures."""
    i, j = pairs["i"].to_numpy(np.int64), pairs["j"].to_numpy(np.int64)
    partial = aligned.partial.copy()
    while partial.any():
        alike = could_be_copies(pairs, config)
        wanted = np.zeros(len(g), bool)
        wanted[i[alike]] = wanted[j[alike]] = True
        redo = np.flatnonzero(partial & (wanted[i] | wanted[j]))
        if not len(redo):
            return
        again = _aligned_apart(lambda at: g[at], content.subset(found, redo), aligned.start[redo])
        for c in ALIGNED:
            values = pairs[c].to_numpy().copy()
            values[redo] = getattr(again, c)
            pairs[c] = values
        partial[redo] = False


def _aligned_apart(greys_of, pairs, start=None) -> alignment.Alignment:
    """alignment.align of the pairs (alignment.finish from `start`, given), reading and blurring only their
    pictures: `greys_of(positions)` gives those pictures' filled greys (the same values as among all: each
    picture is blurred on its own)."""
    pictures, at = np.unique(np.r_[pairs.i, pairs.j], return_inverse=True)
    n = len(pairs.i)
    apart = content.Candidates(at[:n], at[n:], pairs.similarity, pairs.mirrored, pairs.dx, pairs.dy)
    g = greys_of(pictures)
    return alignment.align(g, apart) if start is None else alignment.finish(g, apart, start)


def _vouched(pairs: pd.DataFrame, also, vouched) -> np.ndarray:
    """Which rows are pairs of `also` that `vouched` marks (plain, not mirrored, in either order)."""
    if also is None or vouched is None or not np.any(vouched):
        return np.zeros(len(pairs), bool)
    n = max(int(pairs[["i", "j"]].to_numpy().max(initial=0)), int(np.max(also, initial=0))) + 1
    keys = content.pair_keys(np.asarray(also[0])[vouched], np.asarray(also[1])[vouched], n)
    return np.isin(content.pair_keys(pairs["i"], pairs["j"], n), keys) & ~pairs["mirrored"].to_numpy(bool)


CRITERIA = {"layout": "the overall layout differs once aligned",
            "detail": "the fine detail differs once aligned",
            "uneven block": "one part of the picture differs more than the rest",
            "crowd": "look-alikes in the dataset agree nearly as well"}


def criteria(pairs: pd.DataFrame, config: DuplicatesConfig) -> tuple[np.ndarray, np.ndarray]:
    """Each of CRITERIA (columns, in that order) as a distance from its line, 1 on it: 1 - layout over
    1 - min_layout, 1 - detail over 1 - min_detail, the worst block over max_worst_block, and 1 - detail over
    its allowance from the crowd (`crowd_ratio` of 1 - crowd; `recoloured_crowd_ratio` for a pair both
    moved (shifted, zoomed or mirrored) and recoloured: drawings of one shape in other colours at other
    places align as well as a recoloured, shifted photo, but they come in crowds; a mirror image already from
    `max_recolour_mirrored`: mirroring doubles the alignments tried, and smooth pictures of other colours
    find one that agrees). Second: the distance by
    the rule for pairs the hash rule vouches for (hash_copies.confirmed: resized, re-encoded), which need
    only stand out from their crowd, `vouched_crowd_ratio` as far (a resampled textured photo's detail
    agrees less, while glyphs of one digit, which that rule lets through, stand in a crowd); inf for the
    others. A crowd not measured (-1: the pair is neither alike nor vouched) only understates the crowd
    criterion, and the others already put such a pair past the line."""
    f = {c: pairs[c].to_numpy(np.float64) for c in ("detail", "crowd", "dx", "dy", "zoom")}
    mirrored, recolour = pairs["mirrored"].to_numpy(bool), pairs["recoloured"].to_numpy(np.float64)
    moved = ((np.hypot(f["dx"], f["dy"]) >= 1) | (np.abs(np.log(f["zoom"])) >= 0.03) | mirrored
             | (pairs["rotation"].to_numpy(np.float64) != 0))
    strict = (moved & (recolour > config.max_recolour)) | (mirrored & (recolour > config.max_recolour_mirrored))
    limit = np.where(strict, config.recoloured_crowd_ratio, config.crowd_ratio)
    miss, apart = 1 - f["detail"], 1 - f["crowd"]
    each = np.column_stack([_likeness(pairs, config), _over(miss, limit * apart)])
    vouched = np.where(pairs["vouched"].to_numpy(bool), _over(miss, config.vouched_crowd_ratio * apart), np.inf)
    return each, vouched


def _likeness(pairs: pd.DataFrame, config: DuplicatesConfig) -> np.ndarray:
    """The first three criteria (layout, detail, uneven block): whether the pair is alike once aligned."""
    layout, detail, worst = (pairs[c].to_numpy(np.float64) for c in ("layout", "detail", "worst"))
    return np.column_stack([_over(1 - layout, 1 - config.min_layout), _detail(pairs, config),
                            _over(worst, config.max_worst_block)])


def _detail(pairs: pd.DataFrame, config: DuplicatesConfig) -> np.ndarray:
    """The detail criterion: 1 - detail over 1 - min_detail; or, for a pair that stands out from its crowd
    `alone_crowd_ratio` as far (a crowd not measured: no look-alike came near), over 1 - min_detail_alone,
    whichever is nearer."""
    miss = 1 - pairs["detail"].to_numpy(np.float64)
    alone = np.maximum(_over(miss, 1 - config.min_detail_alone),
                       _over(miss, config.alone_crowd_ratio * (1 - pairs["crowd"].to_numpy(np.float64))))
    return np.minimum(_over(miss, 1 - config.min_detail), alone)


def _over(value, allowed) -> np.ndarray:
    """value / allowed: at most 1 exactly when value <= allowed. No allowance (allowed <= 0): 1 for a value
    within it, else inf. A measure missing (NaN) is past any line."""
    value, allowed = np.broadcast_arrays(np.asarray(value, np.float64), np.asarray(allowed, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(allowed > 0, value / allowed, np.where(value <= allowed, 1.0, np.inf))
    return np.nan_to_num(ratio, nan=np.inf, posinf=np.inf)


def line_distance(pairs: pd.DataFrame, config: DuplicatesConfig) -> np.ndarray:
    """How far each aligned pair is from being called a copy, 1 on the line: the farthest of its criteria
    (see `criteria`), or for a vouched pair the nearer of that and the vouched rule. A pair is a copy
    exactly when this is at most 1 (`decide`)."""
    each, vouched = criteria(pairs, config)
    return np.minimum(each.max(axis=1, initial=0.0), vouched)


def binding(pairs: pd.DataFrame, config: DuplicatesConfig) -> np.ndarray:
    """Per pair, the name (a key of CRITERIA) of the criterion farthest past its line (for a copy, nearest
    to it): what turned the pair down, or would first."""
    each, vouched = criteria(pairs, config)
    names = np.array(list(CRITERIA), dtype=object)
    if not len(each):
        return names[:0]
    return np.where(vouched < each.max(axis=1), "crowd", names[each.argmax(axis=1)]).astype(object)


def decide(pairs: pd.DataFrame, config: DuplicatesConfig) -> np.ndarray:
    """Copies among aligned pairs: alike (layout, detail, no block that disagrees) and standing out from
    their crowd; or vouched for by the hash rule and standing out from their crowd (`criteria`)."""
    return line_distance(pairs, config) <= 1


def colour_change(nodes: pd.DataFrame, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """How far apart the two pictures' average colours are, brightness aside: the L1 distance of their mean
    R, G, B each less its grey (0 for two greyscale pictures, ~0.5 for a hue turned a third of the way)."""
    rgb = nodes[["mean_r", "mean_g", "mean_b"]].to_numpy(float)
    chroma = rgb - rgb.mean(axis=1, keepdims=True)
    return np.nan_to_num(np.abs(chroma[i] - chroma[j]).sum(axis=1))


def align_members(content_bytes: pd.Series, centre: np.ndarray, member: np.ndarray,
                  mirrored: np.ndarray) -> alignment.Alignment:
    """How each member (positions in `content_bytes`) sits relative to its centre."""
    zeros = np.zeros(len(centre), np.int64)
    pairs = content.Candidates(np.asarray(centre, np.int64), np.asarray(member, np.int64),
                               np.ones(len(centre), np.float32), mirrored, zeros, zeros)
    return _aligned_apart(lambda at: content.fill_strips(content.greys(list(content_bytes.iloc[at]))), pairs)


DESCRIBING = ["width", "height", "format", "brightness", "contrast", "mean_r", "mean_g", "mean_b"]  # what `difference`
# reads of each picture


def described_rows(nodes: pd.DataFrame, positions) -> dict:
    """{position: the DESCRIBING columns of that row of `nodes`} for the positions asked only: a dict per row of
    the whole table cost seconds at 60,000 pictures."""
    at = np.unique(np.asarray(positions, np.int64))
    frame = nodes[[c for c in DESCRIBING if c in nodes.columns]].iloc[at]
    return dict(zip(at.tolist(), frame.to_dict("records"), strict=True))


def difference(zoom: float, dx: float, dy: float, mirrored: bool, centre: dict, member: dict,
               rotation: float = 0.0) -> str:
    """How `member` differs from `centre`, in words: "mirrored, shifted 2 px right, 6 % brighter"."""
    parts = ["mirrored"] if mirrored else []
    if rotation:
        parts.append(f"turned about {abs(rotation):.0f} degrees")
    if zoom >= 1.03:
        parts.append(f"zoomed in {zoom - 1:.0%} (about {1 - 1 / zoom ** 2:.0%} of the picture cropped)")
    elif zoom <= 1 / 1.03:
        parts.append(f"zoomed out {1 / zoom - 1:.0%} (shows more around the edges)")
    px_x = dx * float(member.get("width") or content.SIDE) / content.SIDE
    px_y = dy * float(member.get("height") or content.SIDE) / content.SIDE
    moves = [f"{abs(v):.0f} px {word[int(v > 0)]}" for v, word in ((px_x, ("left", "right")), (px_y, ("up", "down")))
             if abs(v) >= 0.75]
    if moves:
        parts.append("shifted " + ", ".join(moves))
    parts += _tone(centre, member)
    if (centre.get("width"), centre.get("height")) != (member.get("width"), member.get("height")):
        parts.append(f"resized from {centre.get('width')}x{centre.get('height')} to "
                     f"{member.get('width')}x{member.get('height')}")
    if not parts:
        parts.append("re-encoded" if centre.get("format") == member.get("format") else
                     f"saved as {member.get('format')} (the other is {centre.get('format')})")
    return ", ".join(parts)


def _tone(centre: dict, member: dict) -> list[str]:
    """Brightness, contrast and colour changes from the samples table's statistics. Plain floats: numpy on
    three values cost most of the time of describing the thousands of copies of a large set."""
    out = []
    try:
        b0, b1 = float(centre["brightness"]), float(member["brightness"])
        c0, c1 = float(centre["contrast"]), float(member["contrast"])
        rgb0 = [float(centre[c]) for c in ("mean_r", "mean_g", "mean_b")]
        rgb1 = [float(member[c]) for c in ("mean_r", "mean_g", "mean_b")]
    except (KeyError, TypeError, ValueError):
        return out
    if b0 > 0.02 and abs(b1 / b0 - 1) >= 0.04:
        out.append(f"{abs(b1 / b0 - 1):.0%} {'brighter' if b1 > b0 else 'darker'}")
    if c0 > 0.01 and abs(c1 / c0 - 1) >= 0.1:
        out.append(f"{'more' if c1 > c0 else 'less'} contrast")
    chroma0 = [v - (rgb0[0] + rgb0[1] + rgb0[2]) / 3 for v in rgb0]
    chroma1 = [v - (rgb1[0] + rgb1[1] + rgb1[2]) / 3 for v in rgb1]
    spread0 = abs(chroma0[0]) + abs(chroma0[1]) + abs(chroma0[2])
    spread1 = abs(chroma1[0]) + abs(chroma1[1]) + abs(chroma1[2])
    if max(spread0, spread1) >= 0.03:
        if spread0 > 0.01 and spread1 / spread0 >= 1.3:
            out.append("more saturated")
        elif spread0 > 0.01 and spread1 / spread0 <= 1 / 1.3:
            out.append("less saturated")
        elif sum(abs(a - b) for a, b in zip(chroma1, chroma0, strict=True)) >= 0.04:
            out.append("colours changed")
    return out
