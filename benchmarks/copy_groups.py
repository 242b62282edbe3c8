#!/usr/bin/env python
"""Copies in groups: one picture with one, two or three edited copies. Web-scraped and crawled sets hold a
popular picture many times (reposted, re-cropped, recoloured); the crowd rule (a copy must stand out from its
3rd best aligned partner) leaves room for a group of three, so this measures what a larger group costs.

    python benchmarks/copy_groups.py [--pictures 300] [--no-doc]

The sets are copies32's (benchmarks/copies.py: 32 px JPEGs cut from real photos) with, for each of
--pictures base train images, m = 1, 2 and 3 planted copies (one set per m, built once under
benchmarks/data/): the first copy in test, the others in train, each by one edit in turn: shifted 1-3 px with
the edge repeated, cropped to 29-30 px of 32 (82-88 % of the area, a copy by copies.py's rule) and resized
back, brighter or darker by 10-25 %, zoomed out 6-12 % with the edge repeated, and shifted then re-toned.
A planted copy is found when the CLI puts it in one duplicate group with its original.
"""

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _copies_edits  # noqa: E402
import _data  # noqa: E402
import _doc  # noqa: E402
import copies  # noqa: E402
from _copies_score import DUPLICATE_ISSUES, read_findings  # noqa: E402

HEADING = "Copies in groups"
NOTES = "### Notes"
VERSION = 1
SIDE = 32


def shifted(rng, a):
    dx, dy = rng.integers(1, 4, 2) * rng.choice([-1, 1], 2)
    padded = np.pad(a, ((4, 4), (4, 4), (0, 0)), mode="edge")
    return padded[4 + dy:4 + dy + SIDE, 4 + dx:4 + dx + SIDE]


def cropped(rng, a):
    side = int(rng.integers(29, 31))
    x, y = rng.integers(0, SIDE - side + 1, 2)
    return np.asarray(Image.fromarray(a[y:y + side, x:x + side]).resize((SIDE, SIDE), Image.BICUBIC))


def toned(rng, a):
    gain = rng.uniform(1.1, 1.25) if rng.random() < 0.5 else rng.uniform(0.75, 0.9)
    return np.clip(a.astype(float) * gain + rng.uniform(-8, 8), 0, 255).astype(np.uint8)


def zoomed_out(rng, a):
    side = int(rng.integers(28, 31))
    small = np.asarray(Image.fromarray(a).resize((side, side), Image.BICUBIC))
    lo = (SIDE - side) // 2
    return np.pad(small, ((lo, SIDE - side - lo), (lo, SIDE - side - lo), (0, 0)), mode="edge")


def shifted_toned(rng, a):
    return toned(rng, shifted(rng, a))


EDITS = [shifted, cropped, toned, zoomed_out, shifted_toned]


def ensure(copies_each: int, pictures: int) -> tuple[Path, pd.DataFrame]:
    """(dataset folder, truth: copy, original, edit) of the set with `copies_each` copies of each picture."""
    source, truth = copies.ensure("copies32", copies.SEED)
    final = _data.DATA / f"copy_groups_m{copies_each}_n{pictures}_v{VERSION}"
    if (final / "COMPLETE").exists():
        return final / "dataset", pd.read_csv(final / "truth.csv")
    tmp = final.with_name(f".{final.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp / "dataset")
    base = truth[(truth["role"] == "base") & (truth["split"] == "train")].sample(pictures, random_state=copies.SEED)
    rng, rows = np.random.default_rng(copies.SEED + copies_each), []
    for k, row in enumerate(base.itertuples()):
        pixels = np.asarray(Image.open(source / row.path).convert("RGB"))
        for c in range(copies_each):
            edit = EDITS[(k + c) % len(EDITS)]
            path = f"{'test' if c == 0 else 'train'}/{row.label}/group_{k:04d}_{c}.jpg"
            (tmp / "dataset" / path).write_bytes(_copies_edits.jpeg_bytes(edit(rng, pixels), 92))
            rows.append({"copy": path, "original": row.path, "edit": edit.__name__})
    pd.DataFrame(rows).to_csv(tmp / "truth.csv", index=False)
    (tmp / "COMPLETE").write_text(f"{pictures} pictures, {copies_each} copies each\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final / "dataset", pd.read_csv(final / "truth.csv")


def found(truth: pd.DataFrame, findings: pd.DataFrame) -> pd.Series:
    """Per planted copy: whether it shares a duplicate group with its original."""
    dup = findings[findings["issue"].isin(DUPLICATE_ISSUES) & (findings["group"] != "")]
    group = dict(zip(dup["path"], dup["issue"] + ":" + dup["group"], strict=True))
    return pd.Series([group.get(c, "copy") == group.get(o, "original")
                      for c, o in zip(truth["copy"], truth["original"], strict=True)], index=truth.index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pictures", type=int, default=300)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    kinds = [e.__name__ for e in EDITS]
    lines = ["| copies of each picture | found | " + " | ".join(kinds) + " | groups, largest | cost: wall / CPU |",
             "|---|---:|" + "---:|" * len(kinds) + "---:|---:|"]
    for m in (1, 2, 3):
        dataset, truth = ensure(m, args.pictures)
        report = _data.DATA / f"copy_groups_m{m}_report"
        start = time.perf_counter()
        cost = copies.scan(dataset, report)
        findings = read_findings(report / "findings.csv")
        hit = found(truth, findings)
        dup = findings[findings["issue"].isin(DUPLICATE_ISSUES)]
        per = hit.groupby(truth["edit"]).agg(["sum", "size"])
        cells = [f"{per.loc[k, 'sum']}/{per.loc[k, 'size']} ({per.loc[k, 'sum'] / per.loc[k, 'size']:.2f})"
                 for k in kinds]
        lines.append(f"| {m} | {hit.sum()}/{len(hit)} ({hit.mean():.2f}) | " + " | ".join(cells)
                     + f" | {dup['group'].nunique():,}, {dup.groupby('group').size().max()} | "
                     f"{cost['wall']:.1f} s / {cost['cpu']:.1f} s |")
        print(lines[-1], f"({time.perf_counter() - start:.0f} s)", flush=True)
    body = [f"## {HEADING}", "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python benchmarks/copy_groups.py --pictures "
            f"{args.pictures}` on `inspectors/` at {_doc.commit()}. Machine: {_doc.machine()}.", "",
            f"copies32's 11,060 files plus, for {args.pictures} of its train pictures, 1, 2 or 3 edited copies each "
            "(one set per row; the edits in turn, see the docstring of `benchmarks/copy_groups.py`). Found: the "
            "copy is in one duplicate group with its original.", "", *lines]
    if not args.no_doc:
        _doc.write_section(HEADING, "\n".join(body), keep=NOTES)
        print(f"wrote the {HEADING} section of {_doc.DOC.relative_to(copies.ROOT)}")


if __name__ == "__main__":
    main()
