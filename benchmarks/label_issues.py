"""Label issues against planted label noise: `python -m baselines label-issues` with its defaults (or the settings
given), scored on what it flags and on how it ranks.

    python benchmarks/label_issues.py [--sets kinds32,photos32,digits32,shapes,shapes_csv] [--size 3000] [--noise 0.04]
                                      [--folds 5] [--config JSON] [--rescore] [--tag NAME] [--write]

Sets: photos32 and digits32 (benchmarks/_label_noise_sets.py: real photos cut into 32 px windows, one class per
photo, and scikit-learn's digits at 32 px; wrong labels mostly swap each class with the class a quick model
confuses it with), shapes and shapes_csv (sample_data, wrong labels in truth/label_noise_<set>.csv).

Figures per set: held-out accuracy, share flagged, wrong labels found (recall) and precision, wrong labels among
the 50 highest-ranked images (by each of cleanlab's two usual scores), wall time. --rescore judges the held-out
probabilities the last run saved (benchmarks/data/label_issues/<tag>_<set>.npz) again, without training.
--write puts the table in docs/benchmarks.md ("Label issues")."""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import _label_noise_sets  # noqa: E402

from baselines import data, volume  # noqa: E402
from baselines import label_issues as li  # noqa: E402
from baselines.config import LABEL_ISSUE_DEFAULTS, TrainConfig  # noqa: E402
from benchmarks._doc import machine, write_section  # noqa: E402

SAVED = ROOT / "benchmarks/data/label_issues"
SHAPES = {"shapes": ROOT / "sample_data/shapes", "shapes_csv": ROOT / "sample_data/shapes_csv"}


def dataset(name: str, size: int, noise: float) -> tuple[str, set]:
    """(what to give `prepare`, the paths whose label is wrong)."""
    if name in SHAPES:
        wrong = pd.read_csv(ROOT / f"sample_data/truth/label_noise_{name}.csv", dtype=str, keep_default_na=False)
        return str(SHAPES[name]), set(wrong["path"])
    folder = _label_noise_sets.build(name, min(size, 1797) if name == "digits32" else size, noise)
    truth = pd.read_csv(folder / "truth.csv", dtype=str, keep_default_na=False)
    return str(folder / "manifest.csv"), set(truth.loc[truth["true"] != truth["given"], "path"])


def predict(name: str, source: str, config: TrainConfig, folds: int, cache: str, tag: str, workers: int = 0) -> dict:
    """Held-out probabilities of one set and what judging them needs; saved for --rescore."""
    prepared = data.prepare(source, cache=cache)
    started, cpu = time.time(), _cpu_s()
    result = li.find(prepared, config, folds=folds, log=print, workers=workers)
    wall, cpu = time.time() - started, _cpu_s() - cpu
    table = result.predictions.sort_index()
    run = {"labels": result.labels, "probs": result.probabilities, "paths": table["path"].to_numpy(str),
           "reliable": (table["unreliable"] == "").to_numpy(), "images": result.facts["samples"],
           "oos_accuracy": result.facts["oos_accuracy"], "wall_s": wall, "cpu_s": cpu, "folds": result.facts["folds"],
           "epochs": result.facts["epochs"], "groups": li.conflict_groups(li.inspector_findings(prepared.workspace),
                                                                          table["path"]).astype(str)}
    SAVED.mkdir(parents=True, exist_ok=True)
    np.savez(saved_file(tag, name, run["images"]), **run)
    return run


