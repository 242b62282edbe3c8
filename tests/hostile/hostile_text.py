"""A dataset whose user text attacks the app: class names, labels, split names and file names that are Markdown
images and links, HTML tags and Streamlit directives, all pointing at `host` (a beacon server in the browser
test). A CSV manifest carries the labels with `/` in them (a folder name cannot); its missing rows carry
whole URLs as paths. Run results (training runs, checks, label issues) written with those labels, so every
page has user text to show."""

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image

from tests.ui import lab_runs


def hostile_labels(host: str) -> list[str]:
    return [f"![t]({host}/x.png)", f"[click]({host}/y)", f"<img src={host}/z.png>", f'<a href="{host}/a">a</a>']


# file and folder names cannot hold `/`: these attack without one
HOSTILE_NAMES = ["[click](y).png", "<img src=z.png onerror=alert(1)>.png", "![t](x).png", "**b** :red[c] $x$.png"]
HOSTILE_SPLIT = "<b>s</b>[s](s)"


def _png(path: Path, seed: int, side: int = 24, level: int | None = None) -> None:
    rng = np.random.default_rng(seed)
    if level is None:
        pixels = rng.integers(0, 256, (side // 4, side // 4, 3), dtype=np.uint8)
    else:  # a flat dark picture: the quality inspector flags it
        pixels = np.full((side // 4, side // 4, 3), level, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).resize((side, side), Image.Resampling.NEAREST).save(path)


def hostile_dataset(root: Path, host: str) -> Path:
    """root/labels.csv (the DATASET to open) over images in hostile folders and names. Returns the manifest."""
    labels = hostile_labels(host)
    rows = []
    for i in range(48):
        folder = f"{HOSTILE_NAMES[i % 4][:-4]}" if i % 3 == 0 else "plain"
        name = HOSTILE_NAMES[i % 4] if i % 2 == 0 else f"{i:03d}.png"
        path = f"{folder}/{i:03d}_{name}"
        _png(root / path, seed=i, level=3 if i == 5 else None)
        rows.append([path, labels[i % 4], "val" if i % 4 == (i // 4) % 4 else ("train" if i != 7 else HOSTILE_SPLIT)])
    # a copy of the first image filed under another label: a duplicate group whose labels conflict
    (root / "copy_[click](y).png").write_bytes((root / rows[0][0]).read_bytes())
    rows.append(["copy_[click](y).png", labels[1], "train"])
    (root / "broken_![t](x).png").write_bytes(b"\x89PNG\r\n\x1a\n not a png")  # corrupt, its name in the error
    rows.append(["broken_![t](x).png", labels[2], "train"])
    rows.append([f"{host}/missing.png", labels[3], "train"])  # a manifest row naming a URL: a missing file
    rows.append([rows[1][0], labels[0], "train"])  # the same path twice, another label: a warning quoting both
    _png(root / "orphan_<img src=z.png>.png", seed=99)  # on disk, not in the manifest
    manifest = root / "labels.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label", "split"])
        writer.writerows(rows)
    return manifest


def hostile_results(workspace: Path, samples, host: str) -> None:
    """Training runs (one a check run with verdicts), label-issue results and the run the pages compare,
    all naming the hostile classes, as `python -m baselines` writes them (tests/ui/lab_runs.py)."""
    val = samples[(samples["split"] == "val") & samples["ok"] & samples["label"].ne("")].head(12)
    paths, given = list(val["path"]), list(val["label"])
    classes = sorted(hostile_labels(host))
    lab_runs.finished_run(workspace, "20260101-000000-tiny_cnn", paths, classes, given, width=8)
    lab_runs.finished_run(workspace, "20260101-000050-tiny_cnn", paths, classes, given, width=16)
    check = lab_runs.finished_run(workspace, "20260101-000100-check-tiny_cnn", paths, classes, given, kind="check")
    lab_runs.add_checks(check)
    verdicts = json.loads((check / "checks.json").read_text())
    for sample in verdicts[1]["evidence"]["samples"]:  # what enters the network: its files' labels and paths
        sample["label"], sample["path"] = classes[0], paths[0]
    (check / "checks.json").write_text(json.dumps(verdicts))
    lab_runs.label_issue_results(workspace, paths, given, classes, suspects=3)
