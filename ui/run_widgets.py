"""Widgets for background baseline jobs: a live status panel that refreshes itself while the job runs (a
fragment, so the rest of the page stays put), and the charts of one run. They read the run or job folder
only (ui.launcher, ui.training); nothing here imports torch."""

import time
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from baselines import fit, runs
from ui import launcher, training
from ui.plain import html, md

REFRESH_S = 1.5
ACTIVE = ("starting", "running")
STATE_TEXT = {"starting": "starting (loading torch and the images)", "running": "running",
              "finished": "finished", "failed": "failed", "stopped": "stopped"}


def follow(folder: Path, key: str, body=None) -> None:
    """The job's state, progress, stop button and log; then body(folder, status). While the job runs the
    panel re-renders every REFRESH_S seconds; when it ends, the whole page reruns once to show the results."""
    folder = Path(folder)
    was_active = launcher.job_status(folder)["state"] in ACTIVE

    @st.fragment(run_every=REFRESH_S if was_active else None)
    def panel():
        status = launcher.job_status(folder)
        status_line(folder, status, key)
        if body is not None:
            body(folder, status)
        # from the panel's own refresh only: a run of the whole page (a click's) that sees the job end would
        # otherwise rerun before reaching the clicked widget, and the click would be lost; the next refresh reruns
        if was_active and status["state"] not in ACTIVE and _refreshing_alone():
            st.rerun()

    panel()


def _refreshing_alone() -> bool:
    """Whether this run is a fragment's own refresh rather than a run of the whole page."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def _ago(started) -> str:
    if not started:
        return ""
    seconds = max(0, time.time() - float(started))
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago" if seconds < 7200 \
        else time.strftime("%Y-%m-%d %H:%M", time.localtime(float(started)))


def status_line(folder: Path, status: dict, key: str) -> None:
    state = status["state"]
    text = f"**{md(folder.name)}** · `{status['command']}` · {STATE_TEXT.get(state, state)}"
    message = md(status.get("message") or "")  # a log line: it may quote file and class names
    if status.get("started"):
        text += f" · started {_ago(status['started'])}"
    left, right = st.columns([5, 1])
    with left:
        if state == "failed":
            st.error(f"{text}\n\n{md(status.get('error') or status.get('message') or '')}")
        elif state == "stopped":
            st.warning(text + (f" — {message}" if message else ""))
        elif state == "finished":
            st.success(text + (f" — {message}" if message else ""))
        else:
            st.info(text)
        if state in ACTIVE or state == "stopped":
            fraction, doing = launcher.progress(status)
            if fraction is not None:
                st.progress(fraction, text=md(doing))
            elif doing:
                st.caption(md(doing))
    with right:
        if state in ACTIVE:
            st.button("Stop", key=f"{key}_stop_{folder.name}", on_click=launcher.stop, args=(folder,),
                      help="Ask the process to stop; what it wrote so far stays.")
    log = launcher.readable_log(launcher.log_text(folder))
    if log:
        with st.expander("Log", expanded=state == "failed"):
            st.code(log[-4000:], language=None)


def loss_figure(train, evals, smoothing: float = 0.9, log_y: bool = False) -> go.Figure:
    """Train loss per step (raw, faint, and smoothed by an EMA of weight `smoothing`, 0 = raw only) and
    validation loss at each evaluation; a log-scale y on request (late progress is small next to the start)."""
    fig = go.Figure()
    if len(train):
        fig.add_scatter(x=train["step"], y=train["loss"], mode="lines", name="train loss (each step)",
                        line={"color": "rgba(31,119,180,0.25)" if smoothing > 0 else "#1f77b4",
                              "width": 1 if smoothing > 0 else 2})
        if smoothing > 0:
            fig.add_scatter(x=train["step"], y=training.smooth(train["loss"], smoothing), mode="lines",
                            name=f"train loss (smoothed {smoothing:.2f})", line={"color": "#1f77b4", "width": 2})
    if len(evals):
        fig.add_scatter(x=evals["step"], y=evals["val_loss"], mode="lines+markers", name="validation loss",
                        line={"color": "#d62728", "width": 2})
    fig.update_layout(height=320, margin={"t": 30, "b": 10}, xaxis_title="step", yaxis_title="cross-entropy loss",
                      legend={"orientation": "h", "y": 1.15})
    if log_y:
        fig.update_yaxes(type="log", title="cross-entropy loss (log scale)")
    return fig


def accuracy_figure(evals) -> go.Figure:
    fig = go.Figure()
    if len(evals):
        fig.add_scatter(x=evals["step"], y=evals["val_acc"], mode="lines+markers", name="validation accuracy",
                        line={"color": "#2ca02c", "width": 2})
    fig.update_layout(height=320, margin={"t": 30, "b": 10}, xaxis_title="step", yaxis_title="validation accuracy",
                      yaxis_range=[0, 1.02], showlegend=False)
    return fig


def run_charts(folder: Path, key: str, controls: str = "bl_loss") -> None:
    """Loss and accuracy curves; the smoothing and log-scale controls live under session keys `controls`_*,
    the same for every run, so a choice holds while one switches runs."""
    train, evals = runs.metrics(folder)
    if train.empty and evals.empty:
        st.caption("No steps yet: the curves appear after the first evaluation.")
        return
    a, b, _ = st.columns([2, 1, 3], vertical_alignment="bottom")  # above both charts: they stay level
    smoothing = a.slider("Smoothing", 0.0, 0.99, 0.9, 0.01, key=f"{controls}_smoothing",
                         help="Of the training loss: an exponential moving average; each point keeps this share "
                              "of the one before. 0 = none (each step as measured).")
    log_y = b.toggle("Log scale", key=f"{controls}_log", help="A log-scale loss axis: later, smaller gains show.")
    left, right = st.columns(2)
    left.plotly_chart(loss_figure(train, evals, smoothing, log_y), width="stretch", key=f"{key}_loss")
    right.plotly_chart(accuracy_figure(evals), width="stretch", key=f"{key}_acc")
    if len(evals):
        last = evals.iloc[-1]
        st.caption(f"Last evaluation at step {int(last['step']):,} (epoch {last['epoch']:.2f}): validation loss "
                   f"{last['val_loss']:.4f}, accuracy {last['val_acc']:.1%}, on the whole validation set.")


def fit_verdict(folder: Path) -> None:
    """After a run: does it underfit, overfit or fit, and the recipe's next step (baselines/fit.py)."""
    judged = fit.of_run(folder)
    if judged["fit"] == "unknown":
        return
    box = st.success if judged["fit"] == "fits" else st.warning
    box(f"**The model {judged['fit']}**: {md(judged['why'])}.\n\n**Next:** {md(judged['next'])}")


