"""Where results live: one folder per dataset, outside the dataset, under the user's cache root."""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

CACHE_ENV = "INSPECTORS_CACHE"


def cache_root(override=None) -> Path:
    if override:
        return Path(override).expanduser().resolve()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "image-inspectors"


def dataset_id(root, labels_csv=None) -> str:
    """A short, stable id: the same dataset (root + manifest) always lands in the same workspace."""
    key = os.fsencode(os.path.abspath(root)) + b"\0" + os.fsencode(os.path.abspath(labels_csv) if labels_csv else "")
    name = Path(os.path.abspath(root)).name or "root"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40]
    return f"{safe}-{hashlib.sha256(key).hexdigest()[:12]}"


def workspace_dir(root, labels_csv=None, cache=None) -> Path:
    return cache_root(cache) / dataset_id(root, labels_csv)


def ensure_outside(workspace: Path, dataset_root) -> None:
    """Refuse a workspace inside the dataset: nothing we do may write there."""
    ws, root = os.path.realpath(workspace), os.path.realpath(dataset_root)
    if ws == root or ws.startswith(root.rstrip(os.sep) + os.sep):
        raise ValueError(f"the workspace {workspace} lies inside the dataset {dataset_root}; "
                         f"choose another --cache so the dataset stays untouched")


def atomic_write_bytes(path, data: bytes) -> None:
    """Write to a temp file beside the target, then rename: a kill never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def list_workspaces(cache=None) -> list[Path]:
    root = cache_root(cache)
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def remove_workspace(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
