"""Datasets in object storage (s3://, gs://, az://, file:// ...) through fsspec: URLs, options, listing, reading.

Read-only by construction: this module only ever lists (ls / list_objects_v2), asks about (info / HEAD) and reads
(cat_file / GET, ranged for headers) objects; nothing here can write, delete or start an upload.

Credentials and endpoints come from the environment the backend already reads (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, GOOGLE_APPLICATION_CREDENTIALS, ...), from $INSPECTORS_STORAGE_OPTIONS
and from --storage-options (JSON objects of fsspec storage options, e.g. {"anon": true}). They live in memory
only: a workspace is keyed by public_url (no user info, no query string such as a SAS token), config.json holds
no storage options, and worker processes get them through their pipe and build their own filesystem
(`filesystem`, cached per process): a filesystem object with open sessions is never pickled.

fsspec itself is imported only when a URL is met, so a local scan's workers never load it.
"""

import functools
import io
import json
import os
import posixpath
import re
import time
from datetime import datetime
from typing import NamedTuple

import xxhash

STORAGE_ENV = "INSPECTORS_STORAGE_OPTIONS"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_URL_PARTS = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<netloc>[^/?#]*)(?P<path>[^?#]*)")
LIST_PAGE = 1000  # objects handed over from s3fs' event loop at a time (S3's own page is 1,000 keys)
HEADER_BYTES = 1 << 20  # a ranged read of this much decides whether a big object is an image at all
READ_CONCURRENCY = 8  # requests in flight per worker process: enough to hide a network's latency, not a flood
READ_SHARE = 0.8  # of the per-file --timeout, for a whole chunk's reads: they end before the pool's own limit
READ_ATTEMPTS = 3  # s3fs retries throttling itself (5 tries, backoff): these are on top, for any backend
BACKOFF_S = 0.5
# max_concurrency: s3fs would otherwise ask each object's size with a HEAD before reading it whole (to split big
# ones into parallel ranges), two requests a file; our images are small and the listing knows their size.
# use_listings_cache: a long-lived app process would otherwise keep seeing a prefix as it first listed it.
PROTOCOL_DEFAULTS = {"s3": {"max_concurrency": 1, "use_listings_cache": False}}


class ObjectStat(NamedTuple):
    """What the listing keeps of an object, in os.stat_result's names so dataset.py rows take either."""
    st_size: int
    st_mtime_ns: int | None
    stamp: int  # 63 bits of the ETag (else last-modified): the scan cache's version of the object


def is_url(text) -> bool:
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    return isinstance(text, str) and bool(_URL.match(text))


def public_url(url: str) -> str:
    """The URL without what may be a secret (user:password@, a query string such as an Azure SAS token, a
    fragment) and without a trailing slash: what a workspace is keyed by and what messages name."""
    parts = _URL_PARTS.match(url)
    if parts is None:
        return url
    host = parts["netloc"].rpartition("@")[2]
    return f"{parts['scheme']}://{host}{parts['path'].rstrip('/')}"


def join_url(root: str, path: str) -> str:
    """A samples `path` -> the object's URL: relative to a URL root, or a URL already (a manifest's row)."""
    return path if is_url(path) else posixpath.join(str(root).rstrip("/"), path)


def storage_options(text: str | None = None) -> dict:
    """$INSPECTORS_STORAGE_OPTIONS, then --storage-options on top. A ValueError never quotes the text: it may
    hold a secret."""
    options = {}
    for where, raw in ((STORAGE_ENV, os.environ.get(STORAGE_ENV)), ("--storage-options", text)):
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not valid JSON ({exc.msg} at character {exc.pos})") from None
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a JSON object of fsspec storage options, e.g. {{\"anon\": true}}")
        options.update(value)
    return options


@functools.lru_cache(maxsize=16)
def _filesystem(protocol: str, kwargs_json: str):
    import fsspec
    return fsspec.filesystem(protocol, **json.loads(kwargs_json))


def filesystem(url: str, options: dict | None = None):
    """(fsspec filesystem, path as the filesystem names it) of a URL; one filesystem per protocol and options
    in each process. What the URL itself says (an Azure account in abfs://container@account...) counts too."""
    import fsspec
    protocol = url.partition("://")[0].lower()
    cls = fsspec.get_filesystem_class(protocol)
    kwargs = {**PROTOCOL_DEFAULTS.get(protocol, {}), **cls._get_kwargs_from_urls(url), **(options or {})}
    fs = _filesystem(protocol, json.dumps(kwargs, sort_keys=True, default=str))
    return fs, fs._strip_protocol(url).rstrip("/")


# ---------------------------------------------------------------- listing


def object_stamp(info: dict) -> int:
    """63 bits naming this version of the object: its ETag (S3, GCS, Azure), else its last-modified time. A
    rewritten object gets another stamp even at the same size; the scan cache then reads it again."""
    for key in ("ETag", "etag", "e_tag", "md5Hash", "generation", "LastModified", "last_modified", "updated",
                "mtime", "created"):
        if info.get(key) not in (None, ""):
            return xxhash.xxh3_64_intdigest(f"{key}={info[key]}".encode()) & (2**63 - 1)
    return 0


def object_mtime_ns(info: dict) -> int | None:
    for key in ("LastModified", "last_modified", "updated", "mtime", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return int(value.timestamp() * 1e9)
        if isinstance(value, (int, float)):
            return int(value * 1e9)
        try:
            return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1e9)
        except ValueError:
            continue
    return None


def object_stat(info: dict) -> ObjectStat:
    return ObjectStat(int(info.get("size") or 0), object_mtime_ns(info), object_stamp(info))


def iter_objects(fs, root: str):
    """(name, info) of every object below root, and of every folder where the store has folders, streamed: S3 a
    page of keys at a time (list_objects_v2 with no delimiter), other filesystems a folder at a time. Memory
    stays that of one page or folder, whatever the count; the order is the backend's (the listing sorts rows)."""
    if hasattr(fs, "_iterdir") and hasattr(fs, "split_path"):  # s3fs
        yield from _s3_objects(fs, root)
        return
    folders = [root]
    while folders:
        folder = folders.pop()
        for info in sorted(fs.ls(folder, detail=True), key=lambda i: i["name"]):
            name = info["name"].rstrip("/")
            if name == folder or posixpath.basename(name).startswith("."):
                continue
            if info.get("type") == "directory":
                folders.append(name)
            yield name, info  # folders too: a local walk reports a folder named like an image


def _s3_objects(fs, root: str):
    from fsspec.asyn import sync
    bucket, key, _ = fs.split_path(root)
    pages = fs._iterdir(bucket, delimiter="", prefix=key + "/" if key else "")

    async def take(n):
        out = []
        try:
            while len(out) < n:
                out.append(await pages.__anext__())
        except StopAsyncIteration:
            pass
        return out
    while batch := sync(fs.loop, take, LIST_PAGE):
        for info in batch:
            name = info["name"]
            if not name.endswith("/"):  # a zero-byte "folder" marker some tools write
                yield name, info


def relative_parts(name: str, root: str) -> tuple[str, ...] | None:
    """An object's name -> its parts below root; None for a hidden one (a part starting with a dot), which
    the local walk would not enter either."""
    parts = tuple(name[len(root):].strip("/").split("/")) if root else tuple(name.split("/"))
    return None if any(p.startswith(".") for p in parts) else parts


# ---------------------------------------------------------------- reading


class NotAnImageObject(Exception):
    """A big object whose first HEADER_BYTES Pillow cannot read as an image: it was not downloaded whole."""


def transient(exc: BaseException) -> bool:
    """Worth another try: throttling, a timeout, a dropped connection; never a missing object or a refusal."""
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, ValueError,
                        NotAnImageObject)):
        return False
    return isinstance(exc, (OSError, TimeoutError, ConnectionError)) or "Timeout" in type(exc).__name__