def heatmap_figure(matrix) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=[str(s) for s in matrix.columns],
                               y=[html(i) for i in matrix.index], zmin=0, zmax=1, colorscale="RdYlGn",
                               colorbar={"title": "p(true)"},
                               hovertemplate="%{y}<br>step %{x}<br>p(true class) %{z:.2f}<extra></extra>"))
    fig.update_layout(height=max(260, 24 * len(matrix) + 90), margin={"t": 10, "b": 10},
                      xaxis={"title": "evaluation (step)", "type": "category"},
                      yaxis={"title": "", "autorange": "reversed"})
    return fig


def fixed_batch(ds, folder: Path, key: str, thumbnails) -> None:
    """The fixed validation images with their probability bars at the latest evaluation, and the heatmap of
    each image's probability of its true class, evaluation after evaluation."""
    fixed = runs.read_json(folder, "fixed_batch.json", {}) or {}
    predictions = runs.read_jsonl(folder / "fixed_predictions.jsonl")
    steps = list(dict.fromkeys(r["step"] for r in predictions))
    latest = training.probabilities_at(fixed, predictions, step_scrubber(steps, key))
    if not latest:
        st.caption("The fixed batch appears with the first evaluation.")
        return
    right = sum(x["correct"] for x in latest)
    st.caption(f"At step {latest[0]['step']:,}: {right} of {len(latest)} right. Under each image: its true label, "
               "then the model's three most likely classes (✓ = the true class).")
    thumbs = thumbnails([x["path"] for x in latest])
    columns = 8
    cells = st.columns(columns)
    for i, item in enumerate(latest):
        with cells[i % columns]:
            data = thumbs.get(item["path"])
            if data is not None:
                st.image(data, width=training.fit_width(data, 72))
            st.markdown(f"**#{i + 1} {md(item['label'])}** " + (":green[right]" if item["correct"] else ":red[wrong]"))
            for bar in item["bars"]:
                st.progress(bar["p"], text=f"{'✓ ' if bar['true'] else ''}{md(bar['class'])} {bar['p']:.0%}")
            if not any(b["true"] for b in item["bars"]):
                st.caption(f"✓ {md(item['label'])}: {item['p_true']:.0%}")
    matrix = training.fixed_batch_heatmap(fixed, predictions)
    st.markdown("**Probability of the true class, evaluation after evaluation** (green = the model gives the true "
                f"class a high probability, red = a low one; a model that knows nothing gives every class about "
                f"1/{max(1, len(fixed.get('classes', [])))})")
    st.plotly_chart(heatmap_figure(matrix), width="stretch", key=f"{key}_heatmap")


