"""The recipe's data checklist: one verdict per step, computed from the summary (no Streamlit)."""

ISSUE_PAGES = {
    "exact_duplicate": "duplicates", "near_duplicate": "duplicates", "split_leak": "duplicates",
    "conflicting_labels": "duplicates", "corrupt": "integrity", "format_mismatch": "integrity",
    "unsupported_file": "integrity", "missing_file": "integrity", "orphan_file": "integrity",
    "odd_size": "sizes", "odd_aspect_ratio": "sizes", "dark": "quality", "light": "quality", "blurry": "quality",
    "low_information": "quality", "odd_mode": "quality", "outlier": "quality", "label_issue": "label_issues",
}


def checklist(summary: dict) -> list[dict]:
    """[{step, ok, verdict, page}]: ok is True (fine), False (look at it) or None (nothing to judge)."""
    counts = summary.get("issue_counts", {})
    n = summary.get("files", 0)

    def count(*issues):
        return sum(counts.get(i, 0) for i in issues)
    leaks = count("split_leak")
    rare = {s: c for s, c in summary.get("imbalanced_classes", {}).items() if c}
    missing = {s: c for s, c in summary.get("missing_classes", {}).items() if c}
    cuts = summary.get("shortcuts", [])
    steps = [
        ("Every file reads", count("corrupt", "unsupported_file", "missing_file") == 0,
         f"{count('corrupt'):,} corrupt, {count('unsupported_file'):,} unsupported, {count('missing_file'):,} missing "
         f"of {n:,} files", "integrity"),
        ("Names match contents", count("format_mismatch") == 0, f"{count('format_mismatch'):,} format mismatches",
         "integrity"),
        ("No copies leak across splits", leaks == 0,
         f"{leaks:,} files have a copy in an earlier split" if leaks else "no test or validation image has a copy "
         "in an earlier split", "duplicates"),
        ("Copies agree on their label", count("conflicting_labels") == 0,
         f"{count('conflicting_labels'):,} files in groups whose copies carry different labels", "duplicates"),
        ("No duplicates", count("exact_duplicate", "near_duplicate") == 0,
         f"{count('exact_duplicate'):,} exact and {count('near_duplicate'):,} near "
         "copies (they inflate what the model sees and what the metrics measure)", "duplicates"),
        ("Classes balanced", not rare and not missing,
         "; ".join([f"rare in {s}: {', '.join(c)}" for s, c in rare.items()]
                   + [f"missing from {s}: {', '.join(c)}" for s, c in missing.items()]) or "no class far rarer "
         "than the rest, none missing from a split", "balance"),
        ("No shortcuts", not cuts, "; ".join(c["detail"] for c in cuts[:3]) or "no file property or image "
         "statistic singles out a class", "balance"),
        ("Image quality", count("dark", "light", "blurry", "low_information") == 0,
         f"{count('dark'):,} dark, {count('light'):,} light, {count('blurry'):,} blurry, "
         f"{count('low_information'):,} near-blank", "quality"),
        ("Sizes and modes consistent", count("odd_size", "odd_aspect_ratio", "odd_mode") == 0,
         f"{count('odd_size'):,} odd sizes, {count('odd_aspect_ratio'):,} odd aspect ratios, "
         f"{count('odd_mode'):,} odd modes", "sizes"),
        ("Outliers looked at", count("outlier") == 0, f"{count('outlier'):,} images unlike the rest", "quality"),
    ]
    return [{"step": s, "ok": ok, "verdict": v, "page": p, "query": STEP_VIEWS.get(s, {})} for s, ok, v, p in steps]


# the filtered view each step's Open link lands on (query parameters bound by ui/links.py)
STEP_VIEWS = {
    "Every file reads": {"browse_issue": ["corrupt", "unsupported_file", "missing_file"]},
    "Names match contents": {"browse_issue": ["format_mismatch"]},
    "No copies leak across splits": {"dup_only": "leaks"},
    "Copies agree on their label": {"dup_only": "conflicting labels"},
    "No duplicates": {"dup_only": "all"},
    "Image quality": {"browse_issue": ["dark", "light", "blurry", "low_information"]},
    "Sizes and modes consistent": {"browse_issue": ["odd_size", "odd_aspect_ratio", "odd_mode"]},
    "Outliers looked at": {"browse_issue": ["outlier"]},
}
