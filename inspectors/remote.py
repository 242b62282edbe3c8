"""A dataset in object storage -> the Listing dataset.py makes of a local folder: the same layouts (a folder per
class, optionally under train/ val/ test/; a CSV manifest), the same rows, `path` relative to the URL root.

Objects have no folders: a "folder" is a key prefix, so a split folder is the first part of a deeper key, and
what a local walk reports about folders (one named like an image, a symlink loop) has no counterpart here. Each
row keeps the object's storage.ObjectStat: the scan cache keys on (path, size, ETag or last-modified).
"""

import io
import os
import posixpath

from . import dataset as disk  # its folder_rows: remote.folder_rows has the same job for keys
from .dataset import (
    MANIFEST_HEADER_BYTES,
    DatasetError,
    Listing,
    _finish,
    _is_image_name,
    _read_manifest,
    _row,
    is_manifest_header,
    normalise_split,
)
from .features import error_text
from .schema import ENTRY_IMAGE, ENTRY_MISSING, ENTRY_UNSUPPORTED, LISTING_COLUMNS, SPLIT_ALIASES
from .storage import filesystem, is_url, iter_objects, object_stat, public_url, relative_parts, with_retries

ROW_COLUMNS = LISTING_COLUMNS + ["error", "bytes", "mtime_ns", "fs_path", "stamp"]


def source(dataset: str, labels: str | None = None) -> tuple[str, str | None]:
    """(root URL, manifest URL or local path, or None) that a URL dataset's workspace is keyed by: what was
    typed, never a secret. A manifest found inside the prefix is not part of the key (finding it takes a
    listing), so the app and the CLI agree without listing anything."""
    url = public_url(dataset)
    if labels:
        return url, public_url(labels) if is_url(labels) else os.path.abspath(os.path.expanduser(labels))
    if url.lower().endswith(".csv"):
        return posixpath.dirname(url), url
    return url, None


def load_url_dataset(dataset: str, labels: str | None, config, options: dict) -> Listing:
    url = public_url(dataset)
    if not is_url(dataset):
        raise DatasetError(f"--labels {public_url(labels)} is a URL: DATASET must then be the URL (prefix) its "
                           f"paths are relative to, not {dataset}")
    try:
        fs, root = filesystem(dataset, options)
        if labels or (url.lower().endswith(".csv") and config.layout != "folders"):
            if labels and config.layout == "folders":
                raise DatasetError("--labels gives a CSV manifest, which contradicts --layout folders")
            manifest = labels or dataset
            if not labels:
                root, url = posixpath.dirname(root), posixpath.dirname(url)
            return _load_csv(fs, url, root, manifest, config, options, labels_key=source(dataset, labels)[1])
        manifest = _manifest_in(fs, root, config) if config.layout != "folders" else None
        if manifest is not None:
            return _load_csv(fs, url, root, fs.unstrip_protocol(manifest), config, options, labels_key=None)
        if config.layout == "csv":
            raise DatasetError(f"{url}: --layout csv needs a manifest; none found at the top of the prefix with "
                               f"columns {config.path_column!r} and {config.label_column!r}")
        return _load_folders(fs, url, root, config, options)
    except DatasetError:
        raise
    except Exception as exc:  # no such bucket, access denied, no credentials, a bad storage option
        raise DatasetError(f"{url}: cannot list it ({error_text(exc)})") from None


class SplitNames:
    """Which first parts of a key are split "folders": a listing of keys has no folder list to pick them from."""

    def __contains__(self, name: str) -> bool:
        return name.lower() in SPLIT_ALIASES


def folder_rows(fs, root: str, config):
    """Row tuples (ROW_COLUMNS) of a folder layout, streamed from the listing: memory is one page of keys."""
    scheme = url_prefix(fs, root)

    def entries():
        for name, info in iter_objects(fs, root):
            rel = relative_parts(name, root)
            if rel is not None:
                kind = "dir" if info.get("type") == "directory" else "file"
                yield rel, scheme + name, kind, object_stat(info), None
    for row, stat in disk.folder_rows(entries(), SplitNames(), config):
        row["stamp"] = stat.stamp
        yield tuple(map(row.get, ROW_COLUMNS))


def url_prefix(fs, root: str) -> str:
    """What turns a name below root into its URL ("s3://"): fs.unstrip_protocol once, not once an object."""
    url = fs.unstrip_protocol(root)
    return url[:len(url) - len(root)]


def _load_folders(fs, url, root, config, options) -> Listing:
    samples = _finish(list(folder_rows(fs, root, config)), ("stamp",))
    if samples.empty:
        raise DatasetError(f"{url}: no objects to scan (expected a prefix per class, optionally under "
                           f"train/ val/ test/, or a CSV manifest)")
    return Listing(url, None, "folders", samples, [], options)


