"""Label issues against the planted label noise of both sample datasets: recall and precision of
`python -m baselines label-issues` (k-fold out-of-sample predictions + confident learning).

    python benchmarks/label_issues.py [--folds 5]

Precision is reported two ways: strict (every flagged file not planted as label_issue is a false
positive) and excluding files planted as conflicting_labels copies (a copy of an image filed under
another class: one of the two labels is wrong by construction, so flagging it is not a mistake)."""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from baselines import data  # noqa: E402
from baselines.config import LABEL_ISSUE_DEFAULTS, TrainConfig  # noqa: E402
from baselines.label_issues import FILTERS, confident_learning, find, prune_by_noise_rate, write  # noqa: E402
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
            paths = facts["predictions"].sort_index()["path"].to_numpy()
            truth = pd.read_csv(ROOT / f"sample_data/truth/{name}.csv", dtype=str, keep_default_na=False)
            for filter_by in FILTERS:
                mask = (confident_learning(labels, probs)["issue"].to_numpy() if filter_by == "confident_learning"
                        else prune_by_noise_rate(labels, probs))
                rows.append({"dataset": name, "filter": filter_by, "images": facts["samples"],
                             "oos_accuracy": facts["oos_accuracy"], "wall_s": wall, "cpu_s": cpu,
                             **score(set(paths[mask]), truth, set(paths))})
            write(prepared.workspace, found, facts)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    body = [f"`python benchmarks/label_issues.py --folds {args.folds}` — {args.folds}-fold cross-validation of the "
            f"tiny ConvNet ({', '.join(f'{k}={v}' for k, v in LABEL_ISSUE_DEFAULTS.items())}, input size from the "
            f"scan), one CPU thread, on a shared 2-core machine. Bar: recall ≥ 0.8, precision ≥ 0.6.", "",
            "| dataset | filter | images | out-of-sample acc | planted | flagged | found | recall | precision | "
            "precision excl. conflicting copies | wall s | CPU s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        body.append(f"| {r['dataset']} | {r['filter']} | {r['images']} | {r['oos_accuracy']:.3f} | {r['planted']} | "
                    f"{r['flagged']} | {r['found']} | {r['recall']:.2f} | {r['precision']:.2f} | "
                    f"{r['precision_excl_conflicts']:.2f} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} |")
    write_section("Label issues", "## Label issues\n\n" + "\n".join(body) + "\n", keep="### Notes")


if __name__ == "__main__":
    main()
