"""Baselines: train a toy model in the background and watch it learn; run the recipe's sanity checks; compare
runs (first overfit, then add one regularizer at a time); measure how much downsampling the task tolerates.
Runs are `python -m baselines` processes that outlive the page: a reload re-attaches to them."""

import plotly.express as px
import streamlit as st

from baselines import fit
from baselines.config import AUGMENTATIONS, MODELS, TrainConfig
from baselines.data import class_problem
from ui import frame, launcher, pages, run_picker, run_widgets, state, training, widgets
from ui.plain import html, md

frame.enter()
ds = widgets.need_dataset()
DEFAULT = TrainConfig()
MODEL_TEXT = {"input_independent": "input-independent (zeros in: what the labels alone give)",
              "logistic": "logistic regression on pixels", "tiny_cnn": "tiny ConvNet",
              "small_resnet": "small ResNet (batch norm; label issues' default)", "resnet18": "ResNet-18 (slow on CPU)"}
AUGMENT_TEXT = {"none": "none", "flip": "horizontal flips", "flip_crop": "flips and random crops"}
SIZES = [0, 16, 32, 64, 128, 224]

st.title(pages.PAGE["baselines"].title)
st.caption("The recipe's second half: before training a real model, a toy baseline must show that the data "
           "pipeline and the training loop tell the truth. **1.** Run the sanity checks. **2.** Train until the "
           "model overfits (train loss far below validation loss). **3.** Add one regularizer at a time (dropout, "
           "weight decay, augmentation, early stopping) and compare the runs. **4.** Measure how small the images "
           "can be. Runs continue in the background when you leave the page.")
# what `python -m baselines` refuses with (exit 2)
if problem := class_problem(state.summary(ds).get("classes", [])):
    st.warning(md(problem))
    st.stop()


def settings() -> None:
    """The knobs, as widgets; chosen_knobs() reads them back."""
    with st.expander("Settings for the next run", expanded=True):
        c = st.columns(4)
        c[0].selectbox("Model", MODELS, index=MODELS.index(DEFAULT.model), key="bl_model", format_func=MODEL_TEXT.get)
        c[1].number_input("Width", 1, 512, DEFAULT.width, key="bl_width",
                          help="Channels of the tiny ConvNet's first layer: wider = more capacity (overfits sooner).")
        c[2].selectbox("Input size", SIZES, key="bl_size",
                       format_func=lambda s: "from the scan's sizes" if s == 0 else f"{s} px")
        c[3].number_input("Epochs", 1, 10_000, DEFAULT.epochs, key="bl_epochs")
        c = st.columns(4)
        c[0].number_input("Stop after steps", 0, 1_000_000, 0, key="bl_steps",
                          help="0 = the epochs decide. A small number makes a quick smoke run.")
        c[1].number_input("Seed", 0, 2**31 - 1, DEFAULT.seed, key="bl_seed")
        c[2].number_input("Learning rate", 0.0, 1.0, DEFAULT.lr, step=1e-4, format="%.5f", key="bl_lr",
                          help="Adam, constant (the recipe's forgiving 3e-4).")
        c[3].number_input("Early stopping", 0, 1000, DEFAULT.early_stopping, key="bl_early",
                          help="Stop after this many evaluations without a better validation loss; 0 = off.")
        st.caption("Regularizers: off by default. Add one at a time once a run overfits.")
        c = st.columns(4)
        c[0].number_input("Dropout", 0.0, 0.95, DEFAULT.dropout, step=0.05, key="bl_dropout")
        c[1].number_input("Weight decay", 0.0, 1.0, DEFAULT.weight_decay, step=1e-4, format="%.5f", key="bl_decay")
        c[2].selectbox("Augmentation", AUGMENTATIONS, key="bl_augment",
                       format_func=AUGMENT_TEXT.get)