def _manifest_in(fs, root: str, config) -> str | None:
    """The one top-level CSV object whose header names the path and label columns, if there is exactly one."""
    found = []
    for info in sorted(fs.ls(root, detail=True), key=lambda i: i["name"]):
        name = info["name"].rstrip("/")
        base = posixpath.basename(name)
        if info.get("type") == "directory" or not base.lower().endswith(".csv") or base.startswith("."):
            continue
        try:
            head = with_retries(lambda n=name: fs.cat_file(n, start=0, end=MANIFEST_HEADER_BYTES))
        except OSError:
            continue
        if is_manifest_header(head, config):
            found.append(name)
    return found[0] if len(found) == 1 else None


def _manifest_text(manifest: str, options: dict):
    """How _read_manifest opens a manifest object (one GET) or a local file."""
    if not is_url(manifest):
        return None
    fs, path = filesystem(manifest, options)
    data = with_retries(lambda: fs.cat_file(path))
    return lambda: io.StringIO(data.decode("utf-8-sig"), newline="")


def _load_csv(fs, url, root, manifest, config, options, labels_key) -> Listing:
    name = public_url(manifest) if is_url(manifest) else manifest
    rows_in = _read_manifest(name, config, _manifest_text(manifest, options))
    objects = {}
    for key, info in iter_objects(fs, root):
        if relative_parts(key, root) is not None and info.get("type") != "directory":
            objects[key] = object_stat(info)
    # relative paths: to the manifest's prefix when it lies in this store, else (a local --labels) to the root
    base = posixpath.dirname(fs._strip_protocol(manifest)) if is_url(manifest) else root
    warnings, named, rows = [], set(), []
    for line, raw_path, label, split in rows_in:
        raw_path = raw_path.strip()
        if not raw_path:
            warnings.append(f"{posixpath.basename(name)} line {line}: empty path; row skipped")
            continue
        if is_url(raw_path) and not public_url(raw_path).startswith(url + "/"):
            rows.append(url_row(raw_path, label, normalise_split(split), config, options))
            continue
        key = fs._strip_protocol(raw_path) if is_url(raw_path) else posixpath.normpath(posixpath.join(base, raw_path))
        if key in named:
            warnings.append(f"{posixpath.basename(name)} line {line}: {raw_path} is named again; kept the first")
            continue
        named.add(key)
        inside = key.startswith(root + "/")
        path = key[len(root) + 1:] if inside else fs.unstrip_protocol(key)
        rows.append(_object_row(path, label, normalise_split(split), fs.unstrip_protocol(key), objects.get(key),
                                config))
    for key, stat in objects.items():
        if key not in named and _is_image_name(key, config):
            rows.append(_stamped(_row(key[len(root) + 1:], "", "", ENTRY_IMAGE, fs.unstrip_protocol(key), stat,
                                      orphan=True), stat))
    samples = _finish(rows, ("stamp",))
    if samples.empty:
        raise DatasetError(f"{name}: the manifest has no rows and no objects lie under {url}")
    return Listing(url, labels_key, "csv", samples, warnings, options)


def _stamped(row: dict, stat) -> dict:
    """A dataset._row with the object's version beside it (the scan cache's key in place of mtime_ns)."""
    row["stamp"] = stat.stamp if stat is not None else None
    return row


def _object_row(path, label, split, object_url, stat, config) -> dict:
    if stat is None:
        return _stamped(_row(path, label, split, ENTRY_MISSING, object_url, None,
                             "FileNotFoundError: the manifest names it, but no such object exists"), None)
    if not _is_image_name(path, config):
        ext = posixpath.splitext(path)[1] or "no extension"
        return _stamped(_row(path, label, split, ENTRY_UNSUPPORTED, object_url, stat,
                             f"{ext}: not an image extension we read"), stat)
    return _stamped(_row(path, label, split, ENTRY_IMAGE, object_url, stat), stat)


WEB_SCHEMES = {"http", "https", "ftp", "ftps", "sftp", "ssh", "webdav", "webhdfs"}


def url_row(raw_url: str, label: str, split: str, config, options: dict) -> dict:
    """The row of a manifest line naming an object by its URL, outside any listed root: one HEAD request."""
    path = public_url(raw_url)
    scheme = raw_url.partition("://")[0].lower()
    if scheme in WEB_SCHEMES:  # a manifest is data: it must not make the scan call any host it names
        return _stamped(_row(path, label, split, ENTRY_MISSING, raw_url, None,
                             f"not read: a web address ({scheme}://); rows may name objects in storage "
                             "(s3://, gs://, az://, file://), not web pages"), None)
    try:
        fs, key = filesystem(raw_url, options)
        info = with_retries(lambda: fs.info(key))
    except FileNotFoundError:
        return _object_row(path, label, split, raw_url, None, config)
    except Exception as exc:  # a refusal, a bad URL: the row says why, the listing goes on
        return _stamped(_row(path, label, split, ENTRY_MISSING, raw_url, None, error_text(exc)), None)
    if info.get("type") == "directory":
        return _stamped(_row(path, label, split, ENTRY_UNSUPPORTED, raw_url, None, "a folder (prefix), not an object"),
                        None)
    return _object_row(path, label, split, raw_url, object_stat(info), config)