def step_scrubber(steps: list, key: str):
    """A slider over the evaluations that recorded the fixed batch; it follows the newest one until moved.
    The person's choice lives in plain session state, set only when they move the slider, and the slider is
    a new widget whenever an evaluation is added: a slider's value travels as a position among its options,
    and a position the browser sent before the options grew (while the page refreshes itself during a run)
    would otherwise pin the slider to an old step, as if the person had moved it."""
    if len(steps) < 2:
        return None
    pinned = f"{key}_step_pinned"
    shown = training.step_shown(st.session_state.get(pinned), steps)
    slider = f"{key}_step::{len(steps)}"

    def pin():
        st.session_state[pinned] = training.step_pinned(st.session_state[slider], steps)

    return st.select_slider("Evaluation step", steps, value=shown, key=slider, on_change=pin,
                            format_func=lambda s: f"{s:,}",
                            help="Scrub back through training: the fixed batch's predictions at each evaluation.")


COMPARE_COLUMNS = {
    "train_loss": st.column_config.NumberColumn("train loss", format="%.3f", help="At the last evaluation"),
    "val_loss": st.column_config.NumberColumn("val loss", format="%.3f", help="At the last evaluation"),
    "val_acc": st.column_config.NumberColumn("val acc", format="percent", help="At the last evaluation"),
    "gap": st.column_config.NumberColumn("gap", format="%.3f", help="validation loss − train loss"),
    "best_val_loss": st.column_config.NumberColumn("best val loss", format="%.3f"),
    "best_step": st.column_config.NumberColumn("at step", help="The step of the best validation loss"),
    "name": st.column_config.TextColumn("name"),
    "note": st.column_config.TextColumn("note", width="large"),
}


def report_card(folder: Path, key: str) -> None:
    """checks.json as a report card: one box per verdict, with its evidence; what enters the net as image pairs."""
    verdicts = runs.read_json(folder, "checks.json", []) or []
    if not verdicts:
        st.caption("The verdicts appear here one by one as the checks finish.")
        return
    passed = sum(bool(v.get("passed")) for v in verdicts)
    text = f"Report card: {passed} of {len(verdicts)} checks passed"
    (st.success if passed == len(verdicts) else st.error)(text)
    config = runs.read_json(folder, "config.json", {}) or {}
    knobs = config.get("train") or {}
    if knobs:
        length = f"at most {knobs['max_steps']:,} steps" if knobs.get("max_steps") else f"{knobs.get('epochs')} epochs"
        st.caption(f"These checks trained {knobs.get('model')} at {config.get('input_size')} px for {length}. Too "
                   "few steps can fail *training loss decreases* and *beats the input-independent baseline* on "
                   "their own: train longer before believing those two.")
    for v in verdicts:
        with st.container(border=True):
            badge = ":green-badge[PASS]" if v.get("passed") else ":red-badge[FAIL]"
            st.markdown(f"{badge} **{v.get('title', v.get('name'))}**")
            left, right = st.columns(2)
            left.markdown(f"**Measured:** {v.get('measured', '')}")
            right.markdown(f"**Expected:** {v.get('expected', '')}")
            st.caption(v.get("explanation", ""))
            if v.get("passed"):
                st.caption(f"If it fails: {v.get('todo', '')}")
            else:
                st.warning(f"What to do: {v.get('todo', '')}")
            if v.get("name") == "what_enters":
                what_enters(folder, v.get("evidence") or {}, key)
            elif v.get("name") == "overfit_one_batch" and (v.get("evidence") or {}).get("examples"):
                st.dataframe(v["evidence"]["examples"], hide_index=True, width="stretch")


def what_enters(folder: Path, evidence: dict, key: str) -> None:
    pairs = training.what_enters_pairs(folder)
    samples = evidence.get("samples", [])
    if pairs:
        st.markdown("Each pair: **the file** as a person sees it, then **what the network is fed** (the exact tensor, "
                    "decoded back to an image).")
        cells = st.columns(4)
        for i, (file_png, network_png) in enumerate(pairs):
            with cells[i % 4]:
                a, b = st.columns(2)
                a.image(str(file_png), width=80, caption="file")
                b.image(str(network_png), width=80, caption="network")
                if i < len(samples):
                    s = samples[i]
                    flag = f" · :red[{s['flag']}]" if s.get("flag") else ""
                    st.caption(f"{md(s.get('label', ''))}: difference {s.get('difference')}{flag}",
                               help=md(s.get("path")))
    stats = evidence.get("stats")
    if stats:
        st.markdown(f"Tensor: shape `{stats.get('shape')}`, dtype `{stats.get('dtype')}`, per-channel mean "
                    f"`{stats.get('channel_mean')}`, std `{stats.get('channel_std')}`, range "
                    f"[{stats.get('min')}, {stats.get('max')}]; normalised with the train mean "
                    f"`{stats.get('normalise_mean')}` and std `{stats.get('normalise_std')}`.")
