"""Human baseline: label a few random validation images yourself, then see your accuracy beside the model's on
the same images. The sheet (images, answers, time taken) is kept in the workspace's human_baseline.json."""

import streamlit as st

from ui import frame, labels, pages, state, training, widgets
from ui.plain import md

frame.enter()
ds = widgets.need_dataset()
st.title(pages.PAGE["human_baseline"].title)
st.caption("How hard is the task for a person? Label a few random validation images (their labels and file names "
           "are hidden), then compare your accuracy with the model's on the same images. If you do far better than "
           "the model, it has more to learn; if you struggle too, the images may not carry the answer.")

samples = state.samples(ds)
pool = labels.candidates(samples)
classes = sorted(pool["label"].astype(str).unique())
truth = dict(zip(pool["path"], pool["label"].astype(str), strict=True))
sheet = labels.load_sheet(ds.workspace)


def new_sheet() -> None:
    drawn = labels.draw_sheet(pool, int(st.session_state.get("hb_n", 20)), int(st.session_state.get("hb_seed", 0)))
    labels.save_sheet(ds.workspace, drawn)


def answer_again() -> None:
    current = labels.load_sheet(ds.workspace)
    if current:
        labels.save_sheet(ds.workspace, {**current, "answers": {}, "submitted": None, "seconds": None})


def submit(current: dict) -> None:
    answers = {path: st.session_state.get(answer_key(current, i)) for i, path in enumerate(current["paths"])}
    labels.save_sheet(ds.workspace, labels.answer_sheet(current, answers))


def answer_key(current: dict, i: int) -> str:
    return f"hb_answer::{current['created']}::{i}"


with st.expander("Draw a new sheet", expanded=sheet is None):
    c = st.columns([1, 1, 2])
    c[0].number_input("Images", 1, 200, 20, key="hb_n")
    c[1].number_input("Seed", 0, 2**31 - 1, 0, key="hb_seed", help="The same seed draws the same images.")
    c[2].button("Draw a new sheet", key="hb_draw", on_click=new_sheet, type="primary" if sheet is None else "secondary")
    st.caption(f"Drawn from {len(pool):,} labelled validation images"
               + ("" if (samples["split"] == "val").any() else " (the dataset has no val split: from all images)")
               + ". A new sheet replaces the current one.")
if sheet is None:
    st.info("No sheet yet. Choose how many images, then press **Draw a new sheet**.")
    st.stop()

thumbs = state.thumbnails(ds, sheet["paths"])
columns = 5
SIDE = 200  # bigger than the grid thumbnails: a person should see what the network gets, or more


def picture(path: str, side: int = SIDE) -> None:
    view = widgets.full_view(ds, path, side)
    image = view.image if view.image is not None else thumbs.get(path)
    if image is None:
        st.caption("(cannot show this image)")
    else:
        st.image(image, width=training.fit_width(image, side), caption=view.note or None)


if not sheet.get("submitted"):
    st.subheader(f"Which class is each image? ({sheet['n']} images)")
    st.caption("The classes: " + md(", ".join(classes)) + ". Pick one under each image, then press **Submit and "
               "score** at the bottom.")
    with st.form("hb_form"):
        cells = st.columns(columns)
        for i, path in enumerate(sheet["paths"]):
            with cells[i % columns].container(border=True):
                picture(path)
                st.selectbox(f"Image {i + 1}", [labels.UNANSWERED] + classes, key=answer_key(sheet, i))
        st.form_submit_button("Submit and score", type="primary", on_click=submit, args=(sheet,))
    st.stop()

model_run, model = labels.model_predictions(ds.workspace)
facts, table = labels.score_sheet(sheet, truth, model)
c = st.columns(3)
c[0].metric("Your accuracy", f"{facts['human_acc']:.0%}", help="Unanswered images count as wrong.")
c[0].caption(f"{facts['correct']} of {facts['images']} right ({facts['answered']} answered)")
if facts["model_n"]:
    c[1].metric("Model's accuracy on these images", f"{facts['model_acc']:.0%}")
    c[1].caption(f"{facts['model_correct']} of {facts['model_n']} right · run {md(model_run)}")
else:
    c[1].metric("Model's accuracy on these images", "—")
    c[1].caption("No finished training run has predictions for these images yet: train one on the Baselines page."
                 if model_run is None else f"Run {md(model_run)} has no predictions for these images.")
if facts.get("seconds") is not None:
    c[2].metric("Time", f"{facts['seconds'] / 60:.1f} min" if facts["seconds"] >= 120 else f"{facts['seconds']:.0f} s")
    c[2].caption("from drawing the sheet to submitting it")

st.subheader("Your answers")
cells = st.columns(columns)
for i, row in enumerate(table.to_dict("records")):
    with cells[i % columns].container(border=True):
        picture(row["path"], 120)
        st.markdown(f"**{row['image']}.** label **{md(row['label'])}**")
        you = ":green[right]" if row["you"] else ":red[wrong]"
        model_said = ""
        if row["model"]:
            model_said = f"  \nmodel: {md(row['model'])} " + (":green[right]" if row["model right"] else ":red[wrong]")
        st.markdown(f"you: {md(row['your answer'])} {you}{model_said}")
st.button("Answer this sheet again", key="hb_again", on_click=answer_again)
