"""Label issues against the planted label noise of both sample datasets: recall and precision of
`python -m baselines label-issues` (k-fold out-of-sample predictions + confident learning).

    python benchmarks/label_issues.py [--folds 5]

Images the inspectors found off as pictures (label_issues.UNRELIABLE) are predicted but not judged; one row
per dataset shows what judging every image would give.

Scored against `sample_data/truth/label_noise_<dataset>.csv`: every file filed under the wrong class by
construction, i.e. the planted `label_issue` images and, of each planted conflicting-labels pair, the copy
filed under another class (it depicts its original's class; flagging the original instead is a false
positive). The strict columns count only the `label_issue` plants as right, every other flag as wrong.

--rescore judges the held-out predictions the last full run saved (benchmarks/data/label_issues/) again,
without training: for changes to the filters or the scoring only."""

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
from baselines import label_issues as li  # noqa: E402
from baselines.config import LABEL_ISSUE_DEFAULTS, TrainConfig  # noqa: E402
from benchmarks._doc import write_section  # noqa: E402

DATASETS = {"shapes": ROOT / "sample_data/shapes", "shapes_csv": ROOT / "sample_data/shapes_csv"}


def score(flagged: set, noise: pd.DataFrame, truth: pd.DataFrame, population: set) -> dict:
    wrong = set(noise["path"]) & population
    planted = set(truth.loc[truth["issue"] == "label_issue", "path"]) & population
    tp, strict = len(flagged & wrong), len(flagged & planted)
    ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
    return {"wrong": len(wrong), "flagged": len(flagged), "found": tp,
            "recall": ratio(tp, len(wrong)), "precision": ratio(tp, len(flagged)),
            "planted": len(planted), "strict_recall": ratio(strict, len(planted)),
            "strict_precision": ratio(strict, len(flagged))}


SAVED = ROOT / "benchmarks/data/label_issues"


def predict(name: str, folder: Path, folds: int, cache: str) -> tuple[dict, Path]:
    """Held-out predictions of one dataset, and what judging them needs; saved for --rescore."""
    import torch
    torch.set_num_threads(1)
    prepared = data.prepare(folder, cache=cache)
    started, cpu = time.time(), time.process_time()
    result = li.find(prepared, TrainConfig(**LABEL_ISSUE_DEFAULTS), folds=folds, log=print)
    wall, cpu = time.time() - started, time.process_time() - cpu
    li.write(prepared.workspace, result)
    table = result.predictions.sort_index()
    run = {"labels": result.labels, "probs": result.probabilities, "paths": table["path"].to_numpy(str),
           "reliable": (table["unreliable"] == "").to_numpy(), "images": result.facts["samples"],
           "size": li.input_size(prepared.samples), "oos_accuracy": result.facts["oos_accuracy"], "wall_s": wall,
           "cpu_s": cpu, "folds": folds}
    SAVED.mkdir(parents=True, exist_ok=True)
    np.savez(SAVED / f"{name}.npz", **run)
    return run, prepared.workspace


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rescore", action="store_true", help="judge the last run's saved predictions again")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for name, folder in DATASETS.items():
            if args.rescore:
                run = {k: v.item() if v.ndim == 0 else v for k, v in np.load(SAVED / f"{name}.npz").items()}
                workspace = data.prepare(folder, cache=cache).workspace  # the inspectors' findings
            else:
                run, workspace = predict(name, folder, args.folds, cache)
            args.folds = run["folds"]
            labels, probs, paths, reliable = run["labels"], run["probs"], run["paths"], run["reliable"]
            groups = li.conflict_groups(li.inspector_findings(workspace), paths)
            truth = pd.read_csv(ROOT / f"sample_data/truth/{name}.csv", dtype=str, keep_default_na=False)
            noise = pd.read_csv(ROOT / f"sample_data/truth/label_noise_{name}.csv", dtype=str,
                                keep_default_na=False)
            variants = [(f, "reliable", True) for f in li.FILTERS] + [(li.DEFAULT_FILTER, "reliable", False),
                                                                    (li.DEFAULT_FILTER, "every image", True)]
            for filter_by, judged, copies in variants:
                mask = li.judge(labels, probs, reliable if judged == "reliable" else np.ones_like(reliable),
                             filter_by, groups if copies else None)["issue"].to_numpy()
                rows.append({"dataset": name, "filter": filter_by, "copies": "yes" if copies else "no",
                             "judged": judged, "images": run["images"],
                             "set_aside": int((~reliable).sum()) if judged == "reliable" else 0,
                             "size": run["size"], "oos_accuracy": run["oos_accuracy"], "wall_s": run["wall_s"],
                             "cpu_s": run["cpu_s"], **score(set(paths[mask]), noise, truth, set(paths))})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    command = f"python benchmarks/label_issues.py --folds {args.folds}" + (" --rescore" if args.rescore else "")
    body = [f"`{command}` — {args.folds}-fold cross-validation of the "
            f"tiny ConvNet ({', '.join(f'{k}={v}' for k, v in LABEL_ISSUE_DEFAULTS.items())}, input size: the "
            f"standard side nearest the median short side, flip-averaged held-out predictions), one CPU thread, on "
            f"a shared 2-core machine. Judged: `reliable` = images with no inspector finding among "
            f"{', '.join(li.UNRELIABLE)} (the default; the others are predicted but set aside), `every image` = no "
            f"image set aside. Bar: recall ≥ 0.8, precision ≥ 0.6.", "",
            "Copy rule (the default: yes): of copies the duplicates inspector found filed under different labels "
            "(`conflicting_labels`), the one whose label the copies' averaged held-out predictions believe less is "
            "flagged, and a copy flagged only for leaning to its twin's label is cleared "
            "(`label_issues.conflicting_copies`). Wrong labels = the planted `label_issue` images plus the "
            "relabelled copy of each planted conflicting-labels pair (`truth/label_noise_<dataset>.csv`); strict = "
            "only the `label_issue` plants count as right." + (
                " `--rescore`: the held-out predictions of the last full run, judged again." if args.rescore
                else ""), "",
            "| dataset | filter | copy rule | judged | images | set aside | input px | out-of-sample acc | "
            "wrong labels | flagged | found | recall | precision | strict recall | strict precision | wall s | CPU s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        body.append(f"| {r['dataset']} | {r['filter']} | {r['copies']} | {r['judged']} | {r['images']} | "
                    f"{r['set_aside']} | {r['size']} | {r['oos_accuracy']:.3f} | {r['wrong']} | {r['flagged']} | "
                    f"{r['found']} | "
                    f"{r['recall']:.2f} | {r['precision']:.2f} | {r['strict_recall']:.2f} | "
                    f"{r['strict_precision']:.2f} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} |")
    write_section("Label issues", "## Label issues\n\n" + "\n".join(body) + "\n", keep="### Notes")


if __name__ == "__main__":
    main()
