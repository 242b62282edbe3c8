"""The hostile corpus through the real CLI: the scan finishes, every file has a row with `ok` and a
reason (or an unsupported_file row), no file takes longer than the per-file timeout, a bomb never
allocates its pixels, and the corpus is left as it was."""

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from inspectors.run import read_findings
from inspectors.schema import ENTRY_IMAGE, ENTRY_UNSUPPORTED, FEATURE_COLUMNS
from tests.hostile import timed_reader
from tests.hostile.helpers import PY, env, fingerprint, run_measured
from tests.hostile.make_corpus import CLASS_DIR, DELETED, kinds, make_corpus

TIMEOUT_S = 10  # small: a healthy file takes milliseconds, and bombs are refused before any decode
MAX_RSS_MB = 300  # each scan worker peaks at ~150-165 MB reading this corpus; decoding the 20,000 x 20,000 PNG
# bomb alone would add 400 MB
MAIN_MAX_RSS_MB = 450  # the CLI process too (pandas, pyarrow), and once it aligns candidate pairs, numba and its
# compiled kernels (~120 MB, measured: 370 MB in all on this corpus): a decoded bomb would still cross it


@pytest.fixture(scope="module")
def corpus_scan(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    ds = base / "ds"
    entries = make_corpus(ds)
    victim = ds.joinpath(*CLASS_DIR, DELETED)
    before = fingerprint(ds)
    log = base / "timing.log"
    finished = run_measured([PY, "-m", "tests.hostile.scan_child", "--delete-after-listing", str(victim),
                             "--time-files", str(log), "--peak-memory", str(base / "peak_kb"),
                             "--", "scan", str(ds), "--workers", "2", "--timeout", str(TIMEOUT_S),
                             "--cache", str(base / "cache"), "--out", str(base / "out"), "--quiet"], timeout=400)
    after = fingerprint(ds)
    samples = pd.read_parquet(base / "out" / "samples.parquet") if (base / "out" / "samples.parquet").exists() \
        else None
    findings = read_findings(base / "out" / "findings.csv") if (base / "out" / "findings.csv").exists() else None
    log = timed_reader.read_log(log)
    main_peak = int((base / "peak_kb").read_text()) if (base / "peak_kb").exists() else None
    return SimpleNamespace(ds=ds, entries=entries, finished=finished, samples=samples, findings=findings,
                           timings={p: s for p, (s, _) in log.items()},
                           worker_peaks_mb={p: kb / 1024 for p, (_, kb) in log.items()},
                           main_peak_mb=main_peak / 1024 if main_peak else None, before=before, after=after,
                           deleted=os.path.relpath(os.fsencode(victim), os.fsencode(ds)))


def test_the_corpus_has_at_least_40_kinds(tmp_path):
    entries = make_corpus(tmp_path / "ds")
    assert len(kinds(entries)) >= 40
    assert {e.expect for e in entries} == {"ok", "bad", "unsupported", "any", "gone"}


@pytest.mark.slow
def test_the_scan_of_the_corpus_finishes(corpus_scan):
    f = corpus_scan.finished
    assert f.returncode == 0, f.stderr[-3000:]
    assert "Traceback" not in f.stderr, f.stderr[-3000:]
    assert corpus_scan.samples is not None and corpus_scan.findings is not None


@pytest.mark.slow
def test_every_hostile_file_has_a_row_with_ok_and_a_reason(corpus_scan):
    rows = corpus_scan.samples.set_index("path")
    assert not rows.index.duplicated().any()
    wrong = []
    for e in corpus_scan.entries:
        if e.path not in rows.index:
            wrong.append(f"{e.kind}: {e.path!r} has no row")
            continue
        row = rows.loc[e.path]
        error = row["error"] if isinstance(row["error"], str) else ""
        if e.expect == "ok" and not (row["entry"] == ENTRY_IMAGE and row["ok"] and not error):
            wrong.append(f"{e.kind}: {e.path!r} should decode; got ok={row['ok']} error={error!r}")
        if e.expect in ("bad", "gone") and not (row["entry"] == ENTRY_IMAGE and not row["ok"] and error):
            wrong.append(f"{e.kind}: {e.path!r} should be ok=False with a reason; got ok={row['ok']} {error!r}")
        if e.expect == "unsupported" and not (row["entry"] == ENTRY_UNSUPPORTED and not row["ok"] and error):
            wrong.append(f"{e.kind}: {e.path!r} should be an unsupported row with a reason; got {row['entry']}")
        if e.expect == "any" and not (row["ok"] or error):
            wrong.append(f"{e.kind}: {e.path!r} does not decode and has no reason")
        if row["ok"] and (pd.isna(row["width"]) or pd.isna(row["file_hash"])):
            wrong.append(f"{e.kind}: {e.path!r} decoded but lacks its measurements")
    assert not wrong, "\n".join(wrong)
    assert set(rows.index) == {e.path for e in corpus_scan.entries}, "rows for files the corpus did not make"
    assert set(corpus_scan.samples.columns) >= set(FEATURE_COLUMNS)


@pytest.mark.slow
def test_every_file_that_is_not_an_image_gets_a_finding_that_says_why(corpus_scan):
    samples, found = corpus_scan.samples, corpus_scan.findings
    issue_of = {"unsupported": "unsupported_file"}
    by_path = {path: set(issues) for path, issues in found.groupby("path")["issue"]}
    missing = []
    for row in samples.itertuples():
        if row.ok:
            continue
        want = issue_of.get(row.entry) or ("missing_file" if str(row.error).startswith("FileNotFoundError")
                                           else "corrupt")
        if want not in by_path.get(row.path, set()):
            missing.append(f"{row.path!r}: no {want} finding ({row.error})")
    assert not missing, "\n".join(missing)
    assert by_path.get("/".join(CLASS_DIR) + "/" + DELETED) == {"missing_file"}
    details = found.set_index(["path", "issue"])["detail"]
    assert details["/".join(CLASS_DIR) + "/x.jpg", "unsupported_file"] == "a folder named like an image file"


@pytest.mark.slow
def test_bombs_are_refused_from_their_header(corpus_scan):
    rows = corpus_scan.samples.set_index("path")
    bombs = [e for e in corpus_scan.entries if e.kind.startswith(("huge declared", "decompression bomb"))]
    assert len(bombs) >= 4
    for e in bombs:
        assert rows.loc[e.path, "error"].startswith("TooLargeError: header declares"), e.path
    bomb_text = rows.loc["/".join(CLASS_DIR) + "/text_chunk_bomb.png", "error"]
    assert "too large" in bomb_text.lower()


@pytest.mark.slow
def test_peak_memory_stays_bounded_and_a_bomb_never_allocates_its_pixels(corpus_scan):
    assert corpus_scan.main_peak_mb is not None and corpus_scan.main_peak_mb < MAIN_MAX_RSS_MB, corpus_scan.main_peak_mb
    worst = max(corpus_scan.worker_peaks_mb.items(), key=lambda kv: kv[1])
    assert worst[1] < MAX_RSS_MB, f"a worker peaked at {worst[1]:.0f} MB after reading {os.fsdecode(worst[0])}"


@pytest.mark.slow
def test_no_file_took_longer_than_the_per_file_timeout(corpus_scan):
    """Each file read either finished within the timeout (its time is logged) or was cut off at it and
    reported as ScanTimeout. No healthy or hostile file here should need the cut-off at all."""
    timings = corpus_scan.timings
    images = corpus_scan.samples[corpus_scan.samples["entry"] == ENTRY_IMAGE]
    assert len(timings) >= len(images) - 1  # every image read once (the deleted one too: it fails to open)
    slow = {os.fsdecode(p): s for p, s in timings.items() if s > TIMEOUT_S}
    assert not slow, slow
    timed_out = images[images["error"].fillna("").str.startswith("ScanTimeout")]
    assert timed_out.empty, list(timed_out["path"])


@pytest.mark.slow
def test_the_corpus_is_unchanged_by_the_scan_except_the_file_the_test_deleted(corpus_scan):
    before = {k: v for k, v in corpus_scan.before.items() if k not in (corpus_scan.deleted, b".")}
    after = {k: v for k, v in corpus_scan.after.items() if k != b"."}
    parent = os.path.dirname(corpus_scan.deleted)
    changed_by_the_test = {parent}  # the unlink itself changed its folder's mtime
    assert {k: v for k, v in before.items() if k not in changed_by_the_test} == \
        {k: v for k, v in after.items() if k not in changed_by_the_test}
    assert set(after) == set(before)


@pytest.mark.slow
def test_reasons_are_the_same_on_every_scan(corpus_scan):
    errors = corpus_scan.samples["error"].dropna()
    with_addresses = errors[errors.str.contains(r" at 0x[0-9a-f]+", regex=True)]
    assert with_addresses.empty, with_addresses.head().tolist()


def test_corpus_script_runs_standalone(tmp_path):
    out = subprocess.run([PY, str(Path(__file__).with_name("make_corpus.py")), str(tmp_path / "c")],
                         capture_output=True, text=True, env=env(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "kinds" in out.stdout
