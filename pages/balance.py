"""Balance: classes per split, priors, the loss a model should start from, class weights, shortcuts."""

import pandas as pd
import streamlit as st

from ui import charts, frame, pages, state, widgets
from ui.plain import md

frame.enter()
ds = widgets.need_dataset()
summary = state.summary(ds)
st.title(pages.PAGE["balance"].title)
counts = pd.DataFrame(summary.get("class_counts", {})).fillna(0).astype(int)
if counts.empty:
    st.info("No labelled images that decode.")
    st.stop()
st.subheader("Images per class and split")
st.plotly_chart(charts.class_counts_bar(counts), width="stretch", key="balance_counts")
table = counts.copy()
table["prior (train)"] = pd.Series(summary.get("class_priors", {}))
table["suggested class weight"] = pd.Series(summary.get("suggested_class_weights", {}))
st.dataframe(table, width="stretch")

st.subheader("Per split")
rows = []
for split in counts.columns:
    loss = summary.get("expected_init_loss", {}).get(split, {})
    rows.append({"split": split, "images": int(counts[split].sum()),
                 "imbalance ratio (largest / smallest)": summary.get("imbalance_ratio", {}).get(split),
                 "far rarer classes": ", ".join(summary.get("imbalanced_classes", {}).get(split, [])),
                 "missing classes": ", ".join(summary.get("missing_classes", {}).get(split, [])),
                 "loss at init, uniform (ln C)": loss.get("uniform"),
                 "loss at init, prior-biased": loss.get("prior_biased")})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.caption("The recipe's first check: at initialisation a classifier should show exactly ln C (uniform logits), or "
           "the priors' cross-entropy once the final-layer bias is set from the train priors. A very different "
           "first loss means a bug. Priors come from the "
           f"{md(summary.get('priors_from', 'train'))} split.")
mean, std = summary.get("channel_mean", []), summary.get("channel_std", [])
if mean:
    st.markdown(f"**Normalisation** (per channel, RGB, in [0, 1]): mean `{mean}`, std `{std}`")

st.subheader("Shortcuts")
cuts = summary.get("shortcuts", [])
if cuts:
    st.warning("These properties single out a class on their own. A model can learn them instead of the "
               "content, then fail where they differ (another camera, another export).")
    st.dataframe(pd.DataFrame(cuts)[["property", "kind", "class", "balanced_accuracy", "detail"]], hide_index=True,
                 width="stretch")
else:
    st.success("No file property (size, format, mode, ...) or image statistic singles out a class.")