def saved_file(tag: str, name: str, images: int) -> Path:
    return SAVED / (f"{tag}_{name}.npz" if name in SHAPES else f"{tag}_{name}_{images}.npz")


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (the fold workers)."""
    import resource

    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def score(run: dict, wrong: set) -> dict:
    labels, probs, paths, reliable = run["labels"], run["probs"], run["paths"], run["reliable"]
    groups = np.asarray(run["groups"], dtype=object)
    verdict, facts = li.suggest(labels, probs, reliable, li.DEFAULT_FILTER, groups)
    flagged = set(paths[verdict["issue"].to_numpy()])
    wrong = wrong & set(paths)
    found = len(flagged & wrong)
    out = {"images": int(run["images"]), "oos_accuracy": float(run["oos_accuracy"]), "wrong": len(wrong),
           "flagged": len(flagged), "share": len(flagged) / max(len(paths), 1), "found": found,
           "recall": found / max(len(wrong), 1), "precision": found / max(len(flagged), 1),
           "candidates": facts["candidates"], "weak": facts["weak_model"], "wall_s": float(run["wall_s"]),
           "cpu_s": float(run.get("cpu_s", float("nan"))),
           "epochs": int(run["epochs"]), "folds": int(run["folds"])}
    idx = np.flatnonzero(reliable)
    for method in ("self_confidence", "normalized_margin"):
        s = volume.rank_scores(labels[idx], probs[idx], method)
        top = paths[idx[np.argsort(-s, kind="stable")[:50]]]
        out[f"top50_{method}"] = len(set(top) & wrong)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="photos32,digits32,shapes,shapes_csv")
    parser.add_argument("--size", type=int, default=3000, help="photos32 images (digits32: at most 1,797)")
    parser.add_argument("--noise", type=float, default=0.04)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--config", default="{}", help="settings over the label-issues defaults, as JSON")
    parser.add_argument("--tag", default="default")
    parser.add_argument("--workers", type=int, default=0, help="fold processes (default: label-issues' own rule)")
    parser.add_argument("--rescore", action="store_true", help="judge the last run's saved predictions again")
    parser.add_argument("--write", action="store_true", help="write the table to docs/benchmarks.md")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    config = TrainConfig(**{**LABEL_ISSUE_DEFAULTS, **json.loads(args.config)})
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for name in args.sets.split(","):
            started_at, where = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine()
            source, wrong = dataset(name, args.size, args.noise)
            images = min(args.size, 1797) if name == "digits32" else args.size
            if args.rescore:
                run = dict(np.load(saved_file(args.tag, name, images), allow_pickle=False))
            else:
                run = predict(name, source, config, args.folds, cache, args.tag, args.workers)
            rows.append({"set": name, **score(run, wrong), "tag": args.tag, "settings": args.config,
                         "noise": args.noise if name not in SHAPES else None, "measured": started_at,
                         "machine": where, "command": " ".join(["python benchmarks/label_issues.py", *sys.argv[1:]])})
            print(json.dumps(rows[-1]), flush=True)
            with open(SAVED / "results.jsonl", "a") as f:  # a rescore row names its command: --rescore
                f.write(json.dumps(rows[-1]) + "\n")
    print(pd.DataFrame(rows).drop(columns=["machine", "command"]).to_string(index=False))
    if args.write:
        write_doc()


def write_doc() -> None:
    """The section from every run recorded in results.jsonl (the latest per set, size and settings)."""
    runs = [json.loads(line) for line in (SAVED / "results.jsonl").read_text().splitlines() if line.strip()]
    latest = {(r["set"], r["images"], r["tag"], r["settings"]): r for r in runs}
    body = ["Each row: `python benchmarks/label_issues.py` as given, on this machine (2 cores, shared with other "
            "work: the load average is in each run's line below; fold workers niced). Defaults: "
            f"{', '.join(f'{k}={v}' for k, v in LABEL_ISSUE_DEFAULTS.items())}, 5 folds. photos32, kinds32 and "
            f"digits32 carry planted wrong labels, {_label_noise_sets.CONFUSED:.0%} of them swaps into the class a "
            "quick model confuses each class with most (benchmarks/_label_noise_sets.py). Flagged: the default "
            "filter with the volume rule (baselines/volume.py); top 50: wrong labels among the 50 highest-ranked "
            "judged images. A row whose command ends in --rescore re-judges the predictions its run saved (its "
            "date is the re-judging's; wall and CPU seconds are the run's).", "",
            "| set | images | tag | settings | folds x epochs | held-out acc | weak | wrong labels | candidates | "
            "flagged (share) | found (recall) | precision | top 50, self-confidence | top 50, normalized margin | "
            "wall s | CPU s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    rows = sorted(latest.values(), key=lambda r: (r["set"], r["images"], r["tag"]))
    for r in rows:
        settings = "defaults" if r["settings"] in ("{}", "") else f"`{r['settings']}`"
        body.append(f"| {r['set']} | {r['images']} | {r['tag']} | {settings} | {r['folds']} x {r['epochs']} | "
                    f"{r['oos_accuracy']:.3f} | "
                    f"{'yes' if r['weak'] else 'no'} | {r['wrong']} | {r['candidates']} | {r['flagged']} "
                    f"({r['share']:.1%}) | {r['found']} ({r['recall']:.2f}) | {r['precision']:.2f} | "
                    f"{r['top50_self_confidence']} | {r['top50_normalized_margin']} | {r['wall_s']:.0f} | "
                    f"{r['cpu_s']:.0f} |")
    body += ["", "Runs:"] + [f"- {r['set']} {r['images']}: `{r['command']}`, {r['measured']}; {r['machine']}"
                             for r in rows]
    write_section("Label issues", "## Label issues\n\n" + "\n".join(body) + "\n", keep="### Notes")


if __name__ == "__main__":
    main()
