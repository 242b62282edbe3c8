"""Plain-text and JSON reports of a scan, for the CLI. Numbers come from the tables; no I/O here."""

import re

import pandas as pd

from .schema import ENTRY_IMAGE, ENTRY_MISSING, ENTRY_UNSUPPORTED

# What must never reach a terminal raw from a file name, label or message: C0 and C1 controls and DEL (escape
# sequences start with ESC or the one-byte CSI 0x9b: screen clears, window titles, fake links), and the
# bidirectional overrides that make a name read as another
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text, keep: str = "") -> str:
    """Text for a terminal: each control character as its escape (\\x1b, \\n, \\u202e), except those in
    `keep` (a multi-line report keeps "\\n"). Every human-readable line the CLIs print goes through here;
    JSON and CSV outputs stay exact."""
    return UNPRINTABLE.sub(lambda m: m[0] if m[0] in keep else m[0].encode("unicode_escape").decode("ascii"),
                           str(text))


def scan_facts(samples: pd.DataFrame, seconds: float, decoded: int, cached: int, pruned: int) -> dict:
    images = samples[samples["entry"] == ENTRY_IMAGE]
    failed = images[~images["ok"]]
    reasons = failed["error"].fillna("").str.split(":").str[0].value_counts()
    counts = (samples[samples["entry"] == ENTRY_IMAGE].groupby(["split", "label"]).size())
    class_counts: dict = {}
    for (split, label), n in counts.items():
        class_counts.setdefault(split or "(none)", {})[label or "(unlabelled)"] = int(n)
    return {
        "files": int(len(samples)),
        "images": int(len(images)),
        "decoded_ok": int(images["ok"].sum()),
        "failed": int(len(failed)),
        "failure_kinds": {k: int(v) for k, v in reasons.items()},
        "unsupported": int((samples["entry"] == ENTRY_UNSUPPORTED).sum()),
        "missing": int((samples["entry"] == ENTRY_MISSING).sum()),
        "orphans": int(samples["orphan"].sum()),
        "class_counts": class_counts,
        "scan_seconds": round(seconds, 3),
        "read_this_scan": decoded,
        "from_cache": cached,
        "pruned_from_cache": pruned,
        "files_per_second": round(decoded / seconds, 1) if seconds > 0 and decoded else None,
    }


def scan_text(facts: dict, dataset_name: str, layout: str, problems: pd.DataFrame, warnings: list,
              written: list, limit: int = 15) -> str:
    f = facts
    speed = f" ({f['files_per_second']:,.0f} files/s)" if f["files_per_second"] else ""
    lines = [
        f"Scanned {printable(dataset_name)} ({layout} layout): {f['files']:,} files in {f['scan_seconds']:.1f} s"
        f"{speed}; "
        f"{f['read_this_scan']:,} read now, {f['from_cache']:,} from the cache.",
        "",
        f"  images that decode     {f['decoded_ok']:>8,}",
        f"  images that fail       {f['failed']:>8,}",
        f"  unsupported files      {f['unsupported']:>8,}",
        f"  missing (CSV rows)     {f['missing']:>8,}",
        f"  orphans (not in CSV)   {f['orphans']:>8,}",
    ]
    if f["class_counts"]:
        lines += ["", "Images per split and class:"]
        splits = list(f["class_counts"])
        classes = sorted({c for per in f["class_counts"].values() for c in per})
        width = max([len(printable(c)) for c in classes] + [5])
        lines.append("  " + "class".ljust(width) + "".join(s.rjust(10) for s in splits))
        for c in classes:
            lines.append("  " + printable(c).ljust(width) + "".join(str(f["class_counts"][s].get(c, 0)).rjust(10)
                                                                    for s in splits))
    if len(problems):
        lines += ["", f"Files with a problem ({len(problems):,}; first {min(limit, len(problems))}):"]
        for path, error in problems[["path", "error"]].head(limit).itertuples(index=False):
            lines.append(f"  {printable(path)}: {printable(error)}")
    if warnings:
        lines += ["", f"Warnings ({len(warnings)}):"] + [f"  {printable(w)}" for w in warnings[:limit]]
    if written:
        lines += ["", "Wrote:"] + [f"  {p}" for p in written]
    return "\n".join(lines)


def problem_rows(samples: pd.DataFrame) -> pd.DataFrame:
    bad = samples[(~samples["ok"]) | samples["orphan"]].copy()
    bad["error"] = bad["error"].fillna("").mask(bad["orphan"] & bad["ok"], "orphan: not named in the manifest")
    return bad


def findings_text(found: pd.DataFrame, summary: dict, limit: int = 5) -> str:
    lines = ["Findings (score 1 = most suspicious):"]
    counts = summary.get("issue_counts", {})
    width = max(len(k) for k in counts) if counts else 10
    for issue, n in counts.items():
        if n:
            worst = found[found["issue"] == issue].head(1)
            example = f"   e.g. {printable(worst['path'].iloc[0])}: {printable(worst['detail'].iloc[0])}" \
                if len(worst) else ""
            lines.append(f"  {issue.ljust(width)} {n:>7,}{example[:140]}")
    if not any(counts.values()):
        lines.append("  none")
    matrix = summary.get("leak_matrix") or {}
    splits = list(matrix)
    if len(splits) > 1:
        lines += ["", "Duplicate groups shared between splits (diagonal: groups within one split):",
                  "  " + "".ljust(8) + "".join(s.rjust(8) for s in splits)]
        lines += ["  " + a.ljust(8) + "".join(str(matrix[a].get(b, 0)).rjust(8) for b in splits) for a in splits]
    ratios = summary.get("imbalance_ratio") or {}
    if ratios:
        split, ratio = max(ratios.items(), key=lambda kv: kv[1])
        rare = summary.get("imbalanced_classes", {}).get(split, [])
        lines += ["", f"Worst imbalance: {ratio:g}x between the largest and smallest class in {split}"
                      + (f"; far rarer classes: {printable(', '.join(rare))}" if rare else "")]
        missing = {s: c for s, c in summary.get("missing_classes", {}).items() if c}
        for s, classes in missing.items():
            lines.append(f"  missing from {s}: {printable(', '.join(classes))}")
    cuts = summary.get("shortcuts") or []
    if cuts:
        lines += ["", "Shortcuts (a property alone predicts the label; a model could learn it instead of the content):"]
        lines += [f"  {printable(c['detail'])}" for c in cuts[:limit]]
    return "\n".join(lines)
