"""Duplicates: exact copies (same pixels), near copies, the copies that leak across splits, and copies that
disagree on the label. Near copies come from two searches: perceptual hashes (hash_copies.py: resized,
re-encoded, re-exposed copies) and content (copies.py: shifted, cropped, zoomed, recoloured, mirrored).

Groups never chain: each group is a representative plus neighbours within the radius of *it*
(greedy, most-connected first), so A~B and B~C never put A and C together unless A~C.
"""

import numpy as np
import pandas as pd

from . import copies, hash_copies
from . import findings as F
from .config import DuplicatesConfig
from .inspector import Inspector
from .schema import SPLITS

NEEDS = ["path", "ok", "label", "split", "pixel_hash", "phash", "contrast", "appearance"]
SPLIT_ORDER = {"other": -1, **{s: i for i, s in enumerate(SPLITS)}}  # `other` (--against) comes first


def exact_groups(ok: pd.DataFrame) -> pd.Series:
    """Group number per row (by pixel hash) for rows that share their pixels with another; else -1."""
    sizes = ok.groupby("pixel_hash")["path"].transform("size")
    codes = pd.Series(pd.factorize(ok["pixel_hash"])[0], index=ok.index)
    return codes.where(sizes > 1, -1)


def group_without_chaining(n: int, i: np.ndarray, j: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Centre index per node (-1 if ungrouped): most-connected nodes first become centres, and take
    their still-free neighbours. `rank` breaks ties (lower first)."""
    degree = np.bincount(np.r_[i, j], minlength=n)
    neighbours = pd.Series(np.r_[j, i]).groupby(np.r_[i, j]).apply(list).to_dict() if len(i) else {}
    centre = np.full(n, -1)
    for node in np.lexsort((rank, -degree)):
        if centre[node] != -1 or degree[node] == 0:
            continue
        free = [m for m in neighbours[node] if centre[m] == -1]
        if free:
            centre[node] = node
            centre[free] = node
    return centre


def by_content(nodes: pd.DataFrame, config: DuplicatesConfig) -> bool:
    """Whether near copies among `nodes` are judged on content (copies.py), else by the hash rule: a table
    scanned before content thumbnails existed, or with `content` off."""
    return bool(config.content and "content" in nodes.columns and nodes["content"].notna().all() and len(nodes) > 1)


_LAST: dict = {}  # this process's last judged pairs: the scan's inspector and the workspace's pair view share them


def _key(nodes: pd.DataFrame, config: DuplicatesConfig) -> tuple:
    digest = pd.util.hash_pandas_object(nodes[["path", "pixel_hash"]], index=False).to_numpy().sum()
    return config, len(nodes), int(digest)


def judged_already(nodes: pd.DataFrame, config: DuplicatesConfig) -> bool:
    """Whether judged_pairs of these pictures and settings is at hand in this process (no work to ask again)."""
    entry = _LAST.get("entry")
    return entry is not None and entry[0] == _key(nodes, config)


def judged_pairs(nodes: pd.DataFrame, config: DuplicatesConfig) -> pd.DataFrame:
    """_judged_pairs, kept for the last pictures and settings asked: a scan's pair view asks again. One
    (key, pairs) entry, replaced whole: the app's sessions may scan at once on their own threads."""
    key = _key(nodes, config)
    entry = _LAST.get("entry")
    if entry is None or entry[0] != key:
        entry = (key, _judged_pairs(nodes, config))
        _LAST["entry"] = entry
    return entry[1].copy()


def _judged_pairs(nodes: pd.DataFrame, config: DuplicatesConfig) -> pd.DataFrame:
    """Every candidate pair among the distinct pictures `nodes` (positions i, j), with the verdict `copy`.
    Candidates come from the perceptual hashes (pHash or appearance hash within `radius`) and the content
    search; every one is aligned, measured and judged by copies.decide (copies.PAIR_COLUMNS). Without
    content (`by_content`): the hash candidates, judged by the hashes and the appearance vectors
    (hash_copies.confirmed), with only i, j, mirrored and copy."""
    phashes, with_content = nodes["phash"].to_numpy(np.int64), by_content(nodes, config)

    def hashed():
        i, j, _ = hash_copies.candidate_pairs(phashes, hash_copies.appearance_hash(nodes["appearance"]), config.radius)
        if with_content:
            distance = hash_copies.appearance_distances(nodes["appearance"], i, j)
            near = distance <= config.loose_max_distance  # a crowd of equal hashes (smooth gradients): not every pair
            i, j, distance = i[near], j[near], distance[near]
        vouched = hash_copies.confirmed(nodes["appearance"], phashes, i, j, config) if len(i) else np.zeros(0, bool)
        if not with_content:
            return i, j, vouched
        # in a crowd of look-alikes within the radius (one garment's silhouette, hundreds of times) each picture
        # brings its nearest only: every pair of the crowd would otherwise be aligned
        keep = vouched | hash_copies.nearest_partners(i, j, distance, config.hash_partners)
        return i[keep], j[keep], vouched[keep]

    if not with_content:
        i, j, copy = hashed()
        return pd.DataFrame({"i": i, "j": j, "mirrored": False, "copy": copy})
    return copies.content_pairs(nodes, config, also=hashed)


def confirmed_pairs(nodes: pd.DataFrame, config: DuplicatesConfig) -> pd.DataFrame:
    """Copies among the distinct pictures `nodes` (positions i < j), one row a pair, with `mirrored` (a copy
    only as a mirror image): the pairs judged_pairs calls copies."""
    pairs = judged_pairs(nodes, config)
    pairs = pairs.loc[pairs["copy"], ["i", "j", "mirrored"]]
    a, b = pairs["i"].to_numpy(np.int64), pairs["j"].to_numpy(np.int64)
    pairs = pairs.assign(i=np.minimum(a, b), j=np.maximum(a, b))
    # a pair found both ways keeps its plain (not mirrored) row: a mirrored copy that also matches as is
    # is a symmetric picture, not a mirror image
    return pairs.sort_values(["i", "j", "mirrored"], kind="stable").drop_duplicates(["i", "j"]).reset_index(drop=True)


def _ordered(samples: pd.DataFrame) -> pd.DataFrame:
    """The decoded pictures with hashes, earliest split then path first, with their exact group."""
    ok = samples[samples["ok"].astype(bool) & samples["phash"].notna() & samples["pixel_hash"].notna()]
    ok = ok.reset_index(drop=True)
    ok["exact"] = exact_groups(ok)
    ok["split_rank"] = ok["split"].fillna("").map(SPLIT_ORDER).fillna(len(SPLITS))
    return ok.sort_values(["split_rank", "path"], kind="stable").reset_index(drop=True)


def _distinct(ok: pd.DataFrame, config: DuplicatesConfig) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """One row per distinct picture (the first member, earliest split then path, stands for its copies); the
    ones the near-copy search looks at (`nodes`: not near-blank); their positions among the first."""
    firsts = ok.drop_duplicates("pixel_hash")
    searchable = firsts["contrast"].to_numpy(float) >= config.min_contrast
    return firsts, firsts[searchable].reset_index(drop=True), np.flatnonzero(searchable)


def pictures(samples: pd.DataFrame, config: DuplicatesConfig = DuplicatesConfig()) -> pd.DataFrame:
    """The distinct pictures the near-copy search looks at, as `inspect` picks them (its `nodes`)."""
    F.require(samples, NEEDS, "duplicates")
    return _distinct(_ordered(samples), config)[1]


def inspect(samples: pd.DataFrame, config: DuplicatesConfig = DuplicatesConfig()) -> pd.DataFrame:
    F.require(samples, NEEDS, "duplicates")
    ok = _ordered(samples)
    if ok.empty:
        return F.empty()
    node_of = ok.groupby("pixel_hash", sort=False).ngroup().to_numpy()
    firsts, nodes, node_ids = _distinct(ok, config)  # node number (= ngroup order of first appearance)
    pairs = confirmed_pairs(nodes, config)
    i, j = pairs["i"].to_numpy(np.int64), pairs["j"].to_numpy(np.int64)
    centre_local = group_without_chaining(len(nodes), i, j, np.arange(len(nodes)))
    node_centre = np.full(len(firsts), -1)
    node_centre[node_ids] = np.where(centre_local >= 0, node_ids[np.maximum(centre_local, 0)], -1)
    ok["node"] = node_of
    ok["near"] = node_centre[node_of]
    how = _differences(nodes, node_ids, centre_local, pairs)
    rows = [_exact_rows(ok), _near_rows(ok, firsts, how)]
    clusters = _clusters(ok)
    return F.concat(rows + [_leak_rows(clusters), _conflict_rows(clusters)])


def _differences(nodes, node_ids, centre_local, pairs) -> dict:
    """{node: (score, how it differs from its group's centre)} for every grouped node but the centres."""
    member = np.flatnonzero((centre_local >= 0) & (centre_local != np.arange(len(nodes))))
    if not len(member):
        return {}
    centre = centre_local[member]
    lookup = {(a, b): m for a, b, m in zip(pairs["i"], pairs["j"], pairs["mirrored"], strict=True)}
    mirrored = np.array([lookup.get((min(c, m), max(c, m)), False) for c, m in zip(centre, member, strict=True)])
    if "content" in nodes.columns and nodes["content"].notna().all():
        aligned = copies.align_members(nodes["content"], centre, member, mirrored)
        zoom, dx, dy, turn = aligned.zoom, aligned.dx, aligned.dy, aligned.rotation
        agree = np.maximum(aligned.detail, aligned.layout)
    else:
        zoom, dx, dy, turn = np.ones(len(member)), np.zeros(len(member)), np.zeros(len(member)), np.zeros(len(member))
        agree = np.ones(len(member))
    rows = copies.described_rows(nodes, np.r_[centre, member])
    return {node_ids[m]: (float(np.clip(a, 0, 1)), copies.difference(z, x, y, f, rows[c], rows[m], t))
            for m, c, z, x, y, t, f, a in zip(member, centre, zoom, dx, dy, turn, mirrored, agree, strict=True)}


def _exact_rows(ok):
    ex = ok[ok["exact"] >= 0]
    rep = ex.groupby("exact")["path"].transform("first")
    size = ex.groupby("exact")["path"].transform("size")
    return F.findings(ex["path"], "exact_duplicate", 1.0,
                      [f"same pixels as {r} ({s} files)" if p != r else f"representative of {s} files with the same "
                       f"pixels" for p, r, s in zip(ex["path"], rep, size, strict=True)],
                      group=[f"E{g}" for g in ex["exact"]])


def _near_rows(ok, firsts, how):
    """Every member of a near group; a copy's detail says how it differs from the representative; its score
    is how closely they agree once aligned (the representative takes its group's best)."""
    near = ok[ok["near"] >= 0]
    rep_path = firsts["path"].to_numpy()
    size = near.groupby("near")["path"].transform("size").to_numpy()
    score = np.array([1.0 if node == c else how.get(node, (1.0, ""))[0]
                      for node, c in zip(near["node"], near["near"], strict=True)])
    best = pd.Series(np.where(score < 1, score, np.nan)).groupby(near["near"].to_numpy()).transform("max")
    score = np.where(near["node"].to_numpy() == near["near"].to_numpy(), best.fillna(1.0).to_numpy(), score)
    detail = [f"representative of {s} near copies" if node == c else
              f"copy of {rep_path[c]}: {how.get(node, (1.0, 'a near copy'))[1]} ({s} files)"
              for node, c, s in zip(near["node"], near["near"], size, strict=True)]
    return F.findings(near["path"], "near_duplicate", score, detail, group=[f"N{c}" for c in near["near"]])


def _clusters(ok) -> pd.DataFrame:
    """Files in a duplicate cluster: the near group when there is one, else the exact group."""
    cluster = np.where(ok["near"] >= 0, "N" + ok["near"].astype(str), np.where(ok["exact"] >= 0,
                                                                               "E" + ok["exact"].astype(str), ""))
    out = ok.assign(cluster=cluster)
    return out[out["cluster"] != ""][["path", "cluster", "split", "label", "split_rank"]].reset_index(drop=True)


def _leak_rows(clusters):
    """Members in a later split than the cluster's earliest one; files without a split never leak."""
    in_split = clusters[clusters["split"].isin([*SPLITS, "other"])]
    first_rank = in_split.groupby("cluster")["split_rank"].transform("min")
    first_split = in_split.loc[in_split.groupby("cluster")["split_rank"].idxmin(), ["cluster", "split"]] \
        .set_index("cluster")["split"]
    leak = in_split[(in_split["split_rank"] > first_rank) & (in_split["split"] != "other")]
    return F.findings(leak["path"], "split_leak", 1.0,
                      [f"a copy of it is in {first_split[c]} (group {c})" for c in leak["cluster"]],
                      group=leak["cluster"])


def _conflict_rows(clusters):
    labels = clusters[clusters["label"].fillna("") != ""].groupby("cluster")["label"].agg(
        lambda s: sorted(set(s)))
    conflicted = labels[labels.map(len) > 1]
    rows = clusters[clusters["cluster"].isin(conflicted.index) & (clusters["split"] != "other")]
    return F.findings(rows["path"], "conflicting_labels", 1.0,
                      [f"copies carry labels {', '.join(conflicted[c])} (group {c})" for c in rows["cluster"]],
                      group=rows["cluster"])


def split_rank(split: str) -> int:
    return SPLIT_ORDER.get(split, len(SPLITS))


def leak_matrix(clusters: pd.DataFrame) -> dict:
    """{a: {b: number of duplicate clusters with members in both a and b}}; a == b counts clusters
    entirely inside a."""
    per = clusters.groupby("cluster")["split"].agg(lambda s: sorted(set(s.fillna("")), key=split_rank))
    splits = sorted({s for ss in per for s in ss}, key=split_rank)
    matrix = {a or "(none)": {b or "(none)": 0 for b in splits} for a in splits}
    for ss in per:
        if len(ss) == 1:
            matrix[ss[0] or "(none)"][ss[0] or "(none)"] += 1
        for a in ss:
            for b in ss:
                if a != b:
                    matrix[a or "(none)"][b or "(none)"] += 1
    return matrix


def clusters_from_findings(samples: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """The same clusters _clusters() built, recovered from the findings: near group, else exact group."""
    dup = found[found["issue"].isin(["near_duplicate", "exact_duplicate"])]
    dup = dup.sort_values("issue", ascending=False, kind="stable").drop_duplicates("path")  # near first
    out = dup[["path", "group"]].rename(columns={"group": "cluster"}).merge(
        samples[["path", "split", "label"]], on="path", how="left")
    return out.assign(split_rank=out["split"].fillna("").map(SPLIT_ORDER).fillna(len(SPLITS)))


def summarize(samples: pd.DataFrame, found: pd.DataFrame, config: DuplicatesConfig = DuplicatesConfig()) -> dict:
    clusters = clusters_from_findings(samples, found)
    return {"leak_matrix": leak_matrix(clusters),
            "duplicate_groups": {"exact": int(found.loc[found["issue"] == "exact_duplicate", "group"].nunique()),
                                 "near": int(found.loc[found["issue"] == "near_duplicate", "group"].nunique())}}


INSPECTOR = Inspector("duplicates", tuple(NEEDS), inspect, summarize, section="duplicates", cross_dataset=True)