class GaveUp(OSError):
    """A transient failure that outlasted every retry; the message names the last error and the count."""


def with_retries(call, attempts: int = READ_ATTEMPTS, backoff_s: float = BACKOFF_S, sleep=time.sleep):
    """call(), again after backoff_s, 2 x backoff_s, ... while it fails transiently."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if not transient(exc):
                raise
            if attempt == attempts:
                raise GaveUp(f"{type(exc).__name__}: {exc} (gave up after {attempts} tries)") from exc
            sleep(backoff_s * 2 ** (attempt - 1))


def read_object(url: str, options: dict | None = None, size: int | None = None) -> bytes:
    """An object's bytes in one GET. One over imaging.HEAD_FIRST_BYTES is first read HEADER_BYTES deep (a ranged
    GET) and downloaded whole only if Pillow finds an image there."""
    from PIL import Image

    from .imaging import HEAD_FIRST_BYTES
    fs, path = filesystem(url, options)
    if size is not None and size > HEAD_FIRST_BYTES:
        head = with_retries(lambda: fs.cat_file(path, start=0, end=HEADER_BYTES))
        try:
            Image.open(io.BytesIO(head))
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc} (first {len(head):,} bytes of {size:,} read)"
            raise NotAnImageObject(why) from None
    return with_retries(lambda: fs.cat_file(path))


class ReadTimeout(TimeoutError):
    """A chunk's reads ran out of time: a scan with a longer --timeout (or --retry-failed) reads them again."""

    def __init__(self, message: str, timeout_s: float):
        super().__init__(message)
        self.limit = ("timeout", timeout_s)


def read_objects(payloads, options: dict | None = None, timeout_s: float | None = None) -> list:
    """[(fs_path, size)] -> [(fs_path, bytes or the exception that stopped the read)] for the URLs among them, at
    most READ_CONCURRENCY requests at a time; local paths pass through as (fs_path, size). Whatever has not
    arrived after READ_SHARE of timeout_s becomes a ReadTimeout: the pool would otherwise kill the worker at
    timeout_s and blame the chunk's first file for a slow object anywhere in it."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as Late

    def one(fs_path, size):
        try:
            return read_object(os.fsdecode(fs_path), options, size)
        except Exception as exc:  # the row says why; the other objects are read all the same
            return exc
    urls = [i for i, (fs_path, _) in enumerate(payloads) if is_url(fs_path)]
    if not urls:
        return list(payloads)
    out = list(payloads)
    pool = ThreadPoolExecutor(min(READ_CONCURRENCY, len(urls)))
    futures = {i: pool.submit(one, *payloads[i]) for i in urls}
    allowed = READ_SHARE * timeout_s if timeout_s else None
    deadline = time.monotonic() + allowed if allowed else None
    for i, future in futures.items():
        try:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            out[i] = (payloads[i][0], future.result(left))
        except Late:
            started = future.running()
            why = (f"no answer within {allowed:g} s" if started else
                   f"not read: the chunk's other reads took the {allowed:g} s its reads may take")
            out[i] = (payloads[i][0], ReadTimeout(f"{why} ({READ_SHARE:g} of --timeout {timeout_s:g} s)", timeout_s))
    pool.shutdown(wait=False, cancel_futures=True)  # a stuck request is left behind, not waited for
    return out


def open_object(url: str, options: dict | None = None):
    """A read-only, seekable file object that streams the object (the app's full-size view)."""
    fs, path = filesystem(url, options)
    return fs.open(path, "rb")
