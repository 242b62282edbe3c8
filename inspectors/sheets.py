"""The one CSV writer for tables a person opens in a spreadsheet (findings, predictions, review marks, filtered
views), and its reader: a cell taken from the user's data (a class named `=HYPERLINK("http://x")`, `@SUM(A1)`,
`+1` or `-1`, a path, a detail quoting one) would run as a formula there, so every text cell goes through
schema.neutralise on the way out and schema.unneutralise on the way back in, which restores it exactly.

Manifests (path,label,split) are not sheets: the tools read them back as written, so they are written
exactly, by manifest_text."""

from pathlib import Path

import pandas as pd

from .schema import neutralise, unneutralise
from .workspace import atomic_write_bytes


def _is_text(column: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
                or pd.api.types.is_datetime64_any_dtype(column))


def neutralised(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run in a spreadsheet (numbers, booleans and dates are left as they are)."""
    out = table.copy()
    for name in out.columns:
        if _is_text(out[name]):
            out[name] = out[name].astype(object).map(neutralise)
    return out


def sheet_text(table: pd.DataFrame) -> str:
    """The table as CSV text for a person's spreadsheet (what downloads serve and write_sheet writes)."""
    return neutralised(table).to_csv(index=False)


def write_sheet(table: pd.DataFrame, path) -> Path:
    """Write sheet_text atomically (a reader never sees half a file)."""
    path = Path(path)
    atomic_write_bytes(path, sheet_text(table).encode("utf-8"))
    return path


def read_sheet(path, **read_csv) -> pd.DataFrame:
    """A file write_sheet wrote, with every text cell as it was before neutralising. Empty cells stay ""
    (keep_default_na=False): a class may be called NA. Extra keyword arguments go to pandas.read_csv."""
    table = pd.read_csv(path, keep_default_na=False, **read_csv)
    for name in table.columns:
        if _is_text(table[name]):
            table[name] = table[name].map(unneutralise).astype(table[name].dtype)
    return table


def manifest_text(table: pd.DataFrame) -> str:
    """A manifest as CSV text, every value exactly as it is: the CLI and the trainer read it back with --labels,
    and a quote added for spreadsheets would become part of a path or a class name."""
    return table.to_csv(index=False)
