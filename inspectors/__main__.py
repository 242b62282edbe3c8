"""python -m inspectors scan DATASET ... | cache info|clear

Report on stdout, progress bar on stderr (only on a terminal, or with --progress). Exit codes in EXIT_CODES.
Names from the dataset reach the terminal escaped (report.printable); --json and the CSVs keep them exact.
"""

import argparse
import dataclasses
import json
import sys

from . import report, review, scan_cache, storage, workspace
from .cluster import ClusterError  # stdlib only at import: dask loads with --cluster
from .config import SECTION_TYPES, Config, load_config_file
from .dataset import DatasetError, load_dataset, source
from .report import printable
from .run import read_findings, scan_and_inspect
from .scan import scan
from .schema import ISSUES

DESCRIPTION = """Scan an image-classification dataset once: one row per file (hashes, size, format, mode,
decode errors, perceptual hashes, brightness/contrast/sharpness/entropy, a small appearance vector) and
a thumbnail per image. Results go to a workspace outside the dataset (see --cache); the dataset itself
is only ever read.

DATASET is a folder with a folder per class, optionally under train/ val/ test/ (valid/ validation/
dev/ mean val), or a CSV manifest with a header naming path,label[,split] (or a folder holding one).
DATASET may be a URL in object storage (s3://bucket/prefix, gs://, az://, file://; see the README's "Data in
object storage"): only listed and read, never written to.
"""
EXIT_FAIL_ON, EXIT_USAGE, EXIT_REVIEW_DAMAGED, EXIT_NO_SPACE, EXIT_INTERRUPTED = 1, 2, 3, 4, 130
EXIT_CODES = f"""exit codes:
  0    done
  {EXIT_FAIL_ON}    --fail-on matched
  {EXIT_USAGE}    usage error, or nothing to scan
  {EXIT_REVIEW_DAMAGED}    --fail-on cannot read the review marks: the workspace's review.sqlite is damaged
       (it is left exactly as it is)
  {EXIT_NO_SPACE}    no space left on the disk holding the workspace or --out (what was written stays valid)
  {EXIT_INTERRUPTED}  interrupted (what finished is cached; run again to resume)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m inspectors", description=DESCRIPTION, epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    s = sub.add_parser("scan", help="scan a dataset and write samples.parquet", epilog=EXIT_CODES,
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("dataset", metavar="DATASET", help="dataset folder, or a .csv manifest")
    add_dataset_args(s)
    s.add_argument("--out", metavar="DIR",
                   help="also write the report files (samples.parquet, findings.csv, summary.json, config.json) here")
    s.add_argument("--against", metavar="OTHER_DATASET",
                   help="also look for copies of our images in another dataset (e.g. a pre-training set); it is "
                        "scanned and cached too, joins as split 'other' and gets no findings of its own")
    s.add_argument("--fail-on", metavar="ISSUE[,ISSUE]",
                   help="exit 1 when findings of these issues exist, except files marked 'keep' in the review "
                        "store and findings already in --baseline ('any' = every issue)")
    s.add_argument("--baseline", metavar="FINDINGS_CSV",
                   help="an earlier findings.csv: --fail-on then fails only on new findings")
    s.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one setting, e.g. --set duplicates.radius=6 --set quality.dark_p99=0.2 "
                        "(sections: " + ", ".join(SECTION_TYPES) + ")")
    s.add_argument("--workers", type=int, metavar="N", help="worker processes (default: one per core)")
    s.add_argument("--cluster", metavar="tcp://HOST:PORT|local:N",
                   help="read the files on a Dask cluster: a running scheduler's address, or local:N to start N "
                        "worker processes here (needs dask and distributed; see the README's \"Beyond one machine\")")
    s.add_argument("--max-pixel-mb", type=float, metavar="MB",
                   help="never decode a file whose header declares more pixel data than this (default 256)")
    s.add_argument("--timeout", type=float, metavar="S",
                   help="per-file time limit in seconds; a slower file is reported, its worker replaced "
                        "(default 30). Files refused under a lower --timeout or --max-pixel-mb are read again")
    s.add_argument("--retry-failed", action="store_true",
                   help="read again every file whose cached row says it failed (e.g. timed out on a busy machine)")
    s.add_argument("--config", metavar="JSON", help="read settings from a config.json written by an earlier scan; "
                   "flags given here override it")
    s.add_argument("--no-cache", action="store_true",
                   help="read every file and write nothing to the workspace (use with --out to keep results)")
    out = s.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the scan facts as JSON instead of the text report")
    out.add_argument("--quiet", action="store_true", help="print nothing but errors")
    s.add_argument("--progress", action="store_true", help="show the progress bar even when stderr is not a terminal")

    c = sub.add_parser("cache", help="show or clear workspaces (scan cache, thumbnails, reports)")
    c.add_argument("action", choices=["info", "clear"])
    c.add_argument("dataset", nargs="?", metavar="DATASET", help="one dataset's workspace (default: all)")
    c.add_argument("--labels", metavar="CSV", help="the manifest the dataset was scanned with, if any")
    c.add_argument("--cache", metavar="DIR", help=f"cache root (default: ${workspace.CACHE_ENV} or ~/.cache)")
    return parser


def add_dataset_args(p) -> None:
    p.add_argument("--labels", metavar="CSV", help="CSV manifest (header path,label[,split]); paths relative to "
                   "the CSV's folder or absolute; DATASET is then the folder they live under")
    p.add_argument("--layout", choices=["auto", "folders", "csv"], help="force the layout (default: auto)")
    p.add_argument("--path-column", help="manifest column holding the path (default: path)")
    p.add_argument("--label-column", help="manifest column holding the label (default: label)")
    p.add_argument("--split-column", help="manifest column holding the split, if any (default: split)")
    p.add_argument("--cache", metavar="DIR",
                   help=f"cache root holding one workspace per dataset (default: ${workspace.CACHE_ENV}, "
                        f"else ~/.cache/image-inspectors)")
    p.add_argument("--storage-options", metavar="JSON",
                   help="fsspec storage options for a URL dataset, e.g. '{\"anon\": true}' or '{\"endpoint_url\": "
                        f"...}}', on top of ${storage.STORAGE_ENV}; credentials otherwise come from the usual "
                        "environment (AWS_ACCESS_KEY_ID, ...). Kept in memory only, never written")


def effective_config(args) -> Config:
    """Defaults, then --config, then the named flags, then each --set."""
    config = load_config_file(args.config) if getattr(args, "config", None) else Config()
    overrides = {"load": {"layout": args.layout, "path_column": args.path_column,
                          "label_column": args.label_column, "split_column": args.split_column},
                 "scan": {"workers": getattr(args, "workers", None),
                          "max_pixel_bytes": int(args.max_pixel_mb * 2**20) if getattr(args, "max_pixel_mb", None)
                          else None,
                          "file_timeout_s": getattr(args, "timeout", None)}}
    for item in getattr(args, "set", []) or []:
        section, name, value = parse_setting(item, config)
        overrides.setdefault(section, {})[name] = value
    for section, values in overrides.items():
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            config = dataclasses.replace(config, **{section: dataclasses.replace(getattr(config, section), **values)})
    return config


# what a --set value must be, by the type of the setting's default
SETTING_TYPES = {bool: ((bool,), "true or false"), int: ((int,), "a whole number"),
                 float: ((int, float), "a number"), tuple: ((list,), 'a JSON list, e.g. [".jpg", ".png"]')}


def parse_setting(item: str, config: Config) -> tuple[str, str, object]:
    """(section, name, value) of one `--set SECTION.KEY=VALUE`; a ValueError that says what is wrong."""
    key, equals, text = item.partition("=")
    section, dot, name = key.partition(".")
    if not equals or not dot or not text.strip():
        raise ValueError(f"--set {item}: expected SECTION.KEY=VALUE, e.g. --set duplicates.radius=6")
    if section not in SECTION_TYPES or name not in {f.name for f in dataclasses.fields(SECTION_TYPES[section])}:
        raise ValueError(f"--set {item}: no such setting (see config.json for the names)")
    current = getattr(getattr(config, section), name)
    if isinstance(current, str):
        return section, name, text
    accepted, wanted = SETTING_TYPES[type(current)]
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted):
        raise ValueError(f"--set {item}: {section}.{name} takes {wanted}, not {text!r}")
    return section, name, type(current)(value)


def progress_bar(enabled: bool):
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm
    bar = tqdm(total=0, unit="img", file=sys.stderr, dynamic_ncols=True, desc="scan")

    def update(done, total):
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()
    return update, bar.close


def say(text="", **kwargs) -> None:
    """Print a human-readable line: names from the dataset escaped (report.printable), never raw."""
    print(printable(text, keep="\n"), **kwargs)


def cmd_scan(args) -> int:
    config = effective_config(args)
    fail_on = parse_issues(args.fail_on)
    show = not args.quiet and not args.json and (args.progress or sys.stderr.isatty())
    options = storage.storage_options(args.storage_options)
    if args.cluster:
        from . import cluster  # dask is imported only when asked for
        cluster.parse(args.cluster)  # a typo is a usage error before any listing
        with cluster.connect(args.cluster) as client:
            return scan_command(args, config, fail_on, show, options, cluster.Executor(client))
    return scan_command(args, config, fail_on, show, options)


def scan_command(args, config, fail_on, show, options, executor=None) -> int:
    def wait_message():
        if not args.quiet:
            print("waiting for another scan of this dataset to finish...", file=sys.stderr)

    def cached(path, labels):
        listing = load_dataset(path, labels, config.load, options)
        return listing, None if args.no_cache else workspace.workspace_dir(listing.root, listing.labels_csv,
                                                                           args.cache)
    listing, ws = cached(args.dataset, args.labels)
    if fail_on and ws is not None and review.damage(ws):  # say so now, not after a long scan
        raise review.ReviewStoreDamaged(ws / review.REVIEW_FILE, review.damage(ws))
    update, close = progress_bar(show)
    try:
        against = None
        if args.against:
            other, other_ws = cached(args.against, None)
            against = scan(other, config.scan, other_ws, progress=update, on_wait=wait_message,
                           retry_failed=args.retry_failed, executor=executor).samples
        result, found, summary, written = scan_and_inspect(listing, config, ws, args.out, update, wait_message,
                                                           against, args.retry_failed, executor)
    except KeyboardInterrupt:
        close()  # the bar goes before the message (closing twice is harmless)
        print("\ninterrupted: finished files are cached; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        close()
    if args.json:
        print(json.dumps({"dataset": str(listing.root), "layout": listing.layout, "workspace": str(ws) if ws else None,
                          **summary, "warnings": listing.warnings}, indent=2, default=str))
    elif not args.quiet:
        named = storage.public_url(args.dataset) if storage.is_url(args.dataset) else args.dataset
        say(report.scan_text(summary["scan"], named, listing.layout, report.problem_rows(result.samples),
                             listing.warnings, []))
        say()
        say(report.findings_text(found, summary))
        say("\nWrote:\n" + "\n".join(f"  {printable(p)}" for p in written))
    if fail_on:
        failing = gate(found, fail_on, ws, args.baseline)
        if len(failing):
            if not args.json and not args.quiet:
                say(f"\n--fail-on: {len(failing):,} finding(s) of {', '.join(sorted(set(failing['issue'])))} "
                    f"are new and not marked keep")
            return EXIT_FAIL_ON
    return 0


def parse_issues(text):
    if not text:
        return []
    issues = [t.strip() for t in text.split(",") if t.strip()]
    if issues == ["any"]:
        return list(ISSUES)
    unknown = [i for i in issues if i not in ISSUES]
    if unknown:
        raise ValueError(f"--fail-on: unknown issue(s) {unknown}; known: {', '.join(ISSUES)}")
    return issues


def gate(found, issues, ws, baseline):
    """The findings that should fail a CI run: of these issues, not marked keep, not in the baseline."""
    failing = found[found["issue"].isin(issues)]
    if ws is not None:
        marks = review.marks(ws)
        kept = set(marks.loc[marks["decision"] == "keep", "path"])
        failing = failing[~failing["path"].isin(kept)]
    if baseline:
        old = read_findings(baseline)
        known = set(zip(old["path"], old["issue"], strict=True))
        failing = failing[[(p, i) not in known for p, i in zip(failing["path"], failing["issue"], strict=True)]]
    return failing


def cmd_cache(args) -> int:
    """Only folders that are workspaces (workspace.is_workspace) are listed or removed: anything else kept
    under the cache root is left as it is, and said so."""
    if args.dataset:
        # the workspace `scan` keys it by: a folder holding its own manifest is keyed by that manifest too
        target = workspace.workspace_dir(*source(args.dataset, args.labels), args.cache)
        found = [target] if workspace.is_workspace(target) else []
        others = [target] if target.exists() and not found else []
    else:
        found, others = workspace.list_workspaces(args.cache)
    if args.action == "info":
        say(f"cache root: {workspace.cache_root(args.cache)}")
        if not found:
            say(f"  no workspace for {args.dataset} (not scanned with a cache yet)" if args.dataset
                else "  no workspaces")
        for t in found:
            info = scan_cache.cache_info(t)
            dataset = workspace.workspace_dataset(t)
            cache = f"scan cache unreadable ({info['unreadable']})" if "unreadable" in info else \
                f"{info.get('files', 0):,} cached files, {info.get('thumbnails', 0):,} thumbnails"
            say(f"  {printable(t.name)}: {'dataset ' + printable(dataset) + ', ' if dataset else ''}{cache}, "
                f"{workspace.folder_size(t) / 2**20:,.1f} MB, last scan {info.get('last_scan', 'never')}")
    else:
        for t in found:
            workspace.remove_workspace(t)
            say(f"removed {t}")
    if others:
        say(f"left alone: {len(others)} folder(s) that are not workspaces (they hold other files): "
            + ", ".join(printable(t.name) for t in others[:10]) + (" ..." if len(others) > 10 else ""))
    return EXIT_USAGE if args.dataset and others and args.action == "clear" else 0


def error(exc) -> None:
    print(printable(f"error: {exc}", keep="\n"), file=sys.stderr)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return cmd_scan(args) if args.command == "scan" else cmd_cache(args)
    except review.ReviewStoreDamaged as exc:
        error(exc)
        return EXIT_REVIEW_DAMAGED
    except workspace.NoSpaceError as exc:
        error(exc)
        return EXIT_NO_SPACE
    except (DatasetError, ClusterError) as exc:
        error(exc)
        return EXIT_USAGE
    except (ValueError, OSError) as exc:  # a bad --config/--set/--baseline, a workspace inside the dataset
        error(exc)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
