"""Scoring a findings.csv against a copy benchmark's truth (benchmarks/copies.py): pure functions on tables.

A planted copy is found when it shares a duplicate group (near_duplicate or exact_duplicate) with its original,
and, when the original is in train and the copy in test, the copy is also flagged split_leak. A hard negative
counts as a false pair when it shares a group with the image it was planted against. Pair precision judges
every pair inside every group by the truth (_copies_truth): ambiguous pairs are left out. split_leak precision:
the test images flagged that truly have a copy in train (those whose best train partner is only ambiguous are
left out). Results are reported for the tuning photos and the held-out photos apart (digits: one group, "all").
"""

from itertools import combinations

import pandas as pd
from _copies_truth import IS_AMBIGUOUS, IS_COPY, IS_NEGATIVE, pair_labels, table, take

DUPLICATE_ISSUES = ("near_duplicate", "exact_duplicate")


def read_findings(path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype={"group": str, "path": str, "issue": str})


def groups_of(findings: pd.DataFrame) -> list[set]:
    dup = findings[findings["issue"].isin(DUPLICATE_ISSUES) & (findings["group"] != "")]
    return [set(part) for _, part in dup.groupby(["issue", "group"])["path"]]


def pairs_of(groups: list[set]) -> set:
    return {frozenset(p) for g in groups for p in combinations(sorted(g), 2)}


def photo_group(truth_row) -> str:
    """`tuning`, `held_out`, or `all` for images that are not cut from a photo (digits)."""
    return truth_row["group"] or "all"


def judged_pairs(groups: list[set], truth: pd.DataFrame) -> pd.DataFrame:
    """Every distinct pair inside the groups with its truth label and photo group (a pair touching a held-out
    photo counts as held-out). A grouped file absent from the truth is an error naming it."""
    index = {p: n for n, p in enumerate(truth["path"])}
    records, columns = truth.to_dict("records"), table(truth)
    seen, rows = set(), []
    for g in groups:
        if missing := sorted(m for m in g if m not in index):
            raise ValueError(f"{missing[0]} is in a group but not in the truth: wrong report for this set?")
        members = sorted(g)
        for n, a in enumerate(members[:-1]):
            others = take(columns, [index[m] for m in members[n + 1:]])
            for b, label in zip(members[n + 1:], pair_labels(records[index[a]], others), strict=True):
                if (key := frozenset((a, b))) in seen:
                    continue
                seen.add(key)
                ra, rb = records[index[a]], records[index[b]]
                both = {photo_group(ra), photo_group(rb)}
                rows.append({"a": a, "b": b, "label": label, "group": "held_out" if "held_out" in both else both.pop(),
                             "same_photo": ra["photo"] == rb["photo"]})
    return pd.DataFrame(rows, columns=["a", "b", "label", "group", "same_photo"])


def planted_recall(truth: pd.DataFrame, pairs: set, leaked: set) -> pd.DataFrame:
    """One row per planted copy: kind, photo group, whether grouped with its original, whether it is a
    train->test copy, whether then flagged split_leak, and found (grouped, and flagged where it must be)."""
    by_path = truth.set_index("path")
    copies = truth[truth["role"] == "copy"]
    out = pd.DataFrame({"path": copies["path"], "kind": copies["kind"],
                        "group": [photo_group(r) for _, r in copies.iterrows()]})
    out["grouped"] = [frozenset((c, o)) in pairs for c, o in zip(copies["path"], copies["original"], strict=True)]
    out["leak"] = [(by_path.loc[o, "split"] == "train") & (s == "test")
                   for o, s in zip(copies["original"], copies["split"], strict=True)]
    out["flagged"] = copies["path"].isin(leaked).to_numpy()
    out["found"] = out["grouped"] & (~out["leak"] | out["flagged"])
    return out


def negatives_grouped(truth: pd.DataFrame, pairs: set) -> pd.DataFrame:
    neg = truth[truth["role"] == "negative"]
    return pd.DataFrame({"kind": neg["kind"], "group": [photo_group(r) for _, r in neg.iterrows()],
                         "grouped": [frozenset((c, o)) in pairs
                                     for c, o in zip(neg["path"], neg["original"], strict=True)]})


