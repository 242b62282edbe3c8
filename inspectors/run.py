"""samples -> every registered inspector -> findings + summary (+ the config that produced them)."""

import json
import time
from pathlib import Path

import pandas as pd

from . import balance, duplicates, integrity, jobs, outliers, pair_distances, quality, report, sizes
from . import findings as F
from .config import CONFIG_FILE, Config, config_to_dict
from .inspector import SharedValues, registry
from .scan import samples_bytes, scan, write_samples
from .schema import FINDING_COLUMNS, ISSUES, SCORE_DIRECTION, neutralise, unneutralise  # noqa: F401 (re-exported)
from .sheets import read_sheet, write_sheet
from .workspace import atomic_write_text, ensure_outside

# The registry run() walks, in this order: one line per inspector module (its INSPECTOR says what it reads,
# which config section it takes, what it shares; inspector.py writes the contract down).
INSPECTORS = registry(
    integrity.INSPECTOR,
    duplicates.INSPECTOR,
    balance.INSPECTOR,
    sizes.INSPECTOR,
    quality.INSPECTOR,
    outliers.INSPECTOR,
)

OTHER_SPLIT = "other"
OTHER_PREFIX = "other:"  # paths of the --against dataset, so they never collide with ours


def run(samples: pd.DataFrame, config: Config = Config(), scan_facts: dict | None = None,
        against: pd.DataFrame | None = None):
    """(findings, summary) for the samples table. `against` (another dataset's samples) joins the
    cross-dataset inspectors' table as split "other", and gets no findings. Shared intermediates are
    computed once, from this dataset's samples, when the first inspector that takes them runs (their time
    counts in that inspector's seconds)."""
    frames, timings, sections = [], {}, {}
    combined = samples if against is None else pd.concat(
        [samples, against.assign(split=OTHER_SPLIT, path=OTHER_PREFIX + against["path"])], ignore_index=True)
    shared = SharedValues(samples, config)
    for name, inspector in INSPECTORS.items():
        table = combined if inspector.cross_dataset else samples
        F.require(table, inspector.needs, name)
        settings = inspector.settings(config)
        start = time.perf_counter()
        found = inspector.inspect(table, settings, **shared.for_inspector(inspector))
        if inspector.summarize is not None:
            sections.update(inspector.summarize(table, found, settings))
        timings[name] = round(time.perf_counter() - start, 4)
        frames.append(found[~found["path"].str.startswith(OTHER_PREFIX)] if against is not None else found)
    found = F.concat(frames)
    counts = found["issue"].value_counts()
    summary = {
        "files": int(len(samples)),
        "score_direction": SCORE_DIRECTION,
        "issue_counts": {issue: int(counts.get(issue, 0)) for issue in ISSUES if issue != "label_issue"},
        **sections,
        "inspector_seconds": timings,
    }
    if scan_facts:
        summary["scan"] = scan_facts
    return found, summary


def write_findings(found: pd.DataFrame, folder) -> Path:
    return write_sheet(found[FINDING_COLUMNS], Path(folder) / "findings.csv")


def read_findings(path) -> pd.DataFrame:
    return read_sheet(path, dtype={"path": "string", "issue": "string", "group": "string", "detail": "string"})


def write_reports(folder, found: pd.DataFrame, summary: dict, config: Config) -> list[Path]:
    folder = Path(folder)
    paths = [write_findings(found, folder)]
    atomic_write_text(folder / "summary.json", json.dumps(summary, indent=2, default=str))
    atomic_write_text(folder / CONFIG_FILE, json.dumps(config_to_dict(config), indent=2))
    return paths + [folder / "summary.json", folder / CONFIG_FILE]


def read_summary(folder) -> dict:
    return json.loads((Path(folder) / "summary.json").read_text())


SCAN_JOBS_KEPT = 10  # a scan's job folder holds only its status: the last few tell how recent scans went


def scan_and_inspect(listing, config: Config, workspace, out=None, progress=None, on_wait=None, against=None,
                     retry_failed=False, executor=None):
    """What `inspectors scan` and the app's Scan button do: scan, run every inspector, write the four
    report files to the workspace (and to `out`). Returns (scan result, findings, summary, written).
    With a workspace, the scan's status goes to <workspace>/jobs/<stamp>-scan/status.json (jobs.py).
    retry_failed: read again the files whose cached row says they failed (scan.scan). executor: who reads the
    files (scan.scan; cluster.Executor for --cluster); the inspectors run here either way."""
    if out:  # checked first: a long scan must not end in this refusal
        ensure_outside(Path(out), listing.root, "--out", "--out")
    status = None
    if workspace is not None:
        ensure_outside(Path(workspace), listing.root)  # before writing anything there
        jobs.prune(workspace, "scan", SCAN_JOBS_KEPT - 1)
        status = jobs.Status(jobs.new_folder(Path(workspace) / jobs.JOBS, "scan"), "scan", phase="scan")

    def scanned(done, total):
        if status is not None:
            status.progress("scan", done, total)
        if progress:
            progress(done, total)

    def waiting():
        if status is not None:
            status.progress("waiting", 0, 0, "waiting for another scan of this dataset to finish")
        if on_wait:
            on_wait()
    try:
        result = scan(listing, config.scan, workspace, progress=scanned, on_wait=waiting, retry_failed=retry_failed,
                      executor=executor)
        if status is not None:
            status.progress("inspect", 0, len(INSPECTORS), "")
        facts = report.scan_facts(result.samples, result.seconds, result.decoded, result.cached, result.pruned)
        found, summary = run(result.samples, config, facts, against)
        summary["warnings"] = list(listing.warnings)  # what the listing skipped or doubted: the app shows them
        folders = [p for p in (workspace, out) if p]
        written, encoded = [], samples_bytes(result.samples) if folders else None
        for folder in folders:
            written.append(write_samples(result.samples, folder, encoded))
            written += write_reports(folder, found, summary, config)
        if workspace is not None and duplicates.judged_already(duplicates.pictures(result.samples, config.duplicates),
                                                               config.duplicates):
            # the app's chart of where the line is: the inspector's own pairs, kept, rather than judged again
            written.append(pair_distances.write(pair_distances.pair_distances(result.samples, config.duplicates),
                                                workspace))
    except Exception as exc:
        if status is not None:
            status.finish("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    except BaseException:  # Ctrl-C, or a page's rerun stopping the app's scan
        if status is not None:
            status.finish("stopped", "interrupted: finished files are cached; scan again to resume")
        raise
    if status is not None:
        status.finish("finished", result={"files": facts["files"], "images": facts["images"],
                                          "read_this_scan": facts["read_this_scan"],
                                          "findings": int(len(found)), "workspace": str(workspace)})
    return result, found, summary, written
