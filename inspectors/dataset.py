"""Files on disk -> the sorted samples listing (path, label, split, entry, ...). Never decodes.

Two layouts: a folder per class (optionally under train/ val/ test/), or a CSV manifest
`path,label[,split]`. Every file we find or a manifest names gets a row; what we will not read as an
image gets a row with the reason, so nothing is silently dropped.
"""

import csv
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import LoadConfig
from .schema import ENTRY_IMAGE, ENTRY_MISSING, ENTRY_UNSUPPORTED, LISTING_COLUMNS, SPLIT_ALIASES
from .storage import is_url


class DatasetError(Exception):
    """The dataset cannot be listed at all (wrong path, unreadable CSV): a message for the user."""


@dataclass
class Listing:
    root: Path  # what `path` is relative to
    labels_csv: Path | None
    layout: str  # "folders" | "csv"
    samples: pd.DataFrame  # path, label, split, entry, orphan, error, bytes, mtime_ns, fs_path[, stamp]
    warnings: list = field(default_factory=list)
    storage: dict | None = None  # fsspec storage options when rows are URLs (storage.py); in memory only


def display_path(name: str) -> str:
    """A file name (as os functions give it: str with surrogate escapes, or bytes) as text, reversibly: bytes
    that are not UTF-8 become `\\xHH` and a backslash becomes `\\\\`, so no two names share a text (a name with
    the byte 0xff and one literally named `\\xff` differ). fs_name undoes it."""
    text = os.fsdecode(name) if isinstance(name, bytes) else name
    if text.isascii() and "\\" not in text:
        return text  # the common case: nothing to escape
    return "".join(_ESCAPES.get(c, c) for c in text)


# a surrogate-escaped byte (U+DC80..U+DCFF, as os.fsdecode makes them) -> \xHH; a backslash -> \\
_ESCAPES = {"\\": "\\\\", **{chr(0xDC00 + b): f"\\x{b:02x}" for b in range(0x80, 0x100)}}
_ESCAPED = re.compile(r"\\(\\|x[89a-f][0-9a-f])")


def fs_name(path: str) -> bytes:
    """A samples `path` (or label) -> the file name's bytes: the inverse of display_path."""
    if "\\" not in path:
        return path.encode("utf-8")
    out, i = bytearray(), 0
    for m in _ESCAPED.finditer(path):
        out += path[i:m.start()].encode("utf-8")
        out += b"\\" if m.group(1) == "\\" else bytes([int(m.group(1)[1:], 16)])
        i = m.end()
    return bytes(out + path[i:].encode("utf-8"))


def source_path(root, path: str) -> Path:
    """The file behind a samples `path` (relative to the root, or absolute for CSV rows outside it). Every
    place that opens a file by its `path` comes here (scan listing aside, which keeps the bytes it found)."""
    name = fs_name(path)
    return Path(os.fsdecode(name if name.startswith(b"/") else os.path.join(os.fsencode(str(root)), name)))


def normalise_split(value: str) -> str:
    value = (value or "").strip().lower()
    return SPLIT_ALIASES.get(value, value)


def load_dataset(dataset, labels=None, config: LoadConfig = LoadConfig(), storage_options=None) -> Listing:
    """storage_options: fsspec's, for a URL dataset or a manifest naming URLs (storage.storage_options)."""
    if is_url(dataset) or is_url(labels):
        from . import remote
        return remote.load_url_dataset(str(dataset), labels and str(labels), config, storage_options or {})
    path = Path(os.path.abspath(os.path.expanduser(str(dataset))))
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    if labels is not None:
        if config.layout == "folders":
            raise DatasetError("--labels gives a CSV manifest, which contradicts --layout folders")
        if not path.is_dir():
            raise DatasetError(f"{path}: with --labels, DATASET must be the folder the paths live under")
    elif path.is_file() and (path.suffix.lower() != ".csv" or config.layout == "folders"):
        raise DatasetError(f"{path}: a file was given; DATASET is a folder or a .csv manifest")
    root, manifest = source(path, labels, config)
    if manifest is not None:
        return _load_csv(root, manifest, config, storage_options or {})
    if config.layout == "csv":
        raise DatasetError(f"{path}: --layout csv needs a manifest; none found at the top of the "
                           f"folder with columns {config.path_column!r} and {config.label_column!r}")
    return _load_folders(root, config)


def source(dataset, labels=None, config: LoadConfig = LoadConfig()) -> tuple[Path, Path | None]:
    """(root, labels CSV or None) as load_dataset reads DATASET [--labels CSV], without listing anything: the
    pair a workspace is keyed by, so that the app and the CLI given the same folder share one workspace. A URL
    dataset's are URLs (storage.public_url: never a secret); its own manifest is found only by listing."""
    if is_url(dataset) or is_url(labels):
        from . import remote
        return remote.source(str(dataset), labels and str(labels))
    dataset = Path(os.path.abspath(os.path.expanduser(str(dataset))))
    if labels is not None:
        return dataset, Path(os.path.abspath(os.path.expanduser(str(labels))))
    if dataset.is_file():
        return dataset.parent, dataset
    if dataset.is_dir() and config.layout != "folders":
        return dataset, _manifest_in(dataset, config)
    return dataset, None