def chosen_knobs() -> dict:
    """The settings as the widgets hold them now (read in the button callbacks, which run before the page)."""
    get = st.session_state.get
    return {"model": get("bl_model", DEFAULT.model), "width": int(get("bl_width", DEFAULT.width)),
            "input_size": int(get("bl_size", 0)) or None, "epochs": int(get("bl_epochs", DEFAULT.epochs)),
            "max_steps": int(get("bl_steps", 0)) or None, "seed": int(get("bl_seed", DEFAULT.seed)),
            "lr": float(get("bl_lr", DEFAULT.lr)), "dropout": float(get("bl_dropout", DEFAULT.dropout)),
            "weight_decay": float(get("bl_decay", DEFAULT.weight_decay)), "augment": get("bl_augment", "none"),
            "early_stopping": int(get("bl_early", DEFAULT.early_stopping))}


def start(command: str, remember: str, extra: dict | None = None) -> None:
    """Launch in a callback (before the page renders), so the new folder is already listed and picked."""
    extra = dict(extra or {})
    if command == "tolerance":
        extra = {"sizes": st.session_state.get("bl_sizes", "16,32,64").replace(" ", ""), "input_size": None}
    folder = launcher.launch(ds, command, {**chosen_knobs(), **extra})
    st.session_state[remember] = folder.name


settings()
live_tab, checks_tab, compare_tab, tolerance_tab = st.tabs(
    ["Train and watch", "Sanity checks", "Compare runs", "Downsampling tolerance"])

with live_tab:
    st.button("Start training", type="primary", key="bl_start", on_click=start, args=("train", "bl_run"))
    folder = run_picker.pick_run(ds, ("train", "check"), "bl_run")
    if folder is None:
        st.info("No runs yet. Press **Start training**: the curves appear here as the model learns.")
    else:
        run_picker.notes_editor(folder, "bl_notes")

        def live(folder, status):
            if status.get("state") in ("finished", "stopped"):
                run_widgets.fit_verdict(folder)
            run_widgets.run_charts(folder, f"bl_live_{folder.name}")
            st.subheader("A fixed batch of validation images")
            run_widgets.fixed_batch(ds, folder, f"bl_live_{folder.name}", lambda paths: state.thumbnails(ds, paths))

        run_widgets.follow(folder, "bl_live", live)

with checks_tab:
    st.markdown("Seven checks from the recipe, each a verdict with its evidence: the loss at init, what enters the "
                "network, that samples in a batch do not mix, overfitting one small batch, reproducibility, a "
                "decreasing training loss, and beating the same network fed zeros. They train with the settings "
                "above (a minute or two on a CPU).")
    st.button("Run the checks", key="bl_check_start", on_click=start, args=("check", "bl_check"))
    check = launcher.current_run(ds.workspace, ("check",), st.session_state.get("bl_check"))
    if check is None:
        st.info("No checks run yet for this dataset.")
    else:
        def report(folder, status):
            run_widgets.report_card(folder, key="bl_card")

        run_widgets.follow(check, "bl_checks", report)

