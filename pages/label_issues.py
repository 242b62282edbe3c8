"""Label issues: images whose given label a model that never saw them finds implausible (k-fold out-of-sample
predictions, confident learning), the hardest images, and the confusion matrix. Each suspect can be marked
keep / remove / relabel in the review store (Review & export turns the marks into a cleaned manifest)."""

import plotly.express as px
import streamlit as st

from baselines import volume
from baselines.config import LABEL_ISSUE_DEFAULTS
from baselines.data import class_problem
from inspectors import review
from ui import frame, labels, launcher, pages, run_widgets, state, tables, training, widgets
from ui.plain import html, md

frame.enter()
ds = widgets.need_dataset()
st.title(pages.PAGE["label_issues"].title)
st.caption("A small ResNet (or, with `--backbone`, a linear probe on your pretrained network's features) is trained "
           "k times, each time without one fold of the images (copies of a picture stay in one fold), and predicts "
           "that fold: every image gets a prediction from a model that never saw it. Images whose given label gets "
           "a low probability while the model is confident of another class are suspected mislabels (confident "
           "learning); how many are flagged follows from how accurate the model is, and every image is ranked. "
           + widgets.SCORE_LEGEND)

# what `python -m baselines label-issues` refuses with (exit 2)
if problem := class_problem(state.summary(ds).get("classes", [])):
    st.warning(md(problem))
    st.stop()
found = labels.read_label_issues(ds.workspace)
with st.expander("Settings", expanded=not found["facts"]):
    c = st.columns(4)
    c[0].selectbox("Folds", ["auto", *range(2, 21)], key="li_folds",
                   format_func=lambda f: "auto (5; 2 above 20,000 images)" if f == "auto" else str(f))
    c[1].number_input("Epochs per fold", 0, 1000, LABEL_ISSUE_DEFAULTS["epochs"], key="li_epochs",
                      help="0 = as many as fit the CPU budget (about a quarter of an hour for 10,000 images).")
    c[2].number_input("Stop after steps", 0, 1_000_000, 0, key="li_steps", help="0 = the epochs decide.")
    c[3].number_input("Seed", 0, 2**31 - 1, 0, key="li_seed")


def start() -> None:
    get = st.session_state.get
    epochs = int(get("li_epochs", LABEL_ISSUE_DEFAULTS["epochs"]))
    folds = get("li_folds", "auto")
    launcher.launch(ds, "label-issues", {"folds": None if folds == "auto" else int(folds), "epochs": epochs,
                                         "max_steps": int(get("li_steps", 0)) or None, "seed": int(get("li_seed", 0))})


st.button("Find label issues", type="primary", key="li_start", on_click=start)
job = launcher.job_folders(ds.workspace, "label-issues")
if job:
    run_widgets.follow(job[0], "li_job", None)
if not found["facts"] and found["findings"].empty:
    if job and launcher.job_status(job[0])["state"] in ("starting", "running"):
        st.info("Training the folds: the suspects, top losses and confusion matrix appear here when it finishes.")
    else:
        st.info("Not run yet for this dataset. Press **Find label issues** (a minute or two per fold for 1,000 "
                "images on a CPU).")
    st.stop()

facts = found["facts"]
if note := volume.model_note(facts):  # on top: it says how far to trust everything below
    st.warning(note)  # numbers and fixed words only: no user text to escape
c = st.columns(4)
c[0].metric("Images", f"{facts.get('samples', len(found['predictions'])):,}")
c[1].metric("Folds", facts.get("folds", "—"))
acc = facts.get("oos_accuracy")
c[2].metric("Out-of-sample accuracy", f"{acc:.1%}" if isinstance(acc, int | float) else "—")
c[3].metric("Suspected mislabels", f"{facts.get('found', len(found['findings'])):,}")
if facts.get("candidates", 0) > facts.get("found", 0):
    st.caption(f"The filter suspects {facts['candidates']:,} images; the model supports flagging "
               f"{facts.get('found', 0):,}. The others are in the ranked list below.")
if added := volume.added_note(facts):
    st.caption(added)  # numbers and fixed words only
if facts.get("from_copies"):
    st.caption(f"{facts['from_copies']:,} of the suspects are copies of one picture filed under different labels "
               "(see Duplicates, conflicting labels): of each such group the copy whose label the baseline believes "
               "less is listed, even where the model is not sure enough of one class to flag it on its own.")
if facts.get("unreliable"):
    st.caption(f"{facts['unreliable']:,} images were predicted but not judged: the inspectors found the picture "
               f"itself off ({md(', '.join(facts.get('unreliable_issues', [])))}), so the model's disagreement there "
               "says more about the image than about its label. They are listed under those findings.")


def mark(path: str, decision: str, key: str | None = None) -> None:
    new_label = st.session_state.get(key) if key else None
    review.set_mark(ds.workspace, path, decision, new_label)
    st.toast(f"{md(path.rsplit('/', 1)[-1])}: {decision}" + (f" → {md(new_label)}" if new_label else ""))


st.subheader("Suspected mislabels")
suspects = labels.suspects(found["findings"], found["predictions"], state.marks(ds))
if suspects.empty:
    st.success("No image's given label looks implausible to the out-of-sample model.")