def _manifest_in(folder: Path, config) -> Path | None:
    """The one top-level CSV whose header names the path and label columns, if there is exactly one."""
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.suffix.lower() == ".csv" and entry.is_file() and not entry.name.startswith("."):
            try:
                with open(entry, "rb") as f:
                    head = f.read(MANIFEST_HEADER_BYTES)
            except OSError:
                continue
            if is_manifest_header(head, config):
                found.append(entry)
    return found[0] if len(found) == 1 else None


MANIFEST_HEADER_BYTES = 64 << 10  # what is read of each top-level CSV to see its header: enough for any header


def is_manifest_header(head: bytes, config) -> bool:
    """Whether a CSV starting with `head` is a manifest: its first line names the path and label columns. One
    rule for a folder's CSVs and a bucket prefix's (remote.py reads only this much of each object)."""
    try:
        line = head.partition(b"\n")[0].decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    header = next(csv.reader([line]), [])
    return config.path_column in header and config.label_column in header


def walk(root: Path, warnings: list):
    """Yield (relative parts, fs path, kind, stat or None, reason) for every non-hidden entry,
    following symlinks but never entering the same real folder twice (no loops)."""
    seen = set()
    root_st = os.stat(root)
    seen.add((root_st.st_dev, root_st.st_ino))
    stack = [(str(root), ())]
    while stack:
        folder, parts = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            warnings.append(f"{display_path(folder)}: cannot list folder ({exc.strerror or exc}); skipped")
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = parts + (entry.name,)
            try:
                st = os.stat(entry.path)  # follows symlinks
            except OSError as exc:
                reason = "broken symlink" if entry.is_symlink() else (exc.strerror or str(exc))
                yield rel, entry.path, "other", None, f"cannot read: {reason}"
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    warnings.append(f"{display_path(entry.path)}: symlink back to a folder already listed; "
                                    f"not followed again")
                    continue
                seen.add(key)
                yield rel, entry.path, "dir", st, None
                stack.append((entry.path, rel))
            elif stat.S_ISREG(st.st_mode):
                yield rel, entry.path, "file", st, None
            else:
                kind = "FIFO" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "device"
                yield rel, entry.path, "other", st, f"not a regular file ({kind})"


def _is_image_name(name: str, config) -> bool:
    return os.path.splitext(name)[1].lower() in config.extensions


def _row(path, label, split, entry, fs_path, st=None, error=None, orphan=False) -> dict:
    return {"path": path, "label": label, "split": split, "entry": entry, "orphan": orphan,
            "error": error, "bytes": st.st_size if st else None,
            "mtime_ns": st.st_mtime_ns if st else None, "fs_path": os.fsencode(fs_path)}


def _load_folders(root: Path, config) -> Listing:
    warnings = []
    top = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    split_named = {p.name for p in top if p.name.lower() in SPLIT_ALIASES}
    rows = [row for row, _ in folder_rows(walk(root, warnings), split_named, config)]
    samples = _finish(rows)
    if samples.empty:
        raise DatasetError(f"{root}: no files to scan (expected a folder per class, optionally under "
                           f"train/ val/ test/, or a CSV manifest)")
    return Listing(root, None, "folders", samples, warnings)


def folder_rows(entries, split_named, config):
    """(row, its st) for each entry of a folder layout that gets a row. entries: walk's tuples (relative parts,
    fs path, kind, st, reason), where st is an os.stat_result or anything with st_size and st_mtime_ns
    (storage.ObjectStat); split_named: the top-level folder names that are splits (anything with `in`)."""
    for rel, fs_path, kind, st, reason in entries:
        if rel[0] in split_named:
            split, class_parts = normalise_split(rel[0]), rel[1:]
        else:
            split, class_parts = "", rel
        in_class = len(class_parts) >= 2  # a file below a class folder, at any depth
        label = display_path(class_parts[0]) if in_class else ""
        path = display_path("/".join(rel))
        name = rel[-1]
        if kind == "file" and _is_image_name(name, config):
            yield _row(path, label, split, ENTRY_IMAGE, fs_path, st), st
        elif kind == "dir":
            if _is_image_name(name, config) and len(class_parts) >= 2:
                why = "a folder named like an image file"
                yield _row(path, label, split, ENTRY_UNSUPPORTED, fs_path, None, why), st
        elif in_class:
            why = reason or f"{os.path.splitext(name)[1] or 'no extension'}: not an image extension we read"
            yield _row(path, label, split, ENTRY_UNSUPPORTED, fs_path, st if kind == "file" else None, why), st


