"""Helpers every inspector uses to build its findings table and to check its inputs."""

import numpy as np
import pandas as pd

from .schema import FINDING_COLUMNS, ISSUES


def require(samples: pd.DataFrame, columns, inspector: str) -> None:
    """Fail loudly, naming the inspector, when the samples table lacks a column it reads."""
    missing = [c for c in columns if c not in samples.columns]
    if missing:
        raise KeyError(f"inspector {inspector!r} needs samples columns {missing}; re-scan with this version")


def findings(path, issue, score, detail, group="") -> pd.DataFrame:
    """A findings table from aligned columns (scalars broadcast); scores clipped to [0, 1]."""
    path = pd.Series(path, dtype="string").reset_index(drop=True)
    n = len(path)
    if isinstance(issue, str) and issue not in ISSUES:
        raise ValueError(f"{issue!r} is not in the issue vocabulary (schema.ISSUES)")
    df = pd.DataFrame({
        "path": path,
        "issue": np.broadcast_to(np.asarray(issue, dtype=object), n) if n else [],
        "score": np.clip(np.broadcast_to(np.asarray(score, dtype=float), n), 0.0, 1.0) if n else [],
        "group": np.broadcast_to(np.asarray(group, dtype=object), n) if n else [],
        "detail": np.broadcast_to(np.asarray(detail, dtype=object), n) if n else [],
    })
    return df.astype({"issue": "string", "group": "string", "detail": "string", "score": "float64"})


def empty() -> pd.DataFrame:
    return findings([], "corrupt", [], [])[FINDING_COLUMNS]


def concat(frames) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty()
    out = pd.concat(frames, ignore_index=True)[FINDING_COLUMNS]
    return out.sort_values(["issue", "score", "path"], ascending=[True, False, True], kind="stable") \
        .reset_index(drop=True)


def robust_z(values: np.ndarray, floor: float = 1e-9) -> tuple[np.ndarray, float, float]:
    """(z, median, scale): distance from the median in MADs scaled to a normal std (x1.4826)."""
    values = np.asarray(values, dtype=float)
    med = float(np.nanmedian(values)) if len(values) else 0.0
    scale = max(1.4826 * float(np.nanmedian(np.abs(values - med))) if len(values) else 0.0, floor)
    return (values - med) / scale, med, scale
