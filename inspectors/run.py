"""samples -> every registered inspector -> findings + summary (+ the config that produced them)."""

import io
import json
import time
from pathlib import Path

import pandas as pd

from . import balance, duplicates, integrity, outliers, quality, report, sizes
from . import findings as F
from .config import Config, config_to_dict
from .scan import scan, write_samples
from .schema import FINDING_COLUMNS, ISSUES, SCORE_DIRECTION, neutralise, unneutralise  # noqa: F401 (re-exported)
from .workspace import atomic_write_bytes, atomic_write_text


def _registry(*entries) -> dict:
    registry = {}
    for name, module in entries:
        if name in registry:
            raise ValueError(f"inspector {name!r} is registered twice")
        registry[name] = module
    return registry


# The registry run() walks: one module per inspector, each with `inspect(samples, config) -> findings` and
# optionally `summarize(samples, findings, config) -> dict`. A new inspector is one module plus one line here;
# its config section in config.Config has its name.
INSPECTORS = _registry(
    ("integrity", integrity),
    ("duplicates", duplicates),
    ("balance", balance),
    ("sizes", sizes),
    ("quality", quality),
    ("outliers", outliers),
)

OTHER_SPLIT = "other"
OTHER_PREFIX = "other:"  # paths of the --against dataset, so they never collide with ours


def run(samples: pd.DataFrame, config: Config = Config(), scan_facts: dict | None = None,
        against: pd.DataFrame | None = None):
    """(findings, summary) for the samples table. `against` (another dataset's samples) joins the
    inspectors that compare datasets (CROSS_DATASET = True) as split "other", and gets no findings."""
    frames, timings, sections = [], {}, {}
    combined = samples if against is None else pd.concat(
        [samples, against.assign(split=OTHER_SPLIT, path=OTHER_PREFIX + against["path"])], ignore_index=True)
    for name, module in INSPECTORS.items():
        options = (getattr(config, name),) if hasattr(config, name) else ()  # a config section, if it has one
        table = combined if getattr(module, "CROSS_DATASET", False) else samples
        start = time.perf_counter()
        found = module.inspect(table, *options)
        if hasattr(module, "summarize"):
            sections.update(module.summarize(table, found, *options))
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
    safe = found[FINDING_COLUMNS].copy()
    for col in ("path", "group", "detail"):
        safe[col] = safe[col].map(neutralise)
    buf = io.StringIO()
    safe.to_csv(buf, index=False)
    target = Path(folder) / "findings.csv"
    atomic_write_bytes(target, buf.getvalue().encode("utf-8"))
    return target


def read_findings(path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"path": "string", "issue": "string", "group": "string", "detail": "string"},
                     keep_default_na=False)
    for col in ("path", "group", "detail"):
        df[col] = df[col].map(unneutralise).astype("string")
    return df


def write_reports(folder, found: pd.DataFrame, summary: dict, config: Config) -> list[Path]:
    folder = Path(folder)
    paths = [write_findings(found, folder)]
    atomic_write_text(folder / "summary.json", json.dumps(summary, indent=2, default=str))
    atomic_write_text(folder / "config.json", json.dumps(config_to_dict(config), indent=2))
    return paths + [folder / "summary.json", folder / "config.json"]


def read_summary(folder) -> dict:
    return json.loads((Path(folder) / "summary.json").read_text())


def scan_and_inspect(listing, config: Config, workspace, out=None, progress=None, on_wait=None, against=None):
    """What `inspectors scan` and the app's Scan button do: scan, run every inspector, write the four
    report files to the workspace (and to `out`). Returns (scan result, findings, summary, written)."""
    result = scan(listing, config.scan, workspace, progress=progress, on_wait=on_wait)
    facts = report.scan_facts(result.samples, result.seconds, result.decoded, result.cached, result.pruned)
    found, summary = run(result.samples, config, facts, against)
    written = []
    for folder in [p for p in (workspace, out) if p]:
        written.append(write_samples(result.samples, folder))
        written += write_reports(folder, found, summary, config)
    return result, found, summary, written