def leak_truth(truth: pd.DataFrame, paths) -> dict:
    """For each test path: `copy` if some train image is a copy of it, else `ambiguous` if some is ambiguous,
    else `negative`."""
    records = dict(zip(truth["path"], truth.to_dict("records"), strict=True))
    train = truth[truth["split"] == "train"]
    if not truth["photo"].astype(bool).any():  # by source alone (pair_labels' rule), without a pass over train each
        sources, keys = set(train["source"].astype(str)), set(train["source_key"].astype(str))
        return {p: IS_COPY if str(records[p]["source"]) in sources or str(records[p]["source_key"]) in keys else
                IS_AMBIGUOUS if sources.intersection(str(records[p]["near_source"]).split()) else IS_NEGATIVE
                for p in paths}
    by_photo = {photo: table(part) for photo, part in train.groupby("photo")}  # other photos: negatives
    everything, nothing = table(train), table(train.iloc[:0])
    out = {}
    for p in paths:
        row = records[p]
        labels = set(pair_labels(row, by_photo.get(row["photo"], nothing) if row["photo"] else everything))
        out[p] = IS_COPY if IS_COPY in labels else IS_AMBIGUOUS if IS_AMBIGUOUS in labels else IS_NEGATIVE
    return out


def outlier_scores(truth: pd.DataFrame, findings: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """(per outlier kind: planted, flagged `outlier`, flagged by any non-duplicate finding), flagged, true."""
    flagged = set(findings.loc[findings["issue"] == "outlier", "path"])
    other = set(findings.loc[~findings["issue"].isin([*DUPLICATE_ISSUES, "split_leak", "conflicting_labels"]),
                             "path"])
    out = truth[truth["role"] == "outlier"]
    table = pd.DataFrame({"kind": out["kind"], "outlier": out["path"].isin(flagged),
                          "any": out["path"].isin(other)}).groupby("kind", sort=False).agg(
        planted=("outlier", "size"), outlier=("outlier", "sum"), any=("any", "sum")).reset_index()
    return table, len(flagged), len(flagged & set(out["path"]))


def score(truth: pd.DataFrame, findings: pd.DataFrame) -> dict:
    """Every figure of one set, as tables and numbers (no formatting)."""
    groups = groups_of(findings)
    pairs = pairs_of(groups)
    test = set(truth.loc[truth["split"] == "test", "path"])
    leaked = set(findings.loc[findings["issue"] == "split_leak", "path"]) & test
    judged = judged_pairs(groups, truth)
    leak_labels = leak_truth(truth, sorted(leaked))
    all_test_leaks = leak_truth(truth, sorted(test))
    true_leaks = {p for p, lab in all_test_leaks.items() if lab == IS_COPY}
    result = {"recall": planted_recall(truth, pairs, leaked), "negatives": negatives_grouped(truth, pairs),
              "pairs": judged, "groups": len(groups), "largest_group": max((len(g) for g in groups), default=0),
              "leak_flagged": len(leaked), "leak_true": sum(v == IS_COPY for v in leak_labels.values()),
              "leak_ambiguous": sum(v == IS_AMBIGUOUS for v in leak_labels.values()),
              "leak_truth": len(true_leaks), "leak_truth_found": len(true_leaks & leaked),
              "false_leaks": sorted(p for p, v in leak_labels.items() if v == IS_NEGATIVE)}
    if (truth["role"] == "outlier").any():
        result["outliers"], result["outlier_flagged"], result["outlier_true"] = outlier_scores(truth, findings)
    return result


def precision(judged: pd.DataFrame) -> tuple[float, int, int, int]:
    """(pair precision, true pairs, false pairs, ambiguous pairs) of judged pairs."""
    true, false = int((judged["label"] == IS_COPY).sum()), int((judged["label"] == IS_NEGATIVE).sum())
    return (true / (true + false) if true + false else float("nan"), true, false,
            int((judged["label"] == IS_AMBIGUOUS).sum()))


def ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.2f})" if whole else "-"


def _in_order(table: pd.DataFrame, order: list[str]):
    """(kind, rows) in the order given (kinds not in it last, as they come)."""
    rank = {k: n for n, k in enumerate(order)}
    return sorted(table.groupby("kind", sort=False), key=lambda kv: rank.get(kv[0], len(rank)))


