"""What the CLIs print for a person never carries a file's control characters raw (an ESC sequence in a name
could clear the screen, retitle the window or forge a line): every human-readable line escapes them, while
--json and the CSVs keep names exact. And --out inside the dataset is refused before anything is written."""

import json

import pytest

from inspectors.run import read_findings
from tests.conftest import encode, noise_image, write
from tests.hostile.helpers import PY, env, fingerprint, run_measured, tiny_images

CLEAR = "\x1b[2J"  # erase the screen
TITLE = "\x1b]0;owned\x07"  # set the window title
CSI = "\x9b31m"  # the one-byte CSI some terminals obey
RTL = "\u202e"  # makes "gnp.exe" read as "exe.png"


def hostile_dataset(root):
    """A class folder and files whose names carry terminal controls; one of them does not decode."""
    good = encode(noise_image(24, 20, seed=1), "PNG")
    write(root / "train" / f"cat{TITLE}" / f"{CLEAR}a.png", good)
    write(root / "train" / f"cat{TITLE}" / "b.png", encode(noise_image(24, 20, seed=2), "PNG"))
    write(root / "train" / "dog" / f"broken{CSI}{RTL}gnp.exe.png", b"not an image")
    write(root / "train" / "dog" / "c.png", encode(noise_image(24, 20, seed=3), "PNG"))
    return root


def raw_controls(text: str) -> list[str]:
    return sorted({c for c in text if c in "\x1b\x07\x9b\u202e"})


def cli(module, *args, cache):
    return run_measured([PY, "-m", module, *map(str, args)], timeout=300, env=env(INSPECTORS_CACHE=cache))


def test_printable_escapes_controls_and_keeps_what_it_is_told_to():
    from inspectors.report import printable  # the one helper every human-readable line goes through
    assert printable(f"a{CLEAR}b\n{RTL}c") == "a\\x1b[2Jb\\n\\u202ec"
    assert printable(f"line{TITLE}\nnext", keep="\n") == "line\\x1b]0;owned\\x07\nnext"
    assert printable("ünï 🐱 plain") == "ünï 🐱 plain"


def test_scan_report_escapes_names_and_json_and_csv_keep_them_exact(tmp_path):
    ds = hostile_dataset(tmp_path / f"ds{CLEAR}")
    r = cli("inspectors", "scan", ds, "--workers", "1", "--out", tmp_path / "out", cache=tmp_path / "cache")
    assert r.returncode == 0, r.stderr
    assert raw_controls(r.stdout + r.stderr) == []
    assert "train/dog/broken\\x9b31m\\u202egnp.exe.png: " in r.stdout
    assert "cat\\x1b]0;owned\\x07" in r.stdout  # the class table
    found = read_findings(tmp_path / "out" / "findings.csv")
    assert f"train/dog/broken{CSI}{RTL}gnp.exe.png" in set(found["path"])
    r = cli("inspectors", "scan", ds, "--workers", "1", "--json", cache=tmp_path / "cache")
    assert json.loads(r.stdout)["class_counts"]["train"] == {f"cat{TITLE}": 2, "dog": 1}
    r = cli("inspectors", "cache", "info", cache=tmp_path / "cache")
    assert r.returncode == 0 and raw_controls(r.stdout) == [] and "ds\\x1b[2J" in r.stdout


def test_error_messages_escape_the_names_they_quote(tmp_path):
    for module in ("inspectors", "baselines"):
        command = "scan" if module == "inspectors" else "train"
        r = cli(module, command, tmp_path / f"gone{CLEAR}{TITLE}", cache=tmp_path / "cache")
        assert r.returncode == 2 and raw_controls(r.stdout + r.stderr) == [], (module, r.stderr)
        assert "gone\\x1b[2J\\x1b]0;owned\\x07: no such file or folder" in r.stderr


def test_baselines_report_escapes_names(tmp_path):
    ds = tiny_images(tmp_path / f"ds{TITLE}", 24, classes=(f"a{CLEAR}", "b"))
    r = cli("baselines", "train", ds, "--max-steps", "2", "--input-size", "16", "--width", "4", "--threads", "1",
            cache=tmp_path / f"cache{CLEAR}")
    assert r.returncode == 0, r.stderr
    assert raw_controls(r.stdout + r.stderr) == [] and "cache\\x1b[2J" in r.stdout


def test_out_inside_the_dataset_is_refused_and_nothing_is_written(tmp_path):
    ds = tiny_images(tmp_path / "ds", 4)
    before = fingerprint(ds)
    r = cli("inspectors", "scan", ds, "--out", ds / "report", cache=tmp_path / "cache")
    assert r.returncode == 2 and "--out" in r.stderr and "inside the dataset" in r.stderr
    assert fingerprint(ds) == before


@pytest.mark.parametrize(("command", "option"), [("train", "--out"), ("check", "--out"), ("label-issues", "--out"),
                                                 ("label-issues", "--job"), ("tolerance", "--job")])
def test_a_baselines_folder_inside_the_dataset_is_refused_and_nothing_is_written(tmp_path, command, option,
                                                                                 capsys, monkeypatch):
    from baselines.__main__ import main
    ds = tiny_images(tmp_path / "ds", 4)
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    before = fingerprint(ds)
    assert main([command, str(ds), option, str(ds / "results")]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {option} {ds / 'results'} lies inside the dataset {ds}; choose another {option} "
                   f"so the dataset stays untouched\n")
    assert fingerprint(ds) == before and not (tmp_path / "cache").exists()  # refused before the scan
