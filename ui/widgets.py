"""Page widgets over DataFrames: image grids from cached thumbnails (never full-size files)."""

import pandas as pd
import streamlit as st

from ui import state


def random_per_class(samples: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    ok = samples[samples["ok"]]
    return ok.sample(frac=1.0, random_state=seed).groupby("label", sort=True).head(n)


def image_grid(ds, rows: pd.DataFrame, columns: int = 8, caption=lambda r: r["path"].rsplit("/", 1)[-1]) -> None:
    thumbs = state.thumbnails(ds, rows["path"])
    cells = st.columns(columns)
    for i, (_, row) in enumerate(rows.iterrows()):
        data = thumbs.get(row["path"])
        with cells[i % columns]:
            if data is None:
                st.caption(f"no thumbnail: {row['path']}")
            else:
                st.image(data, caption=caption(row), width="stretch")