else:
    orders = {"most suspicious first": ("score", False), "model most confident first": ("confidence", False),
              "lowest probability of the given label first": ("p_given", True), "given label": ("given", True)}
    order = st.selectbox("Sort by", list(orders), key="li_sort")
    column, ascending = orders[order]
    suspects = suspects.sort_values([column, "path"], ascending=[ascending, True]).reset_index(drop=True)
    examples = labels.class_examples(found["predictions"], 3)
    thumbs = state.thumbnails(ds, list(suspects["path"]) + [p for paths in examples.values() for p in paths])
    shown = suspects.assign(image=suspects["path"].map(lambda p: training.data_uri(thumbs.get(p))))
    st.dataframe(shown[["image", "path", "given", "predicted", "confidence", "p_given", "score", "mark", "detail"]],
                 hide_index=True, width="stretch", height=320, row_height=48,
                 column_config={"image": st.column_config.ImageColumn("image", width="small"),
                                "confidence": st.column_config.NumberColumn("model's confidence", format="percent"),
                                "p_given": st.column_config.NumberColumn("p(given label)", format="percent"),
                                "score": st.column_config.NumberColumn("score", format="%.2f")})
    st.markdown("**Review them** (in the order above): keep the label, remove the image, or relabel it (the model's "
                "prediction is preselected). Marks go to the review store; *Review & export* writes the cleaned "
                "manifest.")
    classes = sorted(x for x in state.samples(ds)["label"].dropna().astype(str).unique() if x)
    size = 12
    read_only = not state.marks_writable(ds)
    if read_only:
        st.caption(widgets.READ_ONLY)
    number = widgets.pager(len(suspects), size, "li_page")
    cells = st.columns(3)
    for i, row in enumerate(tables.page(suspects, number, size).to_dict("records")):
        with cells[i % 3].container(border=True):
            data = thumbs.get(row["path"])
            if data is not None:
                st.image(data, width=training.fit_width(data, 110))
            st.markdown(f"given **{md(row['given'])}** → model **{md(row['predicted'])}** ({row['confidence']:.0%})")
            for role, label in (("given", row["given"]), ("suggested", row["predicted"])):
                pictures = [thumbs[p] for p in examples.get(label, []) if thumbs.get(p) is not None]
                st.caption(f"{role} class **{md(label)}**, as the model sees it:")
                if pictures:
                    st.image(pictures, width=40)
            st.caption(f"score {row['score']:.2f} · {md(row['split']) or 'no split'}"
                       + (f" · marked **{md(row['mark'])}**" if row["mark"] else ""), help=md(row["path"]))
            key = f"li_new::{row['path']}"
            st.selectbox("Relabel to", classes, index=classes.index(row["predicted"]) if row["predicted"] in classes
                         else 0, key=key)
            b = st.columns(3)
            b[0].button("Keep", key=f"li_keep::{row['path']}", on_click=mark, args=(row["path"], "keep"),
                        width="stretch", disabled=read_only)
            b[1].button("Remove", key=f"li_remove::{row['path']}", on_click=mark, args=(row["path"], "remove"),
                        width="stretch", disabled=read_only)
            b[2].button("Relabel", key=f"li_relabel::{row['path']}", on_click=mark, disabled=read_only,
                        args=(row["path"], "relabel", key), width="stretch", help="to the label chosen above")

st.subheader("Ranked list")
st.caption("Every judged image, the most suspicious first (the model's probability of the given label, lowest "
           "first): past the flagged ones, the next candidates to look at. Mislabels, ambiguous images and rare "
           "kinds of a class collect at the top.")
ranked = labels.ranked(found["predictions"])
if ranked.empty:
    st.caption("No predictions written.")
else:
    number = widgets.pager(len(ranked), 50, "li_ranked_page")
    shown = tables.page(ranked, number, 50)
    thumbs = state.thumbnails(ds, shown["path"])
    st.dataframe(shown.assign(image=shown["path"].map(lambda p: training.data_uri(thumbs.get(p))))[
        ["image"] + list(shown.columns)], hide_index=True, width="stretch", height=320, row_height=48,
        column_config={"image": st.column_config.ImageColumn("image", width="small"),
                       "rank_score": st.column_config.NumberColumn("score", format="%.2f"),
                       "p_label": st.column_config.NumberColumn("p(given label)", format="percent"),
                       "p_predicted": st.column_config.NumberColumn("model's confidence", format="percent")})

st.subheader("Confusion matrix")
matrix = labels.confusion_frame(found["confusion"])
if matrix.empty:
    st.caption("No confusion matrix written.")
else:
    matrix = matrix.rename(index=html, columns=html)  # class names: ticks and hover text show them as text
    fig = px.imshow(matrix, text_auto=True, color_continuous_scale="Blues", aspect="auto",
                    labels={"x": "predicted (out of sample)", "y": "given label", "color": "images"},
                    height=max(320, 40 * len(matrix) + 120))
    st.plotly_chart(fig, width="stretch", key="li_confusion")
    st.caption("Rows: the label in the dataset; columns: what the model that never saw the image predicted. Large "
               "cells off the diagonal are classes that get confused: look at those images first.")