def kind_table(recall: pd.DataFrame, groups: list[str], order: list[str] = ()) -> list[str]:
    """Markdown rows: per kind, found / planted for each photo group, then grouped and split_leak overall."""
    groups = [g for g in groups if g != "all"]  # "found: all" is a column of its own
    head = "| kind | " + "".join(f"found: {g} | " for g in groups)
    lines = [head + "found: all | grouped | split_leak (train→test) |", "|---|" + "---:|" * (len(groups) + 3)]
    for kind, part in _in_order(recall, order):
        cells = [ratio(int(part.loc[part["group"] == g, "found"].sum()), int((part["group"] == g).sum()))
                 for g in groups]
        leak = part[part["leak"]]
        lines.append(f"| {kind} | " + "".join(f"{c} | " for c in cells)
                     + f"{ratio(int(part['found'].sum()), len(part))} | "
                     f"{ratio(int(part['grouped'].sum()), len(part))} | "
                     f"{ratio(int((leak['flagged'] & leak['grouped']).sum()), len(leak))} |")
    return lines


def negative_table(negatives: pd.DataFrame, groups: list[str], order: list[str] = ()) -> list[str]:
    lines = ["| hard negative | " + " | ".join(f"grouped: {g}" for g in groups) + " |",
             "|---|" + "---:|" * len(groups)]
    for kind, part in _in_order(negatives, order):
        lines.append(f"| {kind} | " + " | ".join(
            ratio(int(part.loc[part["group"] == g, "grouped"].sum()), int((part["group"] == g).sum()))
            for g in groups) + " |")
    return lines


def summary_lines(result: dict, groups: list[str]) -> list[str]:
    """Precision, split_leak and group figures as bullet lines."""
    lines = []
    for g in groups:
        p, t, f, a = precision(result["pairs"][result["pairs"]["group"] == g])
        found = result["recall"][result["recall"]["group"] == g]["found"]
        lines.append(f"- {g}: copies found {ratio(int(found.sum()), len(found))}; pair precision "
                     f"{p:.3f} ({t} true pairs, {f} false, {a} ambiguous left out)")
    rec = result["recall"]
    leak, within = rec[rec["leak"]], rec[~rec["leak"]]
    lines.append(f"- train→test copies found (grouped and flagged split_leak) "
                 f"{ratio(int(leak['found'].sum()), len(leak))}; within-test copies grouped "
                 f"{ratio(int(within['found'].sum()), len(within))}")
    false = result["pairs"][result["pairs"]["label"] == IS_NEGATIVE]
    if len(false) and groups != ["all"]:  # digits are not cut from photos
        lines.append(f"- false pairs: {int(false['same_photo'].sum())} within one photo, "
                     f"{int((~false['same_photo'].astype(bool)).sum())} across photos")
    judged = result["leak_flagged"] - result["leak_ambiguous"]
    lines.append(f"- split_leak: {result['leak_flagged']} test images flagged, {result['leak_true']} truly with a "
                 f"copy in train, {result['leak_ambiguous']} ambiguous left out: precision "
                 f"{result['leak_true'] / judged if judged else float('nan'):.3f}; recall "
                 f"{ratio(result['leak_truth_found'], result['leak_truth'])} of the test images with a copy in train")
    lines.append(f"- groups: {result['groups']}, largest {result['largest_group']}")
    if "outliers" in result:
        o = result["outliers"]
        lines.append(f"- outliers: recall {ratio(int(o['outlier'].sum()), int(o['planted'].sum()))}, precision "
                     f"{ratio(result['outlier_true'], result['outlier_flagged'])}")
    return lines


def outlier_table(table: pd.DataFrame) -> list[str]:
    lines = ["| outlier kind | flagged outlier | flagged by any other finding |", "|---|---:|---:|"]
    for _, r in table.iterrows():
        n = int(r["planted"])
        lines.append(f"| {r['kind']} | {ratio(int(r['outlier']), n)} | {ratio(int(r['any']), n)} |")
    return lines


def misses(result: dict, limit: int = 3) -> list[str]:
    """A few missed copies per kind and the false pairs, for reading (printed, not written to the doc)."""
    rec = result["recall"]
    out = [f"missed {k}: " + ", ".join(part.loc[~part["found"], "path"].head(limit))
           for k, part in rec.groupby("kind", sort=False) if (~part["found"]).any()]
    false = result["pairs"][result["pairs"]["label"] == IS_NEGATIVE].head(limit * 4)
    out += [f"false pair: {a} ~ {b}" for a, b in zip(false["a"], false["b"], strict=True)]
    return out + [f"false split_leak: {p}" for p in result["false_leaks"][:limit * 2]]