with compare_tab:
    st.markdown("Overlay runs to see what each change bought. **Overfit first**: raise the width or the epochs until "
                "the train loss falls far below the validation loss (a large gap). **Then regularize**, one knob at a "
                "time, and keep what narrows the gap without losing validation accuracy.")
    table = training.list_trained(ds.workspace)
    if len(table) < 2:
        st.info("Train at least two runs (change one setting between them) to compare them here.")
    else:
        labels = dict(zip(table["run"], table["label"], strict=True))
        finished = list(table.loc[table["state"] == "finished", "run"])
        picked = st.multiselect("Runs to compare", list(table["run"]), default=finished[:2] or list(table["run"][:2]),
                                format_func=labels.get, key="bl_compare")
        if picked:
            folders = [ds.workspace / "runs" / name for name in picked]
            summaries = [training.run_summary(f) for f in folders]
            curves = training.compare_curves(folders)
            curves["run"] = curves["run"].map(training.run_names(summaries)).map(html)
            colors = px.colors.qualitative.Set1
            legend = {"orientation": "h", "y": -0.25, "x": 0, "title": None}
            left, right = st.columns(2)
            fig = px.line(curves[curves["curve"] != "val acc"], x="epoch", y="value", color="run", line_dash="curve",
                          height=420, color_discrete_sequence=colors, labels={"value": "loss", "curve": ""},
                          line_dash_map={"train loss": "solid", "val loss": "dash"},
                          title="Train (solid) and validation (dashed) loss")
            fig.update_layout(legend=legend, margin={"t": 50, "b": 10})
            if left.toggle("Log scale", key="bl_compare_log", help="A log-scale loss axis: later, smaller gains show."):
                fig.update_yaxes(type="log")
            left.plotly_chart(fig, width="stretch", key="bl_compare_loss")
            fig = px.line(curves[curves["curve"] == "val acc"], x="epoch", y="value", color="run", markers=True,
                          height=420, color_discrete_sequence=colors, labels={"value": "validation accuracy"},
                          title="Validation accuracy")
            fig.update_layout(legend=legend, margin={"t": 50, "b": 10})
            right.plotly_chart(fig, width="stretch", key="bl_compare_acc")
            st.dataframe(training.compare_table(summaries), hide_index=True, width="stretch",
                         column_config=run_widgets.COMPARE_COLUMNS)
            st.caption("Only the settings that differ between the picked runs are shown. gap = validation loss − "
                       "train loss at the last evaluation: large = overfitting; near 0 with both losses high = "
                       "underfitting. Train loss is the mean of the last 50 steps (with dropout and augmentation on, "
                       "so a regularized run can show a negative gap).")

with tolerance_tab:
    st.markdown("How much downsampling can the task tolerate? The same model is trained at each input size with the "
                "settings above (except the input size), and its validation accuracy is measured.")
    st.text_input("Input sizes (px, comma separated)", "16,32,64", key="bl_sizes")
    st.button("Measure downsampling tolerance", key="bl_tolerance_start", on_click=start,
              args=("tolerance", "bl_tolerance"))
    job = launcher.job_folders(ds.workspace, "tolerance")
    if job:
        run_widgets.follow(job[0], "bl_tolerance", None)
    model, result = training.tolerance_frame(ds.workspace)
    if result.empty:
        st.info("Not measured yet for this dataset.")
    else:
        chance = training.chance_accuracy(state.summary(ds))
        fig = px.line(result, x="input_size", y="val_acc", markers=True, height=340, range_y=[0, 1.02],
                      labels={"input_size": "input size (px)", "val_acc": "validation accuracy"},
                      title=f"{html(model)}: validation accuracy against input size")
        fig.update_xaxes(type="category")
        if chance is not None:
            fig.add_hline(y=chance, line_dash="dot", line_color="#888",
                          annotation_text=f"chance: always the most frequent class ({chance:.0%})")
        st.plotly_chart(fig, width="stretch", key="bl_tolerance_chart")
        if underfit := fit.of_sweep(ds.workspace, result.to_dict("records")):
            st.warning(f"**{underfit['text']}**\n\n**Next:** {underfit['next']}")
        if chance is not None and (result["val_acc"] <= chance + 0.02).all():
            st.warning("Every size is at chance level: these runs were too short to learn anything, so they say "
                       "nothing about resolution. Raise the epochs (and set *Stop after steps* to 0), then measure "
                       "again.")
        st.dataframe(result, hide_index=True, width="stretch", column_config={
            "input_size": st.column_config.NumberColumn("input size (px)"),
            "val_acc": st.column_config.NumberColumn("val acc", format="percent"),
            "val_loss": st.column_config.NumberColumn("val loss", format="%.3f"),
            "train_loss": st.column_config.NumberColumn("train loss", format="%.3f")})
        st.caption("Where the curve flattens, more pixels stop helping: train there first (faster), and go bigger "
                   "only when the curve says detail matters.")
