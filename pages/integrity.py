"""Integrity: files that do not decode, whose name lies about their content, that are not images,
missing from disk, or missing from the manifest."""

import streamlit as st

from ui import frame, pages, state, widgets

SECTIONS = [
    ("corrupt", "Broken files", "Images that fail to decode, with the decoder's reason."),
    ("format_mismatch", "Format mismatches", "The extension names one format, the content is another: some "
     "loaders pick the decoder by extension and fail or misread."),
    ("unsupported_file", "Unsupported files", "Files inside class folders that are not images we read."),
    ("missing_file", "Missing files", "Rows of the manifest whose file is not there."),
    ("orphan_file", "Orphan files", "Images under the dataset root that the manifest does not name."),
]

frame.enter()
ds = widgets.need_dataset()
samples, found = state.samples(ds), state.findings(ds)
st.title(pages.PAGE["integrity"].title)
widgets.listing_warnings(state.summary(ds))
cols = st.columns(len(SECTIONS))
for col, (issue, title, _) in zip(cols, SECTIONS, strict=True):
    col.metric(title, f"{int((found['issue'] == issue).sum()):,}")
for issue, title, help_text in SECTIONS:
    rows = found[found["issue"] == issue].merge(samples[["path", "label", "split", "bytes", "format"]], on="path",
                                                 how="left")
    st.subheader(f"{title} ({len(rows):,})")
    st.caption(help_text)
    if rows.empty:
        st.success(f"No {title.lower()}." + (" (Only a CSV manifest can have these.)"
                                               if issue in ("missing_file", "orphan_file") else ""))
        continue
    if issue == "corrupt":
        kinds = rows["detail"].str.split(":").str[0].value_counts().rename_axis("reason").reset_index(name="files")
        st.dataframe(kinds, hide_index=True, width="content")
    shown = rows[["path", "label", "split", "bytes", "format", "detail"]]
    shown = shown.astype(object).where(shown.notna(), "—")  # a missing file has no size or format: a dash, not None
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"detail": st.column_config.TextColumn("detail", width="large")})
    if issue == "format_mismatch":
        widgets.image_grid(ds, samples[samples["path"].isin(rows["path"])].head(16), columns=8)
