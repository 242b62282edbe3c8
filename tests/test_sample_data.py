"""The committed sample data: reproducible from its generator, and its ground truth self-consistent."""

import csv
import hashlib
import io
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
GENERATOR = SAMPLE / "make_sample_data.py"
SPLITS = ["train", "val", "test"]
PER_FILE = ["exact_duplicate", "near_duplicate", "split_leak", "conflicting_labels", "corrupt", "format_mismatch",
            "unsupported_file", "odd_size", "odd_aspect_ratio", "dark", "light", "blurry", "low_information",
            "odd_mode", "outlier", "label_issue"]
HARD_KINDS = ["look_alike", "dark_normal", "sharp_on_dark", "smooth_normal", "size_variation"]


def tree_hashes(root):
    """relative path -> sha256 of the bytes ('dir' for a directory), for everything under root."""
    return {p.relative_to(root).as_posix(): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def decoded(path):
    """The decoded image, or None when it does not decode."""
    try:
        with Image.open(io.BytesIO(Path(path).read_bytes())) as im:
            im.load()
            return im.copy()
    except Exception:
        return None


def labels_and_splits(name, root):
    """path -> (label, split) as the dataset itself says."""
    if name == "shapes_csv":
        return {r["path"].removeprefix("./"): (r["label"], r["split"]) for r in read_csv(root / "labels.csv")}
    parts = (p.relative_to(root).parts for p in root.rglob("*"))
    return {"/".join(rel): (rel[1], rel[0]) for rel in parts if len(rel) > 2}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Both generator runs at once: the shapes data again, and a glyph-style set. Yields (shapes out dir,
    glyph base dir)."""
    out, base = tmp_path_factory.mktemp("sample_data"), tmp_path_factory.mktemp("glyph_style")
    shapes = subprocess.Popen([sys.executable, str(GENERATOR), "--out", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    glyph = subprocess.run([sys.executable, str(GENERATOR), "--style", "glyphs", "--seed", "7",
                            "--out", str(base / "glyphs")], capture_output=True, text=True)
    log = shapes.communicate()[0].decode(errors="replace")
    assert glyph.returncode == 0, glyph.stdout + glyph.stderr
    assert shapes.returncode == 0, log
    return out, base


@pytest.fixture(scope="module")
def regenerated(generated):
    return generated[0]


@pytest.fixture(scope="module")
def glyphs(generated):
    return generated[1]


@pytest.mark.parametrize("part", ["shapes", "shapes_csv", "truth"])
def test_regenerating_gives_byte_identical_files(regenerated, part):
    committed, fresh = tree_hashes(SAMPLE / part), tree_hashes(regenerated / part)
    assert sorted(committed) == sorted(fresh)
    assert [p for p in committed if committed[p] != fresh[p]] == []


def test_committed_sample_data_fits_the_size_budget():
    entries = [SAMPLE, *(p for p in SAMPLE.rglob("*") if "__pycache__" not in p.parts)]
    assert sum(p.lstat().st_size for p in entries) <= 4_500_000


@pytest.mark.parametrize("name", ["shapes", "shapes_csv"])
def test_truth_paths_exist_except_missing_files(name):
    root = SAMPLE / name
    for row in read_csv(SAMPLE / "truth" / f"{name}.csv"):
        assert (root / row["path"]).exists() == (row["issue"] != "missing_file"), row


@pytest.mark.parametrize("name", ["shapes", "shapes_csv"])
def test_every_per_file_issue_type_has_at_least_20_rows(name):
    counts = defaultdict(int)
    for row in read_csv(SAMPLE / "truth" / f"{name}.csv"):
        counts[row["issue"]] += 1
    wanted = PER_FILE + (["missing_file", "orphan_file"] if name == "shapes_csv" else [])
    assert {issue: counts[issue] for issue in wanted if counts[issue] < 20} == {}
    assert counts["label_issue"] >= 25
    assert json.loads((SAMPLE / "truth" / f"summary_{name}.json").read_text())["issue_counts"] == dict(counts)


@pytest.mark.parametrize("name", ["shapes", "shapes_csv"])
def test_corrupt_and_unsupported_files_fail_to_decode_and_all_others_decode(name):
    root = SAMPLE / name
    issues = defaultdict(set)
    for row in read_csv(SAMPLE / "truth" / f"{name}.csv"):
        issues[row["path"]].add(row["issue"])
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        if p.is_dir() or rel == "labels.csv":
            continue
        expect_broken = bool(issues[rel] & {"corrupt", "unsupported_file"})
        assert (decoded(p) is None) == expect_broken, (rel, issues[rel])


@pytest.mark.parametrize("name", ["shapes", "shapes_csv"])
def test_duplicate_groups_follow_the_row_rules(name):
    root = SAMPLE / name
    where = labels_and_splits(name, root)
    rows = read_csv(SAMPLE / "truth" / f"{name}.csv")
    members, kinds, marked = defaultdict(set), defaultdict(set), defaultdict(set)
    for row in rows:
        assert bool(row["group"]) == (row["issue"] in {"exact_duplicate", "near_duplicate", "split_leak",
                                                       "conflicting_labels"}), row
        if row["issue"] in {"exact_duplicate", "near_duplicate"}:
            members[row["group"]].add(row["path"])
            kinds[row["group"]].add(row["issue"])
        elif row["group"]:
            marked[(row["group"], row["issue"])].add(row["path"])
    assert members and all(len(m) >= 2 for m in members.values())
    for group, paths in members.items():
        assert len(kinds[group]) == 1, group
        pixels = [np.asarray(decoded(root / p)) for p in sorted(paths)]
        same = all(a.shape == pixels[0].shape and np.array_equal(a, pixels[0]) for a in pixels[1:])
        assert same == (kinds[group] == {"exact_duplicate"}), group
        first = min(SPLITS.index(where[p][1]) for p in paths)
        assert marked[(group, "split_leak")] == {p for p in paths if SPLITS.index(where[p][1]) > first}, group
        conflict = len({where[p][0] for p in paths}) > 1
        assert marked[(group, "conflicting_labels")] == (paths if conflict else set()), group


def test_csv_layout_has_missing_rows_and_orphan_images():
    root = SAMPLE / "shapes_csv"
    listed = set(labels_and_splits("shapes_csv", root))
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {"labels.csv"}
    rows = read_csv(SAMPLE / "truth" / "shapes_csv.csv")
    assert listed - on_disk == {r["path"] for r in rows if r["issue"] == "missing_file"}
    assert on_disk - listed == {r["path"] for r in rows if r["issue"] == "orphan_file"}
    assert {"images/\u00f1and\u00fa_03.png", "images/\U0001f98a_07.png"} <= listed


def test_hard_negatives_exist_and_never_contradict_the_truth():
    counts = defaultdict(int)
    for name in ["shapes", "shapes_csv"]:
        issues = defaultdict(set)
        for row in read_csv(SAMPLE / "truth" / f"{name}.csv"):
            issues[row["path"]].add(row["issue"])
        hard = read_csv(SAMPLE / "truth" / f"hard_negatives_{name}.csv")
        for row in hard:
            assert (SAMPLE / name / row["path"]).is_file(), row
            assert not issues[row["path"]] & set(row["must_not_be"].split(";")), row
            counts[row["kind"]] += 1
        kinds = {row["kind"] for row in hard}
        assert name != "shapes" or all(sum(r["kind"] == k for r in hard) >= 10 for k in HARD_KINDS)
        assert kinds == set(HARD_KINDS)
    assert {k: counts[k] for k in HARD_KINDS if counts[k] < 20} == {}


@pytest.mark.parametrize("name", ["shapes", "shapes_csv"])
def test_label_noise_lists_every_planted_mislabel_and_one_copy_per_conflicting_pair(name):
    root = SAMPLE / name
    given = labels_and_splits(name, root)
    truth = read_csv(SAMPLE / "truth" / f"{name}.csv")
    noise = {row["path"]: row for row in read_csv(SAMPLE / "truth" / f"label_noise_{name}.csv")}
    for path, row in noise.items():
        assert given[path][0] == row["given"] != row["true"], row
    planted = {row["path"] for row in truth if row["issue"] == "label_issue"}
    assert planted <= set(noise)
    groups = defaultdict(set)
    for row in truth:
        if row["issue"] == "conflicting_labels":
            groups[row["group"]].add(row["path"])
    assert groups and set(noise) == planted | set().union(*groups.values()) & set(noise)
    for members in groups.values():  # one original, the rest copies; the copies filed elsewhere are listed
        listed = members & set(noise)
        assert listed and members - listed
        true = {noise[p]["true"] for p in listed}
        assert true == {given[p][0] for p in members - listed}, members


@pytest.mark.parametrize("name, minority, absent", [("shapes", ["letter", "ring"], ("test", "cross")),
                                                    ("shapes_csv", ["triangle"], ("val", "waves"))])
def test_summary_records_imbalance_missing_class_and_shortcut(name, minority, absent):
    summary = json.loads((SAMPLE / "truth" / f"summary_{name}.json").read_text(encoding="utf-8"))
    train = summary["class_counts"]["train"]
    median = float(np.median([v for v in train.values() if v]))
    assert summary["imbalanced_classes"]["train"] == minority
    assert all(train[c] <= 0.2 * median for c in minority)
    assert summary["class_counts"][absent[0]][absent[1]] == 0
    assert summary["missing_classes"][absent[0]] == [absent[1]]
    assert summary["shortcuts"] == ["format", "width", "height"]


def test_glyph_style_generates_a_grayscale_set_with_its_truth(glyphs):
    base = glyphs
    root, truth = base / "glyphs", base / "truth_glyphs"
    assert sorted(p.name for p in root.iterdir()) == ["test", "train", "val"]
    rows = read_csv(truth / "glyphs.csv")
    counts = defaultdict(int)
    for row in rows:
        assert (root / row["path"]).exists(), row
        counts[row["issue"]] += 1
    assert {issue: counts[issue] for issue in PER_FILE if counts[issue] < 20} == {}
    hard = read_csv(truth / "hard_negatives_glyphs.csv")
    assert sum(row["kind"] == "look_alike" for row in hard) >= 30
    odd = {row["path"] for row in rows if row["issue"] in {"odd_mode", "corrupt", "unsupported_file"}}
    images = [p for p in root.rglob("*") if p.is_file() and p.relative_to(root).as_posix() not in odd]
    assert {decoded(p).mode for p in images} == {"L"}
    assert json.loads((truth / "summary_glyphs.json").read_text())["missing_classes"]["val"] == ["four"]
