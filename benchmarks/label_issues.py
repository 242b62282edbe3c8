"""Label issues against the planted label noise of both sample datasets: recall and precision of
`python -m baselines label-issues` (k-fold out-of-sample predictions + confident learning).

    python benchmarks/label_issues.py [--folds 5]

Images the inspectors found off as pictures (label_issues.UNRELIABLE) are predicted but not judged; one row
per dataset shows what judging every image would give.

Precision is reported two ways: strict (every flagged file not planted as label_issue is a false
positive) and excluding files planted as conflicting_labels copies (a copy of an image filed under
another class: one of the two labels is wrong by construction, so flagging it is not a mistake)."""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from baselines import data  # noqa: E402
from baselines.config import LABEL_ISSUE_DEFAULTS, TrainConfig  # noqa: E402
from baselines.label_issues import DEFAULT_FILTER, FILTERS, UNRELIABLE, find, input_size, judge, write  # noqa: E402
from benchmarks._doc import write_section  # noqa: E402

DATASETS = {"shapes": ROOT / "sample_data/shapes", "shapes_csv": ROOT / "sample_data/shapes_csv"}


def score(flagged: set, truth: pd.DataFrame, population: set) -> dict:
    planted = set(truth.loc[truth["issue"] == "label_issue", "path"]) & population
    conflicts = set(truth.loc[truth["issue"] == "conflicting_labels", "path"]) - planted
    tp = len(flagged & planted)
    lenient_fp = len(flagged - planted - conflicts)
    return {"planted": len(planted), "flagged": len(flagged), "found": tp,
            "recall": tp / len(planted) if planted else float("nan"),
            "precision": tp / len(flagged) if flagged else float("nan"),
            "precision_excl_conflicts": tp / (tp + lenient_fp) if tp + lenient_fp else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    torch.set_num_threads(1)
    config = TrainConfig(**LABEL_ISSUE_DEFAULTS)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for name, folder in DATASETS.items():
            prepared = data.prepare(folder, cache=cache)
            started, cpu = time.time(), time.process_time()
            found, facts = find(prepared, config, folds=args.folds, log=print)
            wall, cpu = time.time() - started, time.process_time() - cpu
            labels, probs = facts["labels"], facts["probabilities"]
            table = facts["predictions"].sort_index()
            paths, reliable = table["path"].to_numpy(), (table["unreliable"] == "").to_numpy()
            truth = pd.read_csv(ROOT / f"sample_data/truth/{name}.csv", dtype=str, keep_default_na=False)
            for filter_by, judged in [(f, "reliable") for f in FILTERS] + [(DEFAULT_FILTER, "every image")]:
                mask = judge(labels, probs, reliable if judged == "reliable" else np.ones_like(reliable),
                             filter_by)["issue"].to_numpy()
                rows.append({"dataset": name, "filter": filter_by, "judged": judged, "images": facts["samples"],
                             "set_aside": int((~reliable).sum()) if judged == "reliable" else 0,
                             "size": input_size(prepared.samples), "oos_accuracy": facts["oos_accuracy"],
                             "wall_s": wall, "cpu_s": cpu, **score(set(paths[mask]), truth, set(paths))})
            write(prepared.workspace, found, facts)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    body = [f"`python benchmarks/label_issues.py --folds {args.folds}` — {args.folds}-fold cross-validation of the "
            f"tiny ConvNet ({', '.join(f'{k}={v}' for k, v in LABEL_ISSUE_DEFAULTS.items())}, input size: the "
            f"standard side nearest the median short side, flip-averaged held-out predictions), one CPU thread, on "
            f"a shared 2-core machine. Judged: `reliable` = images with no inspector finding among "
            f"{', '.join(UNRELIABLE)} (the default; the others are predicted but set aside), `every image` = no image "
            f"set aside. Bar: recall ≥ 0.8, precision ≥ 0.6.", "",
            "| dataset | filter | judged | images | set aside | input px | out-of-sample acc | planted | flagged | "
            "found | recall | precision | precision excl. conflicting copies | wall s | CPU s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        body.append(f"| {r['dataset']} | {r['filter']} | {r['judged']} | {r['images']} | {r['set_aside']} | "
                    f"{r['size']} | {r['oos_accuracy']:.3f} | {r['planted']} | {r['flagged']} | {r['found']} | "
                    f"{r['recall']:.2f} | {r['precision']:.2f} | {r['precision_excl_conflicts']:.2f} | "
                    f"{r['wall_s']:.0f} | {r['cpu_s']:.0f} |")
    write_section("Label issues", "## Label issues\n\n" + "\n".join(body) + "\n", keep="### Notes")


if __name__ == "__main__":
    main()