def _load_csv(root: Path, manifest: Path, config, storage_options=None) -> Listing:
    warnings, urls = [], False
    rows_in = _read_manifest(manifest, config)
    base = manifest.parent
    named, rows = {}, []
    for line, raw_path, label, split in rows_in:
        raw_path = raw_path.strip()
        if not raw_path:
            warnings.append(f"{manifest.name} line {line}: empty path; row skipped")
            continue
        if is_url(raw_path):  # an object named by its URL: absolute, like a path outside the root
            from . import remote
            urls = True
            rows.append(remote.url_row(raw_path, label, normalise_split(split), config, storage_options))
            continue
        fs_path = os.path.normpath(raw_path if os.path.isabs(raw_path) else os.path.join(base, raw_path))
        if base != root and not os.path.lexists(fs_path) and not os.path.isabs(raw_path):
            # a manifest kept outside the dataset (e.g. the app's cleaned manifest in the workspace)
            # names paths relative to DATASET
            in_root = os.path.normpath(os.path.join(root, raw_path))
            fs_path = in_root if os.path.lexists(in_root) else fs_path
        rel = os.path.relpath(fs_path, root)
        path = display_path(Path(fs_path).as_posix() if rel.startswith("..") else Path(rel).as_posix())
        if fs_path in named:
            first_line, first_label = named[fs_path]
            same = "same label" if first_label == label else f"label {label!r} vs {first_label!r}"
            warnings.append(f"{manifest.name} line {line}: {path} repeats line {first_line} ({same}); kept the first")
            continue
        named[fs_path] = (line, label)
        rows.append(_csv_row(path, label, normalise_split(split), fs_path, config))
    for rel, fs_path, kind, st, _ in walk(root, warnings):
        if kind == "file" and _is_image_name(rel[-1], config) and os.path.normpath(fs_path) not in named:
            rows.append(_row(display_path("/".join(rel)), "", "", ENTRY_IMAGE, fs_path, st, orphan=True))
    samples = _finish(rows, ("stamp",) if urls else ())
    if samples.empty:
        raise DatasetError(f"{manifest}: the manifest has no rows and no images lie under {root}")
    return Listing(root, manifest, "csv", samples, warnings, storage_options if urls else None)


def _csv_row(path, label, split, fs_path, config) -> dict:
    try:
        st = os.stat(fs_path)
    except FileNotFoundError:
        return _row(path, label, split, ENTRY_MISSING, fs_path, None, "FileNotFoundError: the manifest names it, "
                    "but no such file exists")
    except OSError as exc:
        return _row(path, label, split, ENTRY_MISSING, fs_path, None, f"{type(exc).__name__}: {exc.strerror or exc}")
    if stat.S_ISDIR(st.st_mode):
        return _row(path, label, split, ENTRY_UNSUPPORTED, fs_path, None, "a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        return _row(path, label, split, ENTRY_UNSUPPORTED, fs_path, None, "not a regular file")
    if not _is_image_name(fs_path, config):
        ext = os.path.splitext(fs_path)[1] or "no extension"
        return _row(path, label, split, ENTRY_UNSUPPORTED, fs_path, st, f"{ext}: not an image extension we read")
    return _row(path, label, split, ENTRY_IMAGE, fs_path, st)


def _read_manifest(manifest, config, open_text=None):
    """(line number, path, label, split) for each data row; a clear DatasetError when unreadable. `open_text`:
    how to open a manifest that is not a local file (an object's text)."""
    try:
        with (open_text() if open_text else open(manifest, newline="", encoding="utf-8-sig")) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header:
                raise DatasetError(f"{manifest}: empty file; a header row naming the columns is required")
            header = [h.strip() for h in header]
            missing = [c for c in (config.path_column, config.label_column) if c not in header]
            if missing:
                raise DatasetError(f"{manifest}: the header {header} lacks {missing}; a header row is required "
                                   f"(rename with --path-column / --label-column)")
            ip, il = header.index(config.path_column), header.index(config.label_column)
            isplit = header.index(config.split_column) if config.split_column in header else None
            out = []
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                values = values + [""] * (len(header) - len(values))
                # exactly as written: a path or label may start with a quote ('=a.png); spreadsheet-safe
                # quoting belongs to exports meant for people, never to a manifest the tools read
                split = values[isplit] if isplit is not None else ""
                out.append((reader.line_num, values[ip], values[il].strip(), split))
            return out
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{manifest}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise DatasetError(f"{manifest}: not a readable CSV ({exc})") from None
    except OSError as exc:
        raise DatasetError(f"{manifest}: cannot read ({exc.strerror or exc})") from None


def _finish(rows, extra=()) -> pd.DataFrame:
    """`extra`: ("stamp",) for objects, whose version the scan cache keys on instead of mtime_ns."""
    df = pd.DataFrame(rows, columns=LISTING_COLUMNS + ["error", "bytes", "mtime_ns", "fs_path", *extra])
    df = df.drop_duplicates("path", keep="first").sort_values("path", kind="stable").reset_index(drop=True)
    df["orphan"] = df["orphan"].astype(bool)
    df["bytes"] = df["bytes"].astype("Int64")
    for column in ("mtime_ns", *extra):
        df[column] = df[column].astype("Int64")
    return df
